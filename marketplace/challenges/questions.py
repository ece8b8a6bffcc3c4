"""Public Q&A: solvers ask, staff answer; answers are public to every solver of the challenge."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.audit.services import record
from marketplace.challenges.clearance import internal_codes, screen_public_text
from marketplace.challenges.models import Challenge, Question
from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.mail.services import queue_mail

QUESTION_ANSWERED = "question_answered"


def _answered_text(payload: dict, locale: str) -> str:
    from flask_babel import gettext as _

    from marketplace.solvers.notifications import localized_title

    return _("A clarification was published for “%(title)s”.", title=localized_title(payload, locale))


def register_notification() -> None:
    from marketplace.solvers.notifications import register_kind

    register_kind(QUESTION_ANSWERED, text=_answered_text,
                  link=lambda payload: f"/challenges/{payload['challenge_id']}#questions")
MAX_QUESTION = 4000


def ask(challenge: Challenge, user, text: str) -> Question:
    if challenge.shown_status != "open":
        raise Conflict(_l("Questions can be asked only while the challenge is open."))
    text = (text or "").strip()
    if not text or len(text) > MAX_QUESTION:
        raise ValidationFailed(_l("Write a question of up to %(n)d characters.", n=MAX_QUESTION),
                               errors={"text": [_l("Write a question of up to %(n)d characters.", n=MAX_QUESTION)]})
    question = Question(challenge_id=challenge.id, asker_id=user.id, text=text)
    db.session.add(question)
    db.session.flush()
    record("question.asked", "challenge", challenge.id, actor=user, question=question.id)
    return question


def answer(question: Question, staff, text: str) -> Question:
    from marketplace.accounts.models import User
    from marketplace.challenges.agreement_models import AgreementAcceptance

    challenge = db.session.get(Challenge, question.challenge_id)
    if not challenge.is_staff(staff):
        raise Forbidden(_l("Only the center's staff can answer."))
    text = (text or "").strip()
    if not text or len(text) > 20_000:
        raise ValidationFailed(_l("Write an answer."), errors={"answer": [_l("Write an answer.")]})
    warnings = screen_public_text({"answer": {challenge.default_locale: text}}, codes=internal_codes(challenge))
    first_answer = question.answer is None
    question.answer, question.answered_by_id, question.answered_at = text, staff.id, utcnow()
    db.session.flush()
    record("question.answered", "challenge", challenge.id, actor=staff, question=question.id,
           marker_warnings=[w.as_dict() for w in warnings])
    if first_answer:
        recipients = db.session.scalars(select(User).where(User.id.in_(
            select(AgreementAcceptance.user_id).where(AgreementAcceptance.challenge_id == challenge.id)))).all()
        from marketplace.solvers import notifications

        asker = db.session.get(User, question.asker_id)
        payload = {"challenge_id": challenge.id, "question_id": question.id, "title": challenge.text_map("title"),
                   "default_locale": challenge.default_locale}
        for user in {u.id: u for u in [*recipients, asker]}.values():
            notifications.add(user.id, QUESTION_ANSWERED, payload, mailed=True)
            _locale, title = challenge.localized("title", user.locale)
            queue_mail(user.email, "question_answered", locale=user.locale, user=user, challenge=challenge,
                       title=title, question=question)
    return question


def visible_questions(challenge: Challenge, user) -> list[Question]:
    """Answered questions for everyone who may see the challenge; staff see the open ones too."""
    statement = select(Question).where(Question.challenge_id == challenge.id).order_by(Question.id)
    if not challenge.is_staff(user):
        statement = statement.where(Question.answer.is_not(None))
    return list(db.session.scalars(statement))
