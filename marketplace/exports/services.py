"""Which export a user may take, and the streamed response that carries it.

    table_for(kind, challenge, user) -> Table | list[Table]    NotFound for anyone not allowed (404, never 403)
    response(tables, fmt, name) -> Response                     streamed CSV or XLSX

Proposals and rankings name solvers: center managers (and platform admins) only. Payouts: managers and
finance officers. Analytics figures: whoever sees the analytics page.
"""

from __future__ import annotations

from flask import Response, stream_with_context
from flask_babel import lazy_gettext as _l

from marketplace.analytics import access
from marketplace.audit.services import record_read
from marketplace.errors import NotFound, ValidationFailed
from marketplace.exports import sources
from marketplace.exports.writers import CSV_MIMETYPE, XLSX_MIMETYPE, csv_chunks, xlsx_chunks
from marketplace.permissions import Role

FORMATS = ("csv", "xlsx")
CHALLENGE_EXPORTS = ("proposals", "ranking", "payouts", "analytics")
ROLES = {
    "proposals": (Role.CENTER_MANAGER,),
    "ranking": (Role.CENTER_MANAGER,),
    "payouts": (Role.CENTER_MANAGER, Role.FINANCE_OFFICER),
}


def may_export(user, kind: str, organization_id: int) -> bool:
    if not (user and user.is_authenticated):
        return False
    if kind == "analytics":
        return access.can_see(user, organization_id)
    return user.is_admin or any(user.has_role(role, organization_id) for role in ROLES[kind])


def challenge_tables(kind: str, challenge, user) -> list[sources.Table]:
    """The tables of export `kind` for `challenge`, if `user` may take it (else 404, as if it did not exist)."""
    if kind not in CHALLENGE_EXPORTS or challenge is None or not may_export(user, kind, challenge.organization_id):
        raise NotFound(_l("No such export."))
    if kind == "analytics":
        from marketplace.analytics.figures import Scope, figures_for

        return sources.figures(f"challenge-{challenge.id}-analytics", figures_for(Scope.challenge(challenge)))
    return [getattr(sources, kind)(challenge)]


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValidationFailed(_l("Choose csv or xlsx."), errors={"format": [_l("Choose csv or xlsx.")]})
    return fmt


def response(tables: list[sources.Table], fmt: str, name: str, *, actor, entity: tuple[str, int | None]) -> Response:
    """Stream the export; the audit log says who took what (exports carry personal data)."""
    check_format(fmt)
    record_read("export.downloaded", entity[0], entity[1], actor=actor, export=name, format=fmt)
    if fmt == "csv":
        table = tables[0] if len(tables) == 1 else sources.long_format(name, tables)
        body = stream_with_context(csv_chunks(table.header, table.rows()))
        mimetype = CSV_MIMETYPE
    else:
        body = stream_with_context(xlsx_chunks([(_sheet_title(t.name, name), t.header, t.rows()) for t in tables]))
        mimetype = XLSX_MIMETYPE
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"', "Cache-Control": "no-store"})


def _sheet_title(table_name: str, export_name: str) -> str:
    """"challenge-3-analytics-views" in export "challenge-3-analytics" -> "views";
    "challenge-3-proposals" -> "proposals"."""
    if table_name.startswith(export_name + "-"):
        return table_name[len(export_name) + 1:][:31]
    return table_name.rsplit("-", 1)[-1][:31]


def program_tables(program, user) -> list[sources.Table]:
    from marketplace.analytics.figures import Scope, figures_for

    if program is None or not access.can_see(user, program.organization_id):
        raise NotFound(_l("No such export."))
    return sources.figures(f"program-{program.id}-analytics", figures_for(Scope.program(program)))


def platform_tables(user) -> list[sources.Table]:
    from marketplace.analytics import cache
    from marketplace.analytics.figures import Scope, figures_for

    if not (user and user.is_authenticated and user.is_admin):
        raise NotFound(_l("No such export."))
    figures, _computed_at = cache.cached("platform", lambda: figures_for(Scope.platform()))  # the page's snapshot
    return sources.figures("platform-analytics", figures)
