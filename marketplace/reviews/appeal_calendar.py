"""The appeal window in each author's calendar feed: while a challenge's provisional scores are released and the
window is open, the authors of its current stage's submitted proposals see when appeals close."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from marketplace.challenges.models import Challenge
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.proposals.models import Proposal, ProposalMember
from marketplace.reviews.models import ScoreRelease


def appeal_window_events(user, locale: str) -> list:
    from marketplace.reminders.calendar import CalendarEvent, challenge_link

    rows = db.session.execute(
        select(Challenge, ScoreRelease.window_closes_at).join(ScoreRelease, ScoreRelease.challenge_id == Challenge.id)
        .where(ScoreRelease.window_closes_at > utcnow(), Challenge.id.in_(
            select(Proposal.challenge_id).join(ProposalMember, ProposalMember.proposal_id == Proposal.id)
            .where(Proposal.stage_id == Challenge.current_stage_id, Proposal.status == "submitted",
                   ProposalMember.user_id == user.id, ProposalMember.status == "accepted")))).all()
    return [CalendarEvent(uid=f"challenge-{challenge.id}-appeals-{user.id}", start=closes,
                          summary=_("Appeals close: %(title)s", title=challenge.localized("title", locale)[1]),
                          url=challenge_link(challenge.id)) for challenge, closes in rows]
