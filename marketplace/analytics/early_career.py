"""Early-career researchers: the optional bonus a challenge adds to an early-career winner's award.

The bonus is a percentage of the winner's part of the award, funded with the challenge. Its arithmetic
lives on the model (`Challenge.max_early_career_bonus_minor`, `Challenge.early_career_bonus_minor`, which
`Challenge.funding_target_minor` adds up), so the model needs nothing from here.

    parse_pct(value) -> Decimal                    a percentage between 0 and MAX_BONUS_PCT, two decimals
    is_early_career(user_id) -> bool               what the solver declared on their profile
    set_bonus(challenge, actor, pct) -> Challenge  a center manager sets it before publication
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.audit.services import record
from marketplace.errors import Conflict, Forbidden, ValidationFailed
from marketplace.payments.funding import refresh_funded

MAX_BONUS_PCT = Decimal("50")
# The bonus changes what must be funded, so it is fixed once the challenge is published.
BONUS_EDITABLE_STATES = ("draft", "in_clearance", "cleared")


def is_early_career(user_id: int) -> bool:
    from marketplace.extensions import db
    from marketplace.solvers.models import ExpertProfile

    return bool(db.session.scalar(select(ExpertProfile.early_career).where(ExpertProfile.user_id == user_id)))


def parse_pct(value) -> Decimal:
    try:
        pct = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as error:
        raise ValidationFailed(_l("Not a number."), errors={"pct": [_l("Not a number.")]}) from error
    if not pct.is_finite() or not Decimal(0) <= pct <= MAX_BONUS_PCT:
        message = _l("The early-career bonus lies between 0 and %(max)s percent.", max=MAX_BONUS_PCT)
        raise ValidationFailed(message, errors={"pct": [message]})
    if pct != pct.quantize(Decimal("0.01")):
        message = _l("Use at most two decimal places.")
        raise ValidationFailed(message, errors={"pct": [message]})
    return pct


def set_bonus(challenge, actor, pct) -> object:
    """Set the early-career bonus of a challenge that is not yet published; the funding target follows."""
    if not challenge.can_manage(actor):
        raise Forbidden(_l("Only center managers of this organization can change its challenges."))
    if challenge.status not in BONUS_EDITABLE_STATES:
        raise Conflict(_l("The early-career bonus is part of the funded award; it cannot change once the "
                          "challenge is published."))
    pct = parse_pct(pct)
    previous = Decimal(challenge.early_career_bonus_pct or 0)
    challenge.early_career_bonus_pct = pct
    refresh_funded(challenge)
    record("challenge.early_career_bonus_set", "challenge", challenge.id, actor=actor,
           **{"from": format(previous.normalize(), "f"), "to": format(pct.normalize(), "f"),
              "funding_target_minor": challenge.funding_target_minor})
    return challenge
