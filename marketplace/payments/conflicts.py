"""Self-dealing: the one home of "this finance officer may not release this award".

A finance officer may not request, approve or confirm the payout of an award paid to themselves,
to a team-mate (an author of the winning proposal) or to anyone sharing an organization with them.
The release services, the batch job, the pages (buttons hidden, reason shown) and the API ask it.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.awards.models import Award
from marketplace.errors import Forbidden
from marketplace.extensions import db


def _organizations(user) -> set[int]:
    return {grant.organization_id for grant in user.roles if grant.organization_id}


def _team_mates(user_id: int) -> set[int]:
    """Everyone who shares a proposal (any challenge) with `user_id`, as its lead or a member."""
    from marketplace.proposals.models import Proposal, ProposalMember

    mine = select(Proposal.id).where(Proposal.lead_id == user_id).union(
        select(ProposalMember.proposal_id).where(ProposalMember.user_id == user_id)).subquery()
    leads = select(Proposal.lead_id).where(Proposal.id.in_(select(mine.c[0])))
    members = select(ProposalMember.user_id).where(ProposalMember.proposal_id.in_(select(mine.c[0])),
                                                   ProposalMember.user_id.is_not(None))
    return set(db.session.scalars(leads.union(members))) - {user_id}


def finance_conflict(award: Award, user) -> str | None:
    """Why `user` may not release this award's money (a conflict of interest), or None."""
    if not user or not getattr(user, "id", None):
        return None
    recipients = [r.user for r in award.recipients]
    if any(r.id == user.id for r in recipients):
        return str(_l("You are paid by this award: another finance officer must release it."))
    if _team_mates(user.id) & {r.id for r in recipients}:
        return str(_l("You are on a team with a recipient of this award: another finance officer must release it."))
    mine = _organizations(user)
    if any(mine & _organizations(r) for r in recipients):
        return str(_l("A recipient of this award shares an organization with you: "
                      "another finance officer must release it."))
    return None


def require_no_conflict(award: Award, user) -> None:
    reason = finance_conflict(award, user)
    if reason:
        raise Forbidden(reason, errors={"conflict": [reason]})
