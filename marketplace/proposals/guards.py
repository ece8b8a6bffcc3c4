"""The guards of every proposal service: who may act on a proposal, until when, and what content is acceptable.

One home for the rules the create/edit/submit services (services.py), the team (teams.py) and the
files (attachments.py) all ask. Each raises the DomainError the pages and the API show.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.challenges import agreements
from marketplace.challenges.models import Challenge
from marketplace.content_locales import is_content_locale
from marketplace.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.proposals.models import Proposal, ProposalMember, proposal_window_refusal

MAX_TEAM = 10
LIMITS = {"title": 300, "abstract": 5000, "body": 200_000}
ACTIVE = ("draft", "submitted")


def fail(field: str, message) -> ValidationFailed:
    return ValidationFailed(message, errors={field: [message]})


def require_open_before_deadline(challenge: Challenge) -> None:
    refusal = proposal_window_refusal(challenge)
    if refusal:
        raise Conflict(refusal)


def require_editable(proposal: Proposal) -> None:
    """Content, files and team change only while `Proposal.is_editable` (the page asks the same rule)."""
    refusal = proposal.edit_refusal()
    if refusal:
        raise Conflict(refusal)


def require_may_take_part(challenge: Challenge, user) -> None:
    problem = challenge.participation_refusal(user)
    if problem:
        raise Forbidden(problem)
    if not agreements.has_accepted(challenge, user):
        raise Forbidden(
            _l("Accept the challenge agreement (version %(version)s) first.", version=challenge.agreement_version)
        )


def require_author(proposal: Proposal, user) -> None:
    if not proposal.is_author(user):
        raise NotFound(_l("No such proposal."))


def require_lead(proposal: Proposal, user) -> None:
    require_author(proposal, user)
    if proposal.lead_id != user.id:
        raise Forbidden(_l("Only the team lead can do this."))


def check_content(data: dict) -> None:
    for field, limit in LIMITS.items():
        if field in data and len(data[field] or "") > limit:
            raise fail(field, _l("Use at most %(n)d characters.", n=limit))
    if "title" in data and not (data["title"] or "").strip():
        raise fail("title", _l("Give your proposal a title."))
    if data.get("locale") is not None and not is_content_locale(data["locale"]):
        raise fail("locale", _l("Unknown locale."))


def active_proposal_of(challenge_id: int, user_id: int) -> Proposal | None:
    """The active proposal the user leads or belongs to in this challenge's current stage."""
    current_stage = select(Challenge.current_stage_id).where(Challenge.id == challenge_id).scalar_subquery()
    led = db.session.scalar(
        select(Proposal).where(
            Proposal.challenge_id == challenge_id, Proposal.stage_id == current_stage, Proposal.lead_id == user_id,
            Proposal.status.in_(ACTIVE)
        )
    )
    if led:
        return led
    return db.session.scalar(
        select(Proposal)
        .join(ProposalMember)
        .where(
            Proposal.challenge_id == challenge_id,
            Proposal.stage_id == current_stage,
            Proposal.status.in_(ACTIVE),
            ProposalMember.user_id == user_id,
            ProposalMember.status == "accepted",
        )
    )
