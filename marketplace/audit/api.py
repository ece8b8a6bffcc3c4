from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import select

from marketplace.api import PageArgs, login_required_api, page_of, problem
from marketplace.audit.models import AuditEntry
from marketplace.audit.services import verify_chain
from marketplace.extensions import db
from marketplace.permissions import Role

blp = Blueprint("audit_api", __name__, url_prefix="/api/v1", description="Audit log")


class AuditQuery(PageArgs):
    # At most 18 digits: larger ids cannot exist and overflow SQLite's 64-bit integers.
    entity = ma.fields.String(validate=ma.validate.Regexp(r"^[a-z_]{1,40}(:\d{1,18})?$"))


class AuditEntryOut(ma.Schema):
    id = ma.fields.Integer()
    created_at = ma.fields.AwareDateTime()
    actor_id = ma.fields.Integer(allow_none=True)
    action = ma.fields.String()
    entity = ma.fields.String()
    data = ma.fields.Dict()
    ip_address = ma.fields.String(allow_none=True)
    prev_hash = ma.fields.String()
    hash = ma.fields.String()


def _may_read_audit() -> bool:
    return current_user.has_role(Role.ADMIN) or current_user.has_role(Role.SECURITY_OFFICER)


@blp.get("/audit")
@blp.arguments(AuditQuery, location="query")
@login_required_api
def list_entries(args):
    if not _may_read_audit():
        return problem(403, "Forbidden", str(_l("Only administrators and security officers can read the audit log.")))
    statement = select(AuditEntry).order_by(AuditEntry.id.desc())
    if args.get("entity"):
        kind, _sep, ident = args["entity"].partition(":")
        statement = statement.where(AuditEntry.entity_type == kind)
        if ident:
            statement = statement.where(AuditEntry.entity_id == int(ident))
    return page_of(db.session, statement, args["page"], args["per_page"], AuditEntryOut().dump)


@blp.get("/audit/verify")
@login_required_api
def verify():
    if not _may_read_audit():
        return problem(403, "Forbidden", str(_l("Only administrators and security officers can read the audit log.")))
    report = verify_chain()
    body = {"ok": report.ok, "entries": report.entries}
    if not report.ok:
        body["first_bad_id"] = report.first_bad_id
    return body
