"""What a reader sees of a challenge's stages (the contract's `stages` and `current_stage_id`)."""

from __future__ import annotations

from sqlalchemy import func, select

from marketplace.content_locales import pick
from marketplace.extensions import db
from marketplace.money import Money


def stage_award(challenge, stage) -> Money | None:
    """A stage's award: its milestone pool, or on the last stage the challenge's final award."""
    if stage.position == len(challenge.stages):
        return Money(challenge.final_award_minor, challenge.award_currency)
    return Money(stage.award_minor, challenge.award_currency) if stage.award_minor else None


def finalist_counts(challenge) -> dict[int, int]:
    """{stage_id: how many proposals advanced from it}, for decided stages."""
    from marketplace.proposals.models import Proposal

    rows = db.session.execute(select(Proposal.stage_id, func.count()).where(
        Proposal.challenge_id == challenge.id, Proposal.advanced_at.is_not(None)).group_by(Proposal.stage_id))
    return dict(rows.all())


def stage_json(challenge, stage, locale: str | None, *, finalists: dict[int, int] | None = None,
               staff: bool = False) -> dict:
    award = stage_award(challenge, stage)
    last = stage.position == len(challenge.stages)
    body = {
        "id": stage.id, "position": stage.position, "name": stage.display_name(locale, challenge.default_locale),
        "description": pick(dict(stage.description or {}), locale, challenge.default_locale)[1],
        "deadline": stage.deadline.isoformat(), "status": challenge.stage_status(stage),
        "advance": stage.advance, "award": award.as_dict() if award else None, "final": last,
        "criteria": [{"id": c.id, "name": pick(c.name, locale, challenge.default_locale)[1], "weight": c.weight}
                     for c in challenge.criteria_for(stage.id)],
        "advanced": (finalists or {}).get(stage.id) if stage.decided_at else None,
        "decided_at": stage.decided_at.isoformat() if stage.decided_at else None,
    }
    if staff:
        body.update(names=dict(stage.name or {}), descriptions=dict(stage.description or {}))
    return body


def stages_json(challenge, locale: str | None, *, staff: bool = False) -> list[dict]:
    finalists = finalist_counts(challenge) if any(s.decided_at for s in challenge.stages) else {}
    return [stage_json(challenge, stage, locale, finalists=finalists, staff=staff) for stage in challenge.stages]
