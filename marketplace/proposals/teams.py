"""A proposal's team: inviting co-authors, answering an invitation, and agreeing the award shares.

Services flush, never commit; every change is audited.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from marketplace.accounts.models import User, user_by_email
from marketplace.audit.services import record
from marketplace.challenges.models import Challenge
from marketplace.errors import Conflict, NotFound
from marketplace.extensions import db
from marketplace.mail.services import queue_mail
from marketplace.proposals.guards import (
    MAX_TEAM,
    active_proposal_of,
    fail,
    require_author,
    require_editable,
    require_lead,
    require_may_take_part,
)
from marketplace.proposals.models import Proposal, ProposalMember


def resolve_invitees(challenge: Challenge, lead, emails: list[str]) -> list[User]:
    if len(emails) > MAX_TEAM:
        raise fail("team_emails", _l("A team has at most %(n)d co-authors.", n=MAX_TEAM))
    users = []
    for email in dict.fromkeys(e.strip().lower() for e in emails if e and e.strip()):
        user = user_by_email(email)
        if user is None:
            raise fail(
                "team_emails", _l("No InnoBridge account uses %(email)s; ask them to register first.", email=email)
            )
        if user.id == lead.id:
            continue
        problem = challenge.participation_refusal(user)
        if problem:
            raise fail("team_emails", problem)
        users.append(user)
    return users


def invite_member(proposal: Proposal, lead, invitee: User) -> ProposalMember:
    if len(proposal.members) > MAX_TEAM:
        raise fail("email", _l("A team has at most %(n)d co-authors.", n=MAX_TEAM))
    if any(m.email == invitee.email for m in proposal.members):
        raise Conflict(_l("%(email)s is already on this team.", email=invitee.email))
    member = ProposalMember(user_id=invitee.id, email=invitee.email, role="coauthor", status="invited")
    proposal.members.append(member)
    db.session.flush()
    record("proposal.member_invited", "proposal", proposal.id, actor=lead, member=invitee.id)
    _locale, title = proposal.challenge.localized("title", invitee.locale)
    link = current_app.config["PUBLIC_URL"].rstrip("/") + f"/proposals/{proposal.id}"
    queue_mail(
        invitee.email,
        "team_invitation",
        locale=invitee.locale,
        user=invitee,
        lead=lead,
        challenge_title=title,
        proposal=proposal,
        link=link,
    )
    return member


def invite(proposal: Proposal, lead, email: str) -> ProposalMember:
    require_lead(proposal, lead)
    require_editable(proposal)
    invitees = resolve_invitees(proposal.challenge, lead, [email])
    if not invitees:
        raise fail("email", _l("You lead this proposal already."))
    return invite_member(proposal, lead, invitees[0])


def respond_to_invitation(proposal: Proposal, user, *, accept: bool) -> ProposalMember:
    member = next((m for m in proposal.members if m.user_id == user.id and m.status == "invited"), None)
    if member is None:
        raise NotFound(_l("No such invitation."))
    if accept:
        require_may_take_part(proposal.challenge, user)
        other = active_proposal_of(proposal.challenge_id, user.id)
        if other and other.id != proposal.id:
            raise Conflict(_l("You are already on another active proposal for this challenge."))
    member.status = "accepted" if accept else "declined"
    reset_share_agreement(proposal)
    record("proposal.invitation_" + member.status, "proposal", proposal.id, actor=user)
    return member


def reset_share_agreement(proposal: Proposal) -> None:
    for member in proposal.members:
        member.share_agreed = False


def set_shares(proposal: Proposal, lead, shares: dict[int, object]) -> Proposal:
    """The lead proposes award shares (percent) for the accepted members; each must agree again."""
    from decimal import Decimal, InvalidOperation

    require_lead(proposal, lead)
    accepted = {m.user_id: m for m in proposal.members if m.status == "accepted"}
    if set(shares) != set(accepted):
        raise fail("shares", _l("Give a share for every accepted team member, and only for them."))
    try:
        values = {uid: Decimal(str(pct)) for uid, pct in shares.items()}
    except InvalidOperation as error:
        raise fail("shares", _l("Shares are percentages.")) from error
    if any(not v.is_finite() or v <= 0 or v > 100 or v != v.quantize(Decimal("0.01")) for v in values.values()):
        raise fail("shares", _l("Each share lies between 0.01 and 100."))
    if sum(values.values()) != 100:
        raise fail("shares", _l("The shares must add up to 100."))
    for uid, value in values.items():
        accepted[uid].share_pct = value
    reset_share_agreement(proposal)
    accepted[lead.id].share_agreed = True
    record(
        "proposal.shares_proposed",
        "proposal",
        proposal.id,
        actor=lead,
        shares={str(k): str(v) for k, v in values.items()},
    )
    return proposal


def agree_to_shares(proposal: Proposal, user) -> ProposalMember:
    require_author(proposal, user)
    member = next(m for m in proposal.members if m.user_id == user.id)
    if member.share_pct is None:
        raise Conflict(_l("The lead has not proposed shares yet."))
    member.share_agreed = True
    record("proposal.shares_agreed", "proposal", proposal.id, actor=user, share=str(member.share_pct))
    return member


def check_team_ready(proposal: Proposal) -> None:
    accepted = [m for m in proposal.members if m.status == "accepted"]
    if len(accepted) > 1 and not all(m.share_agreed and m.share_pct is not None for m in accepted):
        raise Conflict(_l("Every team member must agree to the award shares before the team submits."))


def shares(proposal: Proposal) -> dict[int, object]:
    """Award shares by user id: the agreed split, or 100 % for a solver alone."""
    from decimal import Decimal

    accepted = [m for m in proposal.members if m.status == "accepted"]
    if len(accepted) == 1:
        return {accepted[0].user_id: Decimal(100)}
    return {m.user_id: m.share_pct for m in accepted}
