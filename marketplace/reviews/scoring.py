"""Scoring: a reviewer's draft, submission and lock; what a reviewer may read; progress and reminders.

A review scores every criterion of the challenge from 1 to 10 against anchored descriptions (the weights were
fixed before the challenge opened), with a comment for the authors and a recommendation. Drafts are saved as
often as the reviewer likes; a submitted review is locked. Someone who is not the assigned reviewer gets 404 for
any review, so reviews are not even known to exist. Other reviews of the same proposal become readable, without
their reviewers' identities, only once the reviewer submitted their own.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.audit.services import record
from marketplace.challenges.models import Challenge, Criterion
from marketplace.db import lock_for_update, utcnow
from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.labels import RECOMMENDATION_LABELS
from marketplace.mail.services import queue_mail
from marketplace.reviews.models import ChallengeReviewer, Review, ReviewScore
from marketplace.reviews.pool import has_accepted, require_agreement

MIN_SCORE, MAX_SCORE = 1, 10
MAX_COMMENT = 20_000
REMIND_EVERY = timedelta(days=1)
ACTIVE_STATES = ("assigned", "draft")


# What each score means, the same for every criterion, so reviewers share one scale.
SCORE_ANCHORS = {
    1: _l("Fails the criterion: fundamentally flawed or does not address it."),
    2: _l("Very weak: major gaps and almost no supporting evidence."),
    3: _l("Weak: several serious weaknesses outweigh any strength."),
    4: _l("Below average: more weaknesses than strengths."),
    5: _l("Fair: strengths and weaknesses balance out."),
    6: _l("Good: clear strengths, some weaknesses that matter."),
    7: _l("Very good: strong, with only minor weaknesses."),
    8: _l("Excellent: strong on nearly every aspect, well supported."),
    9: _l("Outstanding: exceptionally strong, negligible weaknesses."),
    10: _l("Exceptional: could not be better; a reference for the field."),
}

RECOMMENDATIONS = tuple(RECOMMENDATION_LABELS)  # the allowed codes; their words live in labels


def review_for_reviewer(review_id: int, user) -> Review:
    """The review if `user` is its assigned reviewer (and it was not released); 404 for anyone else."""
    review = db.session.get(Review, review_id)
    if review is None or not (user and user.is_authenticated) or review.reviewer_id != user.id \
            or review.status == "released":
        raise NotFound(_l("No such review."))
    return review


def challenge_of(review: Review) -> Challenge:
    return db.session.get(Challenge, review.challenge_id)


def open_review(review: Review, user, *, what: str = "view") -> Challenge:
    """Check the agreement and audit the view: every look at a proposal by a reviewer is on record."""
    challenge = challenge_of(review)
    require_agreement(challenge, user)
    record("review.proposal_viewed", "review", review.id, actor=user, proposal=review.proposal_id, what=what)
    return challenge


def _require_editable(review: Review, challenge: Challenge) -> None:
    if review.status == "submitted":
        raise Conflict(_l("This review was submitted and is locked."))
    if challenge.status != "judging":
        raise Conflict(_l("Judging is not running for this challenge (it is %(state)s).", state=challenge.status))


def _parse_scores(challenge: Challenge, raw: dict) -> dict[int, int]:
    criteria = {c.id for c in challenge.criteria}
    errors: dict[str, list] = {}
    scores: dict[int, int] = {}
    for key, value in (raw or {}).items():
        try:
            criterion_id = int(key)
        except (TypeError, ValueError):
            errors[f"scores.{key}"] = [_l("Not a criterion of this challenge.")]
            continue
        if criterion_id not in criteria:
            errors[f"scores.{key}"] = [_l("Not a criterion of this challenge.")]
        elif isinstance(value, bool) or not isinstance(value, int) or not MIN_SCORE <= value <= MAX_SCORE:
            errors[f"scores.{key}"] = [_l("A score is a whole number from %(lo)d to %(hi)d.", lo=MIN_SCORE,
                                          hi=MAX_SCORE)]
        else:
            scores[criterion_id] = value
    if errors:
        raise ValidationFailed(_l("Some scores are not valid."), errors=errors)
    return scores


def save_draft(review: Review, user, data: dict) -> Review:
    """Save scores (any subset), comment and recommendation; the review stays editable."""
    challenge = challenge_of(review)
    require_agreement(challenge, user)
    lock_for_update(db.session, review)
    _require_editable(review, challenge)
    scores = _parse_scores(challenge, data.get("scores") or {})
    comment = data.get("comment")
    if comment is not None and len(comment) > MAX_COMMENT:
        raise ValidationFailed(_l("The comment is too long."), errors={"comment": [
            _l("Use at most %(n)d characters.", n=MAX_COMMENT)]})
    recommendation = data.get("recommendation")
    if recommendation is not None and recommendation not in RECOMMENDATIONS:
        raise ValidationFailed(_l("Unknown recommendation."), errors={"recommendation": [
            _l("Choose award, consider or reject.")]})
    by_criterion = {s.criterion_id: s for s in review.scores}
    for criterion_id, value in scores.items():
        if criterion_id in by_criterion:
            by_criterion[criterion_id].score = value
        else:
            review.scores.append(ReviewScore(criterion_id=criterion_id, score=value))
    if comment is not None:
        review.comment = comment.strip()
    if "recommendation" in data:
        review.recommendation = recommendation
    review.status = "draft"
    db.session.flush()
    record("review.draft_saved", "review", review.id, actor=user, scored=sorted(scores))
    return review


def submit(review: Review, user) -> Review:
    """Lock the review; every criterion scored, a comment and a recommendation are required."""
    challenge = challenge_of(review)
    require_agreement(challenge, user)
    lock_for_update(db.session, review)  # a double click: the second sees "submitted"
    _require_editable(review, challenge)
    errors: dict[str, list] = {}
    scored = {s.criterion_id for s in review.scores}
    for criterion in challenge.criteria:
        if criterion.id not in scored:
            errors[f"scores.{criterion.id}"] = [_l("Score this criterion.")]
    if not (review.comment or "").strip():
        errors["comment"] = [_l("Write a comment for the authors.")]
    if review.recommendation not in RECOMMENDATIONS:
        errors["recommendation"] = [_l("Choose a recommendation.")]
    if errors:
        raise ValidationFailed(_l("The review is not complete yet."), errors=errors)
    review.status, review.submitted_at = "submitted", utcnow()
    record("review.submitted", "review", review.id, actor=user, proposal=review.proposal_id,
           scores={str(s.criterion_id): s.score for s in review.scores}, recommendation=review.recommendation)
    return review


def weighted_score(review: Review, criteria: list[Criterion]) -> float | None:
    weights = {c.id: c.weight for c in criteria}
    total = sum(weights[s.criterion_id] for s in review.scores if s.criterion_id in weights)
    if not total:
        return None
    return sum(weights[s.criterion_id] * s.score for s in review.scores if s.criterion_id in weights) / total


def other_reviews(review: Review) -> list[dict] | None:
    """The other submitted reviews of the same proposal, without identities; None until this one is submitted."""
    if review.status != "submitted":
        return None
    others = db.session.scalars(select(Review).where(
        Review.proposal_id == review.proposal_id, Review.status == "submitted", Review.id != review.id)
        .order_by(Review.id)).all()
    return [{"label": _("Reviewer %(n)d", n=n), "scores": {str(s.criterion_id): s.score for s in other.scores},
             "comment": other.comment, "recommendation": other.recommendation}
            for n, other in enumerate(others, start=1)]


# --- progress and reminders ---------------------------------------------------------------------------

def progress(challenge: Challenge) -> list[dict]:
    """Per pool member: agreement, assigned, drafts, submitted, overdue; worst first for the manager's attention."""
    now = utcnow()
    members = db.session.scalars(select(ChallengeReviewer).where(ChallengeReviewer.challenge_id == challenge.id)).all()
    counts: dict[int, dict] = defaultdict(lambda: {"assigned": 0, "draft": 0, "submitted": 0, "overdue": 0,
                                                   "due_at": None})
    for review in db.session.scalars(select(Review).where(Review.challenge_id == challenge.id,
                                                          Review.status != "released")):
        row = counts[review.reviewer_id]
        row["assigned"] += 1
        if review.status == "submitted":
            row["submitted"] += 1
        elif review.status == "draft":
            row["draft"] += 1
        if review.status != "submitted" and review.due_at and review.due_at < now:
            row["overdue"] += 1
        if review.due_at and review.status != "submitted" and (row["due_at"] is None or review.due_at < row["due_at"]):
            row["due_at"] = review.due_at
    rows = []
    for member in members:
        row = counts[member.user_id]
        rows.append({"reviewer_id": member.user_id, "display_name": member.user.display_name,
                     "internal": member.internal, "agreement_accepted": has_accepted(member), **row,
                     "open": row["assigned"] - row["submitted"]})
    return sorted(rows, key=lambda r: (-r["overdue"], -r["open"], r["display_name"]))


def remind_reviewers(challenge: Challenge, actor, now: datetime | None = None) -> int:
    """A manager's "remind now": mail each reviewer with open reviews of `challenge`, at most once a day.

    Scheduled reminders (7 days and 1 day before a review is due) come from `flask reminders send`.
    Returns the number of reviewers mailed; the reminder is audited on the challenge.
    """
    now = now or utcnow()
    if challenge.status != "judging":
        raise Conflict(_l("Judging is not running for this challenge (it is %(state)s).", state=challenge.status))
    open_reviews = db.session.scalars(
        select(Review).where(Review.challenge_id == challenge.id, Review.status.in_(ACTIVE_STATES))
        .order_by(Review.reviewer_id, Review.due_at)).all()
    by_reviewer: dict[int, list[Review]] = defaultdict(list)
    for review in open_reviews:
        if review.reminded_at is None or review.reminded_at <= now - REMIND_EVERY:
            by_reviewer[review.reviewer_id].append(review)
    link = current_app.config["PUBLIC_URL"].rstrip("/") + "/reviews"
    for reviewer_id, reviews in by_reviewer.items():
        user = db.session.get(User, reviewer_id)
        due = [r.due_at for r in reviews if r.due_at]
        queue_mail(user.email, "review_reminder", locale=user.locale, user=user, count=len(reviews),
                   due_at=min(due) if due else None, overdue=sum(1 for d in due if d < now), link=link)
        for review in reviews:
            review.reminded_at = now
    record("reviews.reminded", "challenge", challenge.id, actor=actor, reviewers=sorted(by_reviewer),
           reviews=sorted(r.id for rs in by_reviewer.values() for r in rs))
    return len(by_reviewer)
