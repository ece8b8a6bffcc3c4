"""Appeals of provisional scores: the center releases each solver's own scores, solvers appeal, reviewers answer.

The appeal window and the release of the scores live in `score_release`. During judging, once every assigned
review is in, a center manager releases the provisional scores: each solver then reads
their own calibrated score, criterion scores and the reviewers' comments (reviewers are "Reviewer 1, 2, ..." as in
the feedback), and may appeal one reviewer's score on one criterion, with a written reason, until the window closes.
The reviewer who gave the score answers (still blind: they see the proposal's pseudonym, never its authors): the
score is upheld with a response, or rescored through the same validation as the review itself. When the reviewer
has not answered within ANSWER_DAYS, a center manager may answer instead. The ranking is computed from the scores,
so a rescoring changes it at once. The awards cannot be decided while an appeal is open (`Challenge.appeal_refusal`).

    provisional_scores(proposal, user, locale) -> dict
    file_appeal(proposal, user, criterion_id=, reason=, review_number=None) -> Appeal
    visible_appeals(challenge, user, status=None) -> (appeals, "staff" | "reviewer")
    answer(appeal, user, outcome=, response=, score=None) -> Appeal
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select

from marketplace.accounts.models import User
from marketplace.audit.services import record
from marketplace.challenges.models import Challenge, Criterion
from marketplace.content_locales import pick
from marketplace.db import lock_for_update, utcnow
from marketplace.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.labels import appeal_outcome_label, recommendation_label
from marketplace.mail.services import queue_mail
from marketplace.proposals.models import Proposal
from marketplace.reviews import blind, pool, scoring
from marketplace.reviews.models import APPEAL_OUTCOMES, Appeal, Review, ReviewScore
from marketplace.reviews.score_release import SCORES_RELEASED, notify_authors, numbered_reviews, require_release

MAX_REASON = 2000
MAX_RESPONSE = 5000
ANSWER_DAYS = 3  # the reviewer's time to answer; after it a center manager may answer instead

APPEAL_ANSWERED = "appeal_answered"
APPEAL_FILED = "appeal_filed"


def register_notifications() -> None:
    from marketplace.solvers.notifications import localized_title, register_kind

    def released(payload: dict, locale: str) -> str:
        return _("Provisional scores of “%(title)s” are available; you may appeal them.",
                 title=localized_title(payload, locale))

    def answered(payload: dict, locale: str) -> str:
        return _("Your appeal in “%(title)s” was answered.", title=localized_title(payload, locale))

    link = lambda payload: f"/proposals/{payload['proposal_id']}/scores"  # noqa: E731
    def filed(payload: dict, locale: str) -> str:
        return _("A solver appealed your score of proposal %(code)s in “%(title)s”.", code=payload.get("pseudonym"),
                 title=localized_title(payload, locale))

    register_kind(SCORES_RELEASED, text=released, link=link)
    register_kind(APPEAL_ANSWERED, text=answered, link=link)
    register_kind(APPEAL_FILED, text=filed, link=lambda payload: "/reviews/appeals")


# --- what the solver reads ----------------------------------------------------------------------------

def _authored(proposal: Proposal, user) -> Challenge:
    if not proposal.is_author(user):
        raise NotFound(_l("No such proposal."))
    return db.session.get(Challenge, proposal.challenge_id)


def provisional_scores(proposal: Proposal, user, locale: str | None, *, now: datetime | None = None) -> dict:
    from marketplace.reviews.ranking.service import challenge_ranking

    challenge = _authored(proposal, user)
    row = require_release(challenge)
    now = now or utcnow()
    reviews = numbered_reviews(proposal.id)
    number = {r.id: n for n, r in enumerate(reviews, start=1)}
    appeals = _appeals_of_proposal(proposal.id)
    by_score = {(a.review_id, a.criterion_id): a for a in appeals}
    criteria = []
    for criterion in challenge.criteria:
        scores = [{"review": number[r.id], "score": s.score,
                   "appeal_id": by_score[(r.id, criterion.id)].id if (r.id, criterion.id) in by_score else None}
                  for r in reviews for s in r.scores if s.criterion_id == criterion.id]
        criteria.append({"id": criterion.id, "name": pick(criterion.name, locale, challenge.default_locale)[1],
                         "weight": criterion.weight, "scores": scores,
                         "mean": round(sum(s["score"] for s in scores) / len(scores), 2) if scores else None})
    mine = None
    if reviews:
        ranking = challenge_ranking(challenge, bootstrap=0)
        mine = next((item for item in ranking["items"] if item["proposal_id"] == proposal.id), None)
    window_open = row.window_open(now) and challenge.status == "judging"
    return {
        "proposal_id": proposal.id, "challenge_id": challenge.id, "released_at": row.released_at,
        "appeals_close_at": row.window_closes_at, "window_open": window_open,
        "raw_score": mine["raw_score"] if mine else None,
        "calibrated_score": mine["calibrated_score"] if mine else None,
        "criteria": criteria,
        "reviews": [{"number": number[r.id], "scores": {str(s.criterion_id): s.score for s in r.scores},
                     "comment": r.comment, "recommendation": r.recommendation,
                     "recommendation_label": recommendation_label(r.recommendation)} for r in reviews],
        "appeals": [appeal_json(a, "author", locale, numbers=number) for a in appeals],
    }


def _appeals_of_proposal(proposal_id: int) -> list[Appeal]:
    return list(db.session.scalars(select(Appeal).where(Appeal.proposal_id == proposal_id).order_by(Appeal.id)))


# --- filing an appeal --------------------------------------------------------------------------------------

def _text(value, field: str, limit: int, empty_message) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationFailed(empty_message, errors={field: [empty_message]})
    if len(text) > limit:
        message = _l("Use at most %(n)d characters.", n=limit)
        raise ValidationFailed(message, errors={field: [message]})
    return text


def file_appeal(proposal: Proposal, user, *, criterion_id, reason, review_number=None,
                now: datetime | None = None) -> Appeal:
    challenge = _authored(proposal, user)
    lock_for_update(db.session, challenge)  # a decision at the same moment: one of the two sees the other
    now = now or utcnow()
    row = require_release(challenge)
    if challenge.status != "judging":
        raise Conflict(_l("Appeals are closed: the awards of this challenge were decided."))
    if proposal.status != "submitted":
        raise Conflict(_l("Only a submitted proposal's scores can be appealed."))
    if not row.window_open(now):
        raise Conflict(_l("The appeal window closed on %(date)s.", date=format_datetime(row.window_closes_at)))
    reason = _text(reason, "reason", MAX_REASON, _l("Say why the score should change."))
    criterion = db.session.get(Criterion, criterion_id) if isinstance(criterion_id, int) else None
    if criterion is None or criterion.challenge_id != challenge.id:
        message = _l("Not a criterion of this challenge.")
        raise ValidationFailed(message, errors={"criterion_id": [message]})
    review, score = _appealed_score(proposal, criterion, review_number)
    if db.session.scalar(select(Appeal.id).where(Appeal.review_id == review.id,
                                                 Appeal.criterion_id == criterion.id)) is not None:
        raise Conflict(_l("You have appealed this score already."))
    appeal = Appeal(challenge_id=challenge.id, proposal_id=proposal.id, review_id=review.id,
                    criterion_id=criterion.id, appellant_id=user.id, reason=reason, status="open",
                    original_score=score.score, answer_due_at=now + timedelta(days=ANSWER_DAYS), created_at=now)
    db.session.add(appeal)
    db.session.flush()
    record("appeal.filed", "proposal", proposal.id, actor=user, appeal=appeal.id, review=review.id,
           criterion=criterion.id, score=score.score)
    _notify_reviewer(challenge, review, appeal)
    return appeal


def _notify_reviewer(challenge: Challenge, review: Review, appeal: Appeal) -> None:
    """Tell the reviewer an appeal waits, blind: the proposal's pseudonym, never its authors."""
    from marketplace.solvers import notifications

    reviewer = db.session.get(User, review.reviewer_id)
    notifications.add(reviewer.id, APPEAL_FILED, {
        "challenge_id": challenge.id, "appeal_id": appeal.id, "pseudonym": review.pseudonym,
        "title": challenge.text_map("title"), "default_locale": challenge.default_locale}, mailed=True)
    _locale, title = challenge.localized("title", reviewer.locale)
    queue_mail(reviewer.email, APPEAL_FILED, locale=reviewer.locale, user=reviewer, challenge_title=title,
               pseudonym=review.pseudonym, due_at=appeal.answer_due_at,
               link=f"{current_app.config['PUBLIC_URL'].rstrip('/')}/reviews/appeals")


def _appealed_score(proposal: Proposal, criterion: Criterion, review_number) -> tuple[Review, ReviewScore]:
    scored = [(n, r, s) for n, r in enumerate(numbered_reviews(proposal.id), start=1)
              for s in r.scores if s.criterion_id == criterion.id]
    if review_number is None and len(scored) == 1:
        return scored[0][1], scored[0][2]
    if review_number is None:
        message = _l("Choose which reviewer's score you appeal.")
        raise ValidationFailed(message, errors={"review": [message]})
    match = [(r, s) for n, r, s in scored if n == review_number]
    if not match:
        message = _l("No reviewer with this number scored this criterion.")
        raise ValidationFailed(message, errors={"review": [message]})
    return match[0]


# --- who sees and answers appeals -----------------------------------------------------------------------

def visible_appeals(challenge: Challenge, user, *, status: str | None = None) -> tuple[list[Appeal], str]:
    """Staff see every appeal of the challenge; a reviewer of it only those on their own reviews; others 404."""
    statement = select(Appeal).where(Appeal.challenge_id == challenge.id)
    if challenge.is_staff(user):
        role = "staff"
    elif pool.membership(challenge, user) is not None:
        role = "reviewer"
        statement = statement.join(Review, Review.id == Appeal.review_id).where(Review.reviewer_id == user.id)
    else:
        raise NotFound(_l("No such challenge."))
    if status is not None:
        statement = statement.where(Appeal.status == status)
    statement = statement.order_by(case((Appeal.status == "open", 0), else_=1), Appeal.answer_due_at, Appeal.id)
    return list(db.session.scalars(statement)), role


def reviewer_appeals(user) -> list[Appeal]:
    """Every appeal on the user's own reviews, open ones first (the reviewer's "Appeals to answer" page)."""
    return list(db.session.scalars(
        select(Appeal).join(Review, Review.id == Appeal.review_id).where(Review.reviewer_id == user.id)
        .order_by(case((Appeal.status == "open", 0), else_=1), Appeal.answer_due_at, Appeal.id)))


def answering_role(appeal: Appeal, user) -> str:
    """"reviewer" or "manager" for who may answer; 404 for anyone who may not even see the appeal, else 403."""
    review = db.session.get(Review, appeal.review_id)
    challenge = db.session.get(Challenge, appeal.challenge_id)
    if user and user.is_authenticated and review is not None and review.reviewer_id == user.id:
        return "reviewer"
    if challenge.can_manage(user):
        return "manager"
    if challenge.is_staff(user):
        raise Forbidden(_l("Only the reviewer or a center manager can answer an appeal."))
    raise NotFound(_l("No such appeal."))


def get_appeal(appeal_id: int, user) -> Appeal:
    appeal = db.session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound(_l("No such appeal."))
    challenge = db.session.get(Challenge, appeal.challenge_id)
    review = db.session.get(Review, appeal.review_id)
    if not (challenge.is_staff(user) or (user and user.is_authenticated and review.reviewer_id == user.id)):
        raise NotFound(_l("No such appeal."))
    return appeal


def answer(appeal: Appeal, user, *, outcome, response, score=None, now: datetime | None = None) -> Appeal:
    challenge = db.session.get(Challenge, appeal.challenge_id)
    role = answering_role(appeal, user)
    lock_for_update(db.session, appeal)  # two answers at once: the second finds it answered
    now = now or utcnow()
    if not appeal.is_open:
        raise Conflict(_l("This appeal was answered already."))
    if challenge.status != "judging":
        raise Conflict(_l("Judging is not running for this challenge (it is %(state)s).", state=challenge.status))
    if role == "manager" and now < appeal.answer_due_at:
        raise Conflict(_l("The reviewer may answer until %(date)s; a center manager may answer after that.",
                          date=format_datetime(appeal.answer_due_at)))
    if outcome not in APPEAL_OUTCOMES:
        message = _l("Choose upheld or rescored.")
        raise ValidationFailed(message, errors={"outcome": [message]})
    response = _text(response, "response", MAX_RESPONSE, _l("Write a response to the solver."))
    review = db.session.get(Review, appeal.review_id)
    if outcome == "rescored":
        if score is None:
            message = _l("Give the new score.")
            raise ValidationFailed(message, errors={"score": [message]})
        try:  # the very check a review's scores go through
            new = scoring._parse_scores(challenge, {str(appeal.criterion_id): score})[appeal.criterion_id]
        except ValidationFailed as error:
            raise ValidationFailed(error.detail, errors={"score": [m for ms in error.errors.values() for m in ms]}) \
                from error
        if new == appeal.original_score:
            message = _l("The new score is the same as before; uphold the score instead.")
            raise ValidationFailed(message, errors={"score": [message]})
        lock_for_update(db.session, review)
        row = next(s for s in review.scores if s.criterion_id == appeal.criterion_id)
        row.score = new
        appeal.new_score = new
        record("review.rescored", "review", review.id, actor=user, appeal=appeal.id, criterion=appeal.criterion_id,
               score_from=appeal.original_score, score_to=new, answered_as=role)
    elif score is not None and score != appeal.original_score:
        message = _l("Only a rescoring changes the score.")
        raise ValidationFailed(message, errors={"score": [message]})
    appeal.status, appeal.response = outcome, response
    appeal.answered_by_id, appeal.answered_as, appeal.answered_at = user.id, role, now
    db.session.flush()
    record("appeal.answered", "proposal", appeal.proposal_id, actor=user, appeal=appeal.id, outcome=outcome,
           answered_as=role, score_from=appeal.original_score, score_to=appeal.new_score)
    notify_authors(challenge, db.session.get(Proposal, appeal.proposal_id), APPEAL_ANSWERED, outcome=outcome,
            outcome_label=appeal_outcome_label(outcome))
    return appeal


# --- presenting ------------------------------------------------------------------------------------------

def appeal_json(appeal: Appeal, viewer: str, locale: str | None, *, numbers: dict | None = None) -> dict:
    """An appeal for `viewer` ("author", "reviewer" or "staff"). Reviewers get the pseudonym and a reason with the
    authors' identities masked, never the authors; authors get the reviewer's number, never the reviewer."""
    challenge = db.session.get(Challenge, appeal.challenge_id)
    criterion = db.session.get(Criterion, appeal.criterion_id)
    review = db.session.get(Review, appeal.review_id)
    body = {
        "id": appeal.id, "challenge_id": appeal.challenge_id, "proposal_id": appeal.proposal_id,
        "criterion_id": appeal.criterion_id,
        "criterion": pick(criterion.name, locale, challenge.default_locale)[1] if criterion else "",
        "status": appeal.status, "status_label": appeal_outcome_label(appeal.status), "reason": appeal.reason,
        "original_score": appeal.original_score, "new_score": appeal.new_score, "response": appeal.response,
        "created_at": appeal.created_at, "answer_due_at": appeal.answer_due_at, "answered_at": appeal.answered_at,
        "answered_as": appeal.answered_as,
    }
    if viewer == "author":
        numbers = numbers if numbers is not None else {
            r.id: n for n, r in enumerate(numbered_reviews(appeal.proposal_id), start=1)}
        body["review"] = numbers.get(appeal.review_id)
    elif viewer == "reviewer":
        proposal = db.session.get(Proposal, appeal.proposal_id)
        body.update(review_id=appeal.review_id, pseudonym=review.pseudonym,
                    reason=blind.mask(appeal.reason, blind.identity_markers(proposal)))
    else:
        body.update(review_id=appeal.review_id, pseudonym=review.pseudonym, reviewer_id=review.reviewer_id,
                    appellant_id=appeal.appellant_id)
    return body
