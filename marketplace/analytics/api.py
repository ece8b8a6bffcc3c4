"""Analytics API: figures per challenge and per program (center staff), for the platform (admins), the
public statistics, and the early-career bonus of a challenge."""

from __future__ import annotations

import marshmallow as ma
from flask_login import current_user
from flask_smorest import Blueprint

from marketplace import http_cache
from marketplace.analytics import access, cache, early_career, stats
from marketplace.analytics.figures import Scope, figures_for, to_json
from marketplace.api import login_required_api
from marketplace.challenges.services import get_visible as get_visible_challenge
from marketplace.extensions import db

blp = Blueprint("analytics_api", __name__, url_prefix="/api/v1", description="Analytics and statistics")


@blp.get("/analytics/challenges/<int:challenge_id>")
@login_required_api
def challenge_figures(challenge_id: int):
    """Views, agreement acceptances, proposals over time, solvers by country, early-career shares, reviewer
    progress, award paid vs benchmark, time to award and to payout. Center staff (not reviewers); 404 otherwise."""
    challenge = access.challenge_for(challenge_id, current_user)
    body = to_json(figures_for(Scope.challenge(challenge)))
    body["early_career_bonus_pct"] = to_json(challenge.early_career_bonus_pct.normalize())
    return body


@blp.get("/analytics/programs/<int:program_id>")
@login_required_api
def program_figures(program_id: int):
    """The same figures over a program's challenges, with a per-challenge breakdown."""
    from marketplace.analytics.figures import per_challenge

    program = access.program_for(program_id, current_user)
    scope = Scope.program(program)
    body = to_json(figures_for(scope))
    body["per_challenge"] = to_json(per_challenge(scope))
    return body


@blp.get("/analytics/platform")
@login_required_api
def platform_figures():
    """Platform-wide figures (admins only; 404 for anyone else), at most ANALYTICS_CACHE_SECONDS old."""
    access.require_admin(current_user)
    data, as_of = cache.cached("platform", lambda: figures_for(Scope.platform()))
    return {**to_json(data), "as_of": as_of.isoformat()}


@blp.get("/stats")
def public_statistics():
    """Public statistics: challenges posted, awards paid, countries of solvers, open results (cached like the
    platform figures; `as_of` says when they were computed)."""
    figures, as_of = cache.cached("stats", stats.public_stats)
    http_cache.last_modified(as_of)
    return {**to_json(figures), "as_of": as_of.isoformat()}


class BonusIn(ma.Schema):
    pct = ma.fields.Raw(required=True, metadata={"description": "A decimal percentage, 0 to 50, as string or number"})


@blp.put("/challenges/<int:challenge_id>/early-career-bonus")
@blp.arguments(BonusIn)
@login_required_api
def set_early_career_bonus(data, challenge_id: int):
    """A percentage added to an early-career winner's award; part of what must be funded. Before publication."""
    challenge = get_visible_challenge(challenge_id, current_user)
    early_career.set_bonus(challenge, current_user, data["pct"])
    db.session.commit()
    return _bonus_json(challenge)


@blp.get("/challenges/<int:challenge_id>/early-career-bonus")
def get_early_career_bonus(challenge_id: int):
    return _bonus_json(get_visible_challenge(challenge_id, current_user))


def _bonus_json(challenge) -> dict:
    from marketplace.money import Money

    return {"challenge_id": challenge.id, "pct": format(challenge.early_career_bonus_pct.normalize(), "f"),
            "max_bonus": Money(challenge.max_early_career_bonus_minor, challenge.award_currency).as_dict(),
            "funding_target": Money(challenge.funding_target_minor, challenge.award_currency).as_dict(),
            "funded": challenge.funded}
