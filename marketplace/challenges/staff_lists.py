"""Staff lists of challenges: the organization's challenges, the clearance queue and the funding queue."""

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
from marketplace.money import Money
from marketplace.payments import funding
from marketplace.payments.models import FundingReceipt
from marketplace.permissions import Role

# --- lists for staff -------------------------------------------------------------------------------

def _organizations_where(role: Role | None, refusal) -> set[int]:
    """The user's organizations (where they hold `role`, if given); a 404 with `refusal` when there are none."""
    org_ids = current_user.organization_ids(role) if role else current_user.organization_ids()
    if not org_ids:
        raise NotFound(refusal)
    return org_ids


def _with_relations(statement):
    return statement.options(selectinload(Challenge.organization), selectinload(Challenge.author))


@bp.get("/staff/challenges")
@login_required
def staff_list():
    """Every challenge of the organizations where the user is staff, newest first."""
    org_ids = _organizations_where(None, _l("This page is for the staff of an innovation center."))
    wanted = request.args.get("status", "")
    statement = select(Challenge).where(Challenge.organization_id.in_(org_ids))
    if wanted in CHALLENGE_STATUS_LABELS:
        statement = statement.where(Challenge.status == wanted)
    challenges = db.session.scalars(_with_relations(statement).order_by(Challenge.updated_at.desc()).limit(200)).all()
    counts = dict(db.session.execute(select(Challenge.status, func.count()).where(
        Challenge.organization_id.in_(org_ids)).group_by(Challenge.status)).all())
    return render_template("challenges/staff/list.html", challenges=challenges, counts=counts, wanted=wanted,
                           status_labels=CHALLENGE_STATUS_LABELS,
                           can_create=bool(current_user.organization_ids(Role.CENTER_MANAGER)))


@bp.get("/staff/clearance")
@login_required
def clearance_queue():
    """Challenges waiting for a security officer of the user's organizations, oldest request first."""
    org_ids = _organizations_where(Role.SECURITY_OFFICER, _l("This page is for security officers."))
    challenges = db.session.scalars(_with_relations(select(Challenge).where(
        Challenge.organization_id.in_(org_ids), Challenge.status == "in_clearance")).order_by(
        Challenge.updated_at)).all()
    return render_template("challenges/staff/clearance_queue.html", challenges=challenges)


@bp.get("/staff/funding")
@login_required
def funding_queue():
    """Challenges of the user's organizations whose award is not yet held, with what has arrived."""
    org_ids = _organizations_where(Role.FINANCE_OFFICER, _l("This page is for finance officers."))
    challenges = db.session.scalars(_with_relations(select(Challenge).where(
        Challenge.organization_id.in_(org_ids), Challenge.status.in_(funding.FUNDABLE_STATES),
        Challenge.funded.is_(False))).order_by(Challenge.deadline)).all()
    received = dict(db.session.execute(
        select(FundingReceipt.challenge_id, func.sum(FundingReceipt.amount_minor))
        .where(FundingReceipt.challenge_id.in_([c.id for c in challenges] or [-1]))
        .group_by(FundingReceipt.challenge_id)).all())
    rows = [(c, Money(int(received.get(c.id, 0)), c.award_currency)) for c in challenges]
    return render_template("challenges/staff/funding_queue.html", rows=rows)
