"""Export downloads for signed-in staff in the browser (the same exports as the API, by session cookie)."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user, login_required

from marketplace.challenges.models import Challenge
from marketplace.exports import services
from marketplace.extensions import db

bp = Blueprint("exports", __name__)


KINDS = "<any(proposals, ranking, payouts, analytics):kind>"


@bp.get(f"/staff/exports/challenges/<int:challenge_id>/{KINDS}.<any(csv, xlsx):fmt>")
@login_required
def challenge_export(challenge_id: int, kind: str, fmt: str):
    tables = services.challenge_tables(kind, db.session.get(Challenge, challenge_id), current_user)
    return services.response(tables, fmt, f"challenge-{challenge_id}-{kind}", actor=current_user,
                             entity=("challenge", challenge_id))


@bp.get("/staff/exports/programs/<int:program_id>/analytics.<any(csv, xlsx):fmt>")
@login_required
def program_export(program_id: int, fmt: str):
    from marketplace.programs.models import Program

    tables = services.program_tables(db.session.get(Program, program_id), current_user)
    return services.response(tables, fmt, f"program-{program_id}-analytics", actor=current_user,
                             entity=("program", program_id))


@bp.get("/staff/exports/platform/analytics.<any(csv, xlsx):fmt>")
@login_required
def platform_export(fmt: str):
    tables = services.platform_tables(current_user)
    return services.response(tables, fmt, "platform-analytics", actor=current_user, entity=("platform", None))
