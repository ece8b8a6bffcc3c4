"""Provisional scores: a challenge's appeal window and the release of each solver's own scores.

A challenge takes appeals when it has an appeal window (`Challenge.appeals_window_days`, default 3 days). During
judging, once every assigned review is in, a center manager releases the provisional scores; each solver is told,
and may appeal (`appeals`) until the window closes.

    check_window_days(value) -> int | None
    set_window(challenge, actor, days) -> Challenge   (before the release; None turns appeals off)
    release(challenge, actor) -> ScoreRelease
    release_of(challenge_id) / require_release(challenge) -> ScoreRelease
    numbered_reviews(proposal_id) -> reviews in the order authors number them
    notify_authors(challenge, proposal, kind, **context)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.audit.services import record
from marketplace.challenges.models import Challenge
from marketplace.db import lock_for_update, utcnow
from marketplace.errors import Conflict, Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.mail.services import queue_mail
from marketplace.proposals.models import Proposal
from marketplace.reviews.models import Review, ScoreRelease

DEFAULT_WINDOW_DAYS = 3
MAX_WINDOW_DAYS = 30

SCORES_RELEASED = "provisional_scores_released"



# --- the challenge's setting ---------------------------------------------------------------------------

def check_window_days(value) -> int | None:
    """The appeal window of a challenge (`appeals: {"window_days": N}`); None turns appeals off."""
    if value is None:
        return None
    days = value.get("window_days", DEFAULT_WINDOW_DAYS) if isinstance(value, dict) else value
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_WINDOW_DAYS:
        message = _l("The appeal window is a whole number of days from 1 to %(n)d.", n=MAX_WINDOW_DAYS)
        raise ValidationFailed(message, errors={"appeals.window_days": [message]})
    return days


def set_window(challenge: Challenge, actor, days) -> Challenge:
    """Change the appeal window before the scores are released (None: no appeals); creating or editing a draft
    through the challenge services sets it too, with the same check."""
    if not challenge.can_manage(actor):
        raise Forbidden(_l("Only center managers of this organization can do this."))
    lock_for_update(db.session, challenge)
    if release_of(challenge.id) is not None:
        raise Conflict(_l("The provisional scores were released; the appeal window can no longer change."))
    if challenge.status in ("awarded", "no_award", "cancelled"):
        raise Conflict(_l("The appeal window can no longer change (this challenge is %(state)s).",
                          state=challenge.status))
    before = challenge.appeals_window_days
    challenge.appeals_window_days = check_window_days(days)
    db.session.flush()
    record("appeals.window_set", "challenge", challenge.id, actor=actor, window_days=challenge.appeals_window_days,
           before=before)
    return challenge


def release_of(challenge_id: int) -> ScoreRelease | None:
    return db.session.get(ScoreRelease, challenge_id)


# --- releasing the provisional scores --------------------------------------------------------------------

def release(challenge: Challenge, actor, *, now: datetime | None = None) -> ScoreRelease:
    from marketplace.awards.decisions import outstanding_reviews

    if not challenge.can_manage(actor):
        raise Forbidden(_l("Only center managers of this organization can do this."))
    lock_for_update(db.session, challenge)
    now = now or utcnow()
    if challenge.appeals_window_days is None:
        raise Conflict(_l("This challenge takes no appeals; set an appeal window first."))
    if challenge.status != "judging":
        raise Conflict(_l("Provisional scores are released during judging (this challenge is %(state)s).",
                          state=challenge.status))
    if release_of(challenge.id) is not None:
        raise Conflict(_l("The provisional scores of this challenge were released already."))
    if not scoring_started(challenge):
        raise Conflict(_l("No review has been submitted yet."))
    outstanding = outstanding_reviews(challenge, [])
    if outstanding:
        raise Conflict(_l("Wait until every assigned review is in (%(num)d outstanding).", num=outstanding))
    row = ScoreRelease(challenge_id=challenge.id, released_by_id=actor.id, released_at=now,
                       window_closes_at=now + timedelta(days=challenge.appeals_window_days))
    db.session.add(row)
    db.session.flush()
    record("appeals.scores_released", "challenge", challenge.id, actor=actor,
           window_closes_at=row.window_closes_at.isoformat(), window_days=challenge.appeals_window_days)
    _notify_released(challenge, row)
    return row


def scoring_started(challenge: Challenge) -> bool:
    return db.session.scalar(select(Review.id).where(Review.challenge_id == challenge.id,
                                                     Review.status == "submitted").limit(1)) is not None


def _authors(proposal: Proposal) -> list[User]:
    return list(db.session.scalars(select(User).where(User.id.in_(proposal.author_ids())).order_by(User.id)))


def notify_authors(challenge: Challenge, proposal: Proposal, kind: str, **context) -> None:
    from marketplace.solvers import notifications

    link = f"{current_app.config['PUBLIC_URL'].rstrip('/')}/proposals/{proposal.id}/scores"
    payload = {"challenge_id": challenge.id, "proposal_id": proposal.id, "title": challenge.text_map("title"),
               "default_locale": challenge.default_locale}
    for user in _authors(proposal):
        notifications.add(user.id, kind, payload, mailed=True)
        _locale, title = challenge.localized("title", user.locale)
        queue_mail(user.email, kind, locale=user.locale, user=user, challenge_title=title,
                   proposal_title=proposal.title, link=link, **context)


def _notify_released(challenge: Challenge, row: ScoreRelease) -> None:
    reviewed = select(Review.proposal_id).where(Review.challenge_id == challenge.id, Review.status == "submitted")
    for proposal in db.session.scalars(select(Proposal).where(Proposal.id.in_(reviewed)).order_by(Proposal.id)):
        notify_authors(challenge, proposal, SCORES_RELEASED, closes_at=row.window_closes_at)


def numbered_reviews(proposal_id: int) -> list[Review]:
    """The proposal's submitted reviews in the order the authors number them (by pseudonym: says nothing)."""
    return list(db.session.scalars(select(Review).where(Review.proposal_id == proposal_id,
                                                        Review.status == "submitted")
                                   .order_by(Review.pseudonym, Review.id)))


def require_release(challenge: Challenge) -> ScoreRelease:
    row = release_of(challenge.id)
    if row is None:
        raise Conflict(_l("The center has not released provisional scores for this challenge."))
    return row
