"""Appeals API (contract v1.1, "Stages and appeals"): release provisional scores, read them, appeal, answer.

The rules are in appeals.py; these views check who may call, call one service, commit once.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint

from marketplace.api import login_required_api
from marketplace.challenges.models import Challenge
from marketplace.challenges.services import managed_challenge
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.i18n import current_locale_id
from marketplace.reviews import appeals, schemas, score_release
from marketplace.reviews.access import authored_proposal

blp = Blueprint("appeals_api", __name__, url_prefix="/api/v1", description="Appeals of provisional scores")


def _release_json(challenge: Challenge, row) -> dict:
    return {"challenge_id": challenge.id, "released_at": row.released_at, "appeals_close_at": row.window_closes_at,
            "window_days": challenge.appeals_window_days}



@blp.post("/challenges/<int:challenge_id>/provisional-scores")
@blp.response(201, schemas.ScoreReleaseOut)
@login_required_api
def release_scores(challenge_id: int):
    challenge = managed_challenge(challenge_id, current_user)
    row = score_release.release(challenge, current_user)
    db.session.commit()
    return _release_json(challenge, row)


@blp.get("/proposals/<int:proposal_id>/scores")
@blp.response(200, schemas.ProvisionalScoresOut)
@login_required_api
def proposal_scores(proposal_id: int):
    return appeals.provisional_scores(authored_proposal(proposal_id, current_user), current_user, current_locale_id())


@blp.post("/proposals/<int:proposal_id>/appeals")
@blp.arguments(schemas.AppealIn)
@blp.response(201, schemas.AppealOut)
@login_required_api
def file_appeal(data, proposal_id: int):
    proposal = authored_proposal(proposal_id, current_user)
    appeal = appeals.file_appeal(proposal, current_user, criterion_id=data["criterion_id"], reason=data["reason"],
                                 review_number=data["review"])
    db.session.commit()
    return appeals.appeal_json(appeal, "author", current_locale_id())


@blp.get("/challenges/<int:challenge_id>/appeals")
@blp.arguments(schemas.AppealListArgs, location="query")
@blp.response(200, schemas.AppealPageOut)
@login_required_api
def list_appeals(args, challenge_id: int):
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None:
        raise NotFound(_l("No such challenge."))
    found, role = appeals.visible_appeals(challenge, current_user, status=args.get("status"))
    page, per_page = args["page"], args["per_page"]
    shown = found[(page - 1) * per_page:page * per_page]
    locale = current_locale_id()
    return {"items": [appeals.appeal_json(a, role, locale) for a in shown], "page": page, "per_page": per_page,
            "total": len(found)}


@blp.get("/appeals/<int:appeal_id>")
@blp.response(200, schemas.AppealOut)
@login_required_api
def get_appeal(appeal_id: int):
    appeal = appeals.get_appeal(appeal_id, current_user)
    challenge = db.session.get(Challenge, appeal.challenge_id)
    return appeals.appeal_json(appeal, "staff" if challenge.is_staff(current_user) else "reviewer",
                               current_locale_id())


@blp.post("/appeals/<int:appeal_id>/answer")
@blp.arguments(schemas.AppealAnswerIn)
@blp.response(200, schemas.AppealOut)
@login_required_api
def answer_appeal(data, appeal_id: int):
    appeal = appeals.get_appeal(appeal_id, current_user)
    role = appeals.answering_role(appeal, current_user)
    appeals.answer(appeal, current_user, outcome=data["outcome"], response=data["response"], score=data["score"])
    db.session.commit()
    return appeals.appeal_json(appeal, "reviewer" if role == "reviewer" else "staff", current_locale_id())
