"""The award decision through the API: POST (the center manager decides) and GET (the challenge's staff)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint

from marketplace.api import login_required_api
from marketplace.awards import decisions
from marketplace.awards.schemas import AwardsIn
from marketplace.challenges.services import managed_challenge, staff_challenge
from marketplace.errors import NotFound
from marketplace.extensions import db

blp = Blueprint("award_decisions_api", __name__, url_prefix="/api/v1", description="Award decisions")


@blp.post("/challenges/<int:challenge_id>/awards")
@blp.arguments(AwardsIn)
@login_required_api
def decide(data, challenge_id: int):
    challenge = managed_challenge(challenge_id, current_user)
    decisions.decide(challenge, current_user, data["awards"], reason=data["reason"],
                     feedback_enabled=data["feedback_enabled"], override_reason=data["override_reason"])
    db.session.commit()
    return decisions.decision_json(challenge), 201


@blp.get("/challenges/<int:challenge_id>/awards")
@login_required_api
def get_decision(challenge_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    body = decisions.decision_json(challenge)
    if body is None:
        raise NotFound(_l("No award decision yet."))
    return body
