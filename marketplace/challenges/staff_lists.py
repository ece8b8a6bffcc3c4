"""Staff lists of challenges: the organization's challenges, the clearance queue (the funding queue is
payments' own page)."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from marketplace.challenges.models import Challenge
from marketplace.challenges.staff_routes import bp
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.labels import CHALLENGE_STATUS_LABELS
from marketplace.permissions import Role

# --- lists for staff -------------------------------------------------------------------------------

def organizations_where(role: Role | None, refusal) -> set[int]:
    """The user's organizations (where they hold `role`, if given); a 404 with `refusal` when there are none."""
    org_ids = current_user.organization_ids(role) if role else current_user.organization_ids()
    if not org_ids:
        raise NotFound(refusal)
    return org_ids


def with_relations(statement):
    return statement.options(selectinload(Challenge.organization), selectinload(Challenge.author))


@bp.get("/staff/challenges")
@login_required
def staff_list():
    """Every challenge of the organizations where the user is staff, newest first."""
    org_ids = organizations_where(None, _l("This page is for the staff of an innovation center."))
    wanted = request.args.get("status", "")
    statement = select(Challenge).where(Challenge.organization_id.in_(org_ids))
    if wanted in CHALLENGE_STATUS_LABELS:
        statement = statement.where(Challenge.status == wanted)
    challenges = db.session.scalars(with_relations(statement).order_by(Challenge.updated_at.desc()).limit(200)).all()
    counts = dict(db.session.execute(select(Challenge.status, func.count()).where(
        Challenge.organization_id.in_(org_ids)).group_by(Challenge.status)).all())
    return render_template("challenges/staff/list.html", challenges=challenges, counts=counts, wanted=wanted,
                           status_labels=CHALLENGE_STATUS_LABELS,
                           can_create=bool(current_user.organization_ids(Role.CENTER_MANAGER)))


@bp.get("/staff/clearance")
@login_required
def clearance_queue():
    """Challenges waiting for a security officer of the user's organizations, oldest request first."""
    org_ids = organizations_where(Role.SECURITY_OFFICER, _l("This page is for security officers."))
    challenges = db.session.scalars(with_relations(select(Challenge).where(
        Challenge.organization_id.in_(org_ids), Challenge.status == "in_clearance")).order_by(
        Challenge.updated_at)).all()
    return render_template("challenges/staff/clearance_queue.html", challenges=challenges)
