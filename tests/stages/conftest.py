"""A three-stage challenge (5 proposals in stage 1, 2 finalists, then 1) built through the real services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from marketplace.extensions import db
from tests.factories import add_pool, assign, review_all


def in_days(days: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def three_stages(*, pool: str | None = "3000.00") -> list[dict]:
    criterion = lambda en, zh, weight: {"name": {"en": en, "zh_Hans": zh}, "weight": weight}  # noqa: E731
    return [
        {"name": {"en": "Concept", "zh_Hans": "概念"}, "deadline": in_days(30), "advance": 2,
         "criteria": [criterion("Novelty", "新颖性", 50), criterion("Feasibility", "可行性", 50)],
         **({"award": {"amount": pool, "currency": "CNY"}} if pool else {})},
        {"name": {"en": "Prototype", "zh_Hans": "原型"}, "description": {"en": "A working prototype with data."},
         "deadline": in_days(60), "advance": 1, "criteria": [criterion("Measured noise", "实测噪声", 100)]},
        {"name": {"en": "Pilot", "zh_Hans": "试点"}, "deadline": in_days(90),
         "criteria": [criterion("Yield", "良率", 70), criterion("Cost", "成本", 30)]},
    ]


@pytest.fixture
def staged(build_world):
    """Stage 1 closed with every review in: thermal scored 8, gas 7, the others 4."""
    world = build_world(challenge_overrides={"stages": three_stages()})
    add_pool(world)
    assign(world, per_proposal=2, max_per_reviewer=4)
    by_proposal = {world.proposals["thermal"]: 8, world.proposals["gas"]: 7}
    review_all(world, {name: (lambda r: by_proposal.get(r.proposal_id, 4)) for name in world.reviewers})
    return world


def stage_ids(app, challenge_id: int) -> list[int]:
    from marketplace.challenges.models import Challenge

    with app.app_context():
        return [s.id for s in db.session.get(Challenge, challenge_id).stages]
