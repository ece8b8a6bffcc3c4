"""The clarification round: during judging a reviewer asks the authors a question through the platform.

The authors see the question without knowing who asked; every reviewer of the proposal sees the question and the
answer, without knowing who answered (the answer is the team's). Mails carry no identity either.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.audit.services import record
from marketplace.db import lock_for_update, utcnow
from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.mail.services import queue_mail
from marketplace.proposals.models import Proposal
from marketplace.reviews.models import Clarification, Review
from marketplace.reviews.scoring import open_review

MAX_TEXT = 4000
MAX_OPEN_PER_REVIEW = 3  # unanswered questions one reviewer may have at a time



def _text(value: str | None, field: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(_l("Write the text."), errors={field: [_l("Write the text.")]})
    if len(text) > MAX_TEXT:
        message = _l("Use at most %(n)d characters.", n=MAX_TEXT)
        raise ValidationFailed(message, errors={field: [message]})
    return text


def ask(review: Review, reviewer, question: str) -> Clarification:
    challenge = open_review(review, reviewer, what="clarification")
    if challenge.status != "judging":
        raise Conflict(_l("Questions can be asked only while judging runs."))
    text = _text(question, "question")
    unanswered = db.session.scalars(select(Clarification).where(
        Clarification.review_id == review.id, Clarification.answer.is_(None))).all()
    if len(unanswered) >= MAX_OPEN_PER_REVIEW:
        raise Conflict(_l("Wait for the answers to your open questions first."))
    clarification = Clarification(proposal_id=review.proposal_id, review_id=review.id, question=text)
    db.session.add(clarification)
    db.session.flush()
    record("review.clarification_asked", "proposal", review.proposal_id, actor=reviewer,
           clarification=clarification.id)
    proposal = db.session.get(Proposal, review.proposal_id)
    link = current_app.config["PUBLIC_URL"].rstrip("/") + f"/proposals/{proposal.id}#clarifications"
    for member in proposal.members:
        if member.status == "accepted" and member.user is not None:
            queue_mail(member.email, "clarification_question", locale=member.user.locale, user=member.user,
                       proposal_title=proposal.title, question=text, link=link)
    return clarification


def for_authors(proposal: Proposal) -> list[Clarification]:
    return list(db.session.scalars(select(Clarification).where(Clarification.proposal_id == proposal.id)
                                   .order_by(Clarification.id)))


def get_for_author(clarification_id: int, user) -> Clarification:
    clarification = db.session.get(Clarification, clarification_id)
    proposal = db.session.get(Proposal, clarification.proposal_id) if clarification else None
    if proposal is None or not proposal.is_author(user):
        raise NotFound(_l("No such question."))
    return clarification


def answer(clarification: Clarification, author, text: str) -> Clarification:
    proposal = db.session.get(Proposal, clarification.proposal_id)
    if not proposal.is_author(author):
        raise NotFound(_l("No such question."))
    if proposal.challenge.status != "judging":
        raise Conflict(_l("Judging is over; questions can no longer be answered."))
    lock_for_update(db.session, clarification)
    if clarification.answer is not None:
        raise Conflict(_l("This question was answered already."))
    clarification.answer, clarification.answered_at = _text(text, "answer"), utcnow()
    record("review.clarification_answered", "proposal", proposal.id, actor=author, clarification=clarification.id)
    link = current_app.config["PUBLIC_URL"].rstrip("/")
    for review in db.session.scalars(select(Review).where(Review.proposal_id == proposal.id,
                                                          Review.status != "released")):
        user = db.session.get(User, review.reviewer_id)
        queue_mail(user.email, "clarification_answered", locale=user.locale, user=user, pseudonym=review.pseudonym,
                   question=clarification.question, answer=clarification.answer,
                   link=f"{link}/reviews/{review.id}#clarifications")
    return clarification


def for_reviewer(review: Review) -> list[dict]:
    """Every question on the reviewer's proposal and its answer; `mine` marks the reviewer's own questions."""
    rows = db.session.scalars(select(Clarification).where(Clarification.proposal_id == review.proposal_id)
                              .order_by(Clarification.id)).all()
    return [{"id": c.id, "question": c.question, "answer": c.answer,
             "answered_at": c.answered_at.isoformat() if c.answered_at else None,
             "asked_at": c.created_at.isoformat(), "mine": c.review_id == review.id} for c in rows]


def for_author_json(clarification: Clarification) -> dict:
    return {"id": clarification.id, "question": clarification.question, "answer": clarification.answer,
            "asked_at": clarification.created_at.isoformat(),
            "answered_at": clarification.answered_at.isoformat() if clarification.answered_at else None}

