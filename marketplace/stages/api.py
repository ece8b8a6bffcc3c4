"""Stages API (contract v1.1): read a challenge's stages, advance the current one."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint

from marketplace.api import login_required_api
from marketplace.challenges.services import get_visible, managed_challenge, staff_challenge
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.i18n import current_locale_id
from marketplace.money import Money
from marketplace.stages import presenters, schemas, services
from marketplace.stages.rules import stage_of

blp = Blueprint("stages_api", __name__, url_prefix="/api/v1", description="Stages of a challenge")


@blp.get("/challenges/<int:challenge_id>/stages")
@blp.response(200, schemas.StageListOut)
def list_stages(challenge_id: int):
    challenge = get_visible(challenge_id, current_user)
    return {"current_stage_id": challenge.current_stage_id,
            "items": presenters.stages_json(challenge, current_locale_id(), staff=challenge.is_staff(current_user))}


@blp.put("/challenges/<int:challenge_id>/stages")
@blp.arguments(schemas.StagePlanIn)
@blp.response(200, schemas.StageListOut)
@login_required_api
def plan_stages(data, challenge_id: int):
    """Replace the stages of a draft (the same shapes as `stages` on POST /challenges)."""
    challenge = managed_challenge(challenge_id, current_user)
    services.replace_stages(challenge, current_user, data["stages"])
    db.session.commit()
    return {"current_stage_id": challenge.current_stage_id,
            "items": presenters.stages_json(challenge, current_locale_id(), staff=True)}


@blp.post("/challenges/<int:challenge_id>/stages/<int:stage_id>/advance")
@blp.arguments(schemas.AdvanceIn)
@blp.response(201, schemas.AdvanceOut)
@login_required_api
def advance_stage(data, challenge_id: int, stage_id: int):
    challenge = managed_challenge(challenge_id, current_user)
    stage = stage_of(challenge, stage_id)
    if stage is None:
        raise NotFound(_l("No such stage."))
    result = services.advance(challenge, stage, current_user, finalists=data["finalists"], awards=data["awards"],
                              override_reason=data["override_reason"])
    db.session.commit()
    locale = current_locale_id()
    return {"stage": presenters.stage_json(challenge, result["stage"], locale),
            "next_stage": presenters.stage_json(challenge, result["next_stage"], locale),
            "finalists": [p.id for p in result["finalists"]],
            "awards": [{"id": a.id, "proposal_id": a.proposal_id, "share_pct": format(a.share_pct, "f"),
                        "amount": Money(a.amount_minor, a.currency)} for a in result["awards"]]}


@blp.get("/challenges/<int:challenge_id>/stages/analytics")
@blp.response(200, schemas.StageFiguresOut)
@login_required_api
def stage_analytics(challenge_id: int):
    """Per stage: proposals, how many advanced and the rate, milestone money awarded and paid (staff only)."""
    from marketplace.stages.analytics import stage_figures_json

    return stage_figures_json(staff_challenge(challenge_id, current_user), current_locale_id())
