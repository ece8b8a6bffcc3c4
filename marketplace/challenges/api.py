"""Challenges API: authoring, clearance, publishing, agreements, Q&A and the public list."""

from __future__ import annotations

from flask import g
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint

from marketplace.accounts.services import staffed_organization
from marketplace.api import login_required_api, one_page, problem, step_on
from marketplace.challenges import agreements, amendments, listing, questions, schemas, services
from marketplace.challenges.agreement_models import Amendment
from marketplace.challenges.authoring import localize_deadline
from marketplace.challenges.models import Challenge, Question
from marketplace.challenges.presenters import challenge_detail
from marketplace.challenges.refusals import audit_refusal
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.i18n import current_locale_id

blp = Blueprint("challenges_api", __name__, url_prefix="/api/v1", description="Challenges")


def _load(challenge_id: int) -> Challenge:
    return services.get_visible(challenge_id, current_user)  # past its deadline it reads as closed


def _localize_deadline(data: dict) -> dict:
    for key in ("deadline",):
        if data.get(key) is not None and data[key].tzinfo is None:
            data[key] = localize_deadline(data[key], current_user.timezone or "UTC")
    return data


def _audited_step(refusal_action: str, challenge: Challenge, call):
    """Run a lifecycle step; a refusal is rolled back yet stays on record in the audit log, then answered."""
    try:
        call()
    except DomainError as error:
        audit_refusal(refusal_action, challenge, current_user, error)
        raise
    db.session.commit()
    return _detail(challenge)


def _detail(challenge: Challenge, status: int = 200):
    return challenge_detail(challenge, current_user, g.get("content_locale") or current_locale_id()), status


_step = step_on(_load, _detail)


@blp.post("/challenges")
@blp.arguments(schemas.ChallengeCreateIn)
@login_required_api
def create_challenge(data):
    organization = staffed_organization(data.pop("organization"), current_user)
    challenge = services.create_challenge(organization, current_user, _localize_deadline(data))
    db.session.commit()
    return _detail(challenge, 201)


@blp.patch("/challenges/<int:challenge_id>")
@blp.arguments(schemas.ChallengePatchIn)
@login_required_api
def update_challenge(data, challenge_id: int):
    return _step(challenge_id,
                 lambda challenge: services.update_challenge(challenge, current_user, _localize_deadline(data)))


@blp.get("/challenges")
@blp.arguments(schemas.ListArgs, location="query")
def list_challenges(args):
    g.content_locale = args.get("locale") or current_locale_id()
    return listing.public_page(args, g.content_locale)


@blp.get("/challenges/<int:challenge_id>")
@blp.alt_response(200, schema=schemas.ChallengePublicOut, success=True,
                  description="The challenge's public facts (more for its staff and after the agreement)")
def get_challenge(challenge_id: int):
    from flask import request

    from marketplace.analytics.views import count_view

    g.content_locale = request.args.get("locale") or current_locale_id()
    challenge = _load(challenge_id)
    count_view(challenge, current_user)
    return _detail(challenge)


@blp.post("/challenges/<int:challenge_id>/clearance-request")
@login_required_api
def request_clearance(challenge_id: int):
    challenge = _load(challenge_id)
    return _audited_step("challenge.clearance_request_refused", challenge,
                         lambda: services.request_clearance(challenge, current_user))


@blp.post("/challenges/<int:challenge_id>/clearance")
@blp.arguments(schemas.ClearanceIn)
@login_required_api
def decide_clearance(data, challenge_id: int):
    challenge = _load(challenge_id)
    return _audited_step("challenge.clearance_refused", challenge,
                         lambda: services.decide_clearance(challenge, current_user, **data))


@blp.post("/challenges/<int:challenge_id>/publish")
@login_required_api
def publish(challenge_id: int):
    challenge = _load(challenge_id)
    return _audited_step("challenge.publication_refused", challenge, lambda: services.publish(challenge, current_user))


@blp.post("/challenges/<int:challenge_id>/close")
@login_required_api
def close(challenge_id: int):
    return _step(challenge_id, lambda challenge: services.close(challenge, current_user))


@blp.post("/challenges/<int:challenge_id>/cancel")
@blp.arguments(schemas.CancelIn)
@login_required_api
def cancel(data, challenge_id: int):
    return _step(challenge_id, lambda challenge: services.cancel(challenge, current_user, reason=data["reason"]))


@blp.post("/challenges/<int:challenge_id>/amendments")
@blp.arguments(schemas.AmendmentIn)
@login_required_api
def amend(data, challenge_id: int):
    challenge = _load(challenge_id)
    amendment = amendments.amend(challenge, current_user, _localize_deadline(data))
    db.session.commit()
    return _amendment_json(amendment), 201


@blp.get("/challenges/<int:challenge_id>/amendments")
def list_amendments(challenge_id: int):
    challenge = _load(challenge_id)
    rows = db.session.scalars(db.select(Amendment).filter_by(challenge_id=challenge.id).order_by(Amendment.id)).all()
    return one_page([_amendment_json(a) for a in rows])


def _amendment_json(amendment: Amendment) -> dict:
    return {"id": amendment.id, "created_at": amendment.created_at.isoformat(), "note": amendment.note,
            "changes": amendment.changes, "requires_reacceptance": amendment.requires_reacceptance,
            "agreement_version": amendment.agreement_version}


@blp.get("/challenges/<int:challenge_id>/agreement")
def get_agreement(challenge_id: int):
    return agreements.agreement_for(_load(challenge_id))


@blp.post("/challenges/<int:challenge_id>/agreement")
@blp.arguments(schemas.AgreementIn)
@login_required_api
def accept_agreement(data, challenge_id: int):
    challenge = _load(challenge_id)
    if not data["accept"]:
        return problem(422, "Validation failed", str(_l("Accept the agreement to take part.")),
                       {"accept": [str(_l("Must be true."))]})
    acceptance = agreements.accept(challenge, current_user, version=data["version"])
    db.session.commit()
    return {"challenge_id": challenge.id, "version": acceptance.version,
            "accepted_at": acceptance.accepted_at.isoformat()}, 201


@blp.post("/challenges/<int:challenge_id>/questions")
@blp.arguments(schemas.QuestionIn)
@login_required_api
def ask_question(data, challenge_id: int):
    challenge = _load(challenge_id)
    question = questions.ask(challenge, current_user, data["text"])
    db.session.commit()
    return _question_json(question), 201


@blp.get("/challenges/<int:challenge_id>/questions")
def list_questions(challenge_id: int):
    challenge = _load(challenge_id)
    rows = questions.visible_questions(challenge, current_user)
    return one_page([_question_json(q) for q in rows])


@blp.post("/questions/<int:question_id>/answer")
@blp.arguments(schemas.AnswerIn)
@login_required_api
def answer_question(data, question_id: int):
    question = db.session.get(Question, question_id)
    if question is None or not db.session.get(Challenge, question.challenge_id).is_staff(current_user):
        raise NotFound(_l("No such question."))
    questions.answer(question, current_user, data["answer"])
    db.session.commit()
    return _question_json(question)


def _question_json(question: Question) -> dict:
    return {"id": question.id, "challenge_id": question.challenge_id, "text": question.text,
            "answer": question.answer, "created_at": question.created_at.isoformat(),
            "answered_at": question.answered_at.isoformat() if question.answered_at else None}
