"""Where a proposal stands for its authors, in one word: the state the dashboard and the API show.

draft, submitted (the challenge still takes proposals), under_review (closed or judging), awarded
(with the amount), paid, not_awarded (the decision went to others; the feedback is on the proposal
page), withdrawn, cancelled (the challenge was cancelled); in a challenge with stages, a proposal of a decided
stage either advanced (with its milestone award, if any) or did not (not_advanced: the feedback is ready).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.money import Money
from marketplace.proposals.models import Proposal

UNDER_REVIEW_STATES = frozenset({"closed", "judging"})
DECIDED_STATES = frozenset({"awarded", "no_award"})


@dataclass(frozen=True)
class Journey:
    state: str
    award: Money | None = None

    def as_dict(self) -> dict:
        return {"state": self.state, "award": self.award.as_dict() if self.award else None}


def journey_of(proposal: Proposal) -> Journey:
    """The one rule."""
    award = proposal.award
    challenge_status = proposal.challenge.status
    if proposal.status in ("draft", "withdrawn"):
        return Journey(proposal.status)
    if challenge_status == "cancelled":
        return Journey("cancelled")
    if proposal.stage_decided:
        money = Money(award.amount_minor, award.currency) if award is not None else None
        return Journey("advanced", money) if proposal.advanced_at else Journey("not_advanced")
    if award is not None and award.status != "cancelled":
        return Journey("paid" if award.status == "paid" else "awarded", Money(award.amount_minor, award.currency))
    if challenge_status in DECIDED_STATES:
        return Journey("not_awarded")
    if challenge_status in UNDER_REVIEW_STATES:
        return Journey("under_review")
    return Journey("submitted")


def journeys(proposals: Iterable[Proposal]) -> dict[int, Journey]:
    """Each proposal's journey, with their awards loaded in one query."""
    proposals = list(proposals)
    db.session.scalars(select(Proposal).where(Proposal.id.in_([p.id for p in proposals] or [-1]))
                       .options(selectinload(Proposal.award))).all()  # fills `award` of the proposals given
    return {p.id: journey_of(p) for p in proposals}
