"""Follow-on challenges: second-round R&D started from a published result, linked both ways.

The new challenge is made by challenges.services.create_challenge like any other, so it starts as a
draft and must pass clearance before it can be published; this matters most when the original
challenge belongs to a classified program, whose program and requirements the follow-on inherits.
"""

from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from marketplace.audit.services import record
from marketplace.challenges import services as challenges
from marketplace.challenges.models import Challenge
from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden
from marketplace.extensions import db
from marketplace.results.models import FollowOn, ResultRecord

FOLLOW_ON_DAYS = 60  # the draft's deadline; the manager sets the real one before clearance


def _in_locale(locale: str, make) -> str:
    with force_locale(locale):
        return make()


def prefill(result: ResultRecord) -> dict:
    """A create_challenge payload built from the result and the challenge it answered."""
    from marketplace.results.services import public_url

    origin = result.challenge
    link = public_url(f"/results/{result.id}")
    titles, summaries, descriptions = {}, {}, {}
    for text in result.texts:
        locale = text.locale
        titles[locale] = _in_locale(locale, lambda t=text: _("Second round: %(title)s", title=t.title))[:200]
        summaries[locale] = text.abstract[:2000]
        descriptions[locale] = _in_locale(locale, lambda t=text: "\n\n".join(filter(None, (
            _("This challenge builds on an open result: %(link)s", link=link), t.abstract,
            _("Licence terms of the result: %(terms)s", terms=t.licence_terms) if t.licence_terms else "",
        ))))[:50_000]
    return {
        "default_locale": result.default_locale,
        "title": titles, "summary": summaries, "description": descriptions,
        "challenge_type": origin.challenge_type, "field": result.field,
        "deadline": utcnow() + timedelta(days=FOLLOW_ON_DAYS),
        "award_currency": origin.award_currency, "premium_pct": origin.premium_pct,
        "criteria": [{"name": dict(c.name), "weight": c.weight} for c in origin.criteria],
        "eligibility": {"excluded_countries": list(origin.excluded_countries)},
        "seeker_anonymous": origin.seeker_anonymous, "invite_only": origin.invite_only,
        "ip_terms": origin.ip_terms, "target_trl": origin.target_trl,
        "program_id": origin.program_id, "requirement_codes": [r.code for r in origin.requirements],
    }


def start_follow_on(result: ResultRecord, actor, overrides: dict | None = None) -> Challenge:
    """A draft challenge prefilled from `result` (overrides win), linked to it. Clearance comes next."""
    if not result.can_manage(actor):
        raise Forbidden(_l("Only center managers of this organization can start follow-on challenges."))
    if result.status != "published":
        raise Conflict(_l("Start a follow-on challenge from a published result."))
    data = {**prefill(result), **{k: v for k, v in (overrides or {}).items() if v is not None}}
    challenge = challenges.create_challenge(result.organization, actor, data)
    challenge.early_career_bonus_pct = result.challenge.early_career_bonus_pct
    db.session.add(FollowOn(challenge_id=challenge.id, result_id=result.id, created_by_id=actor.id))
    db.session.flush()
    record("challenge.follow_on_started", "challenge", challenge.id, actor=actor, result=result.id,
           origin_challenge=result.challenge_id)
    return challenge


def follow_ons_of(result: ResultRecord) -> list[Challenge]:
    return list(db.session.scalars(select(Challenge).join(FollowOn, FollowOn.challenge_id == Challenge.id)
                                   .where(FollowOn.result_id == result.id).order_by(Challenge.id)))


def origin_of(challenge_id: int) -> ResultRecord | None:
    """The result a follow-on challenge builds on (None for a first-round challenge)."""
    return db.session.scalar(select(ResultRecord).join(FollowOn, FollowOn.result_id == ResultRecord.id)
                             .where(FollowOn.challenge_id == challenge_id))


def follow_on_origin(challenge: Challenge, user) -> dict | None:
    """{result_id, challenge_id} of the result a challenge builds on, when the caller may see that result."""
    result = origin_of(challenge.id)
    if result is None or not result.can_view(user):
        return None
    return {"result_id": result.id, "challenge_id": result.challenge_id}


def chain(challenge_ids: list[int]) -> list[dict]:
    """Every link touching these challenges: {from_challenge_id, result_id, to_challenge_id}, in one query."""
    if not challenge_ids:
        return []
    rows = db.session.execute(
        select(ResultRecord.challenge_id, FollowOn.result_id, FollowOn.challenge_id)
        .join(ResultRecord, ResultRecord.id == FollowOn.result_id)
        .where(or_(ResultRecord.challenge_id.in_(challenge_ids), FollowOn.challenge_id.in_(challenge_ids)))
        .order_by(FollowOn.challenge_id)).all()
    return [{"from_challenge_id": origin, "result_id": result_id, "to_challenge_id": follow_on}
            for origin, result_id, follow_on in rows]
