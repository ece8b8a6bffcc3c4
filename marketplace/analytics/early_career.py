"""Early-career researchers: the optional bonus a challenge adds to an early-career winner's award.

The bonus is a percentage of the winner's part of the award. It is funded with the challenge: escrow
must hold the award plus the largest bonus it could owe (every winner early-career), rounded UP to the
minor unit, while each winner's bonus is rounded DOWN, so the bonuses paid never exceed what was funded.

    max_bonus_minor(challenge) -> int         the bonus part of what must be funded
    bonus_minor(challenge, amount_minor) -> int   the bonus on one early-career winner's amount
    set_bonus(challenge, actor, pct) -> Challenge  a center manager sets it before publication
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_UP, Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.audit.services import record
from marketplace.errors import Conflict, Forbidden, ValidationFailed

MAX_BONUS_PCT = Decimal("50")
# The bonus changes what must be funded, so it is fixed once the challenge is published.
BONUS_EDITABLE_STATES = ("draft", "in_clearance", "cleared")
HUNDRED = Decimal(100)


def _pct(challenge) -> Decimal:
    return Decimal(challenge.early_career_bonus_pct or 0)


def max_bonus_minor(challenge) -> int:
    return int((Decimal(challenge.award_minor) * _pct(challenge) / HUNDRED).to_integral_value(rounding=ROUND_UP))


def bonus_minor(challenge, amount_minor: int) -> int:
    """The bonus owed on `amount_minor` (one early-career winner's part of the award); 0 without a bonus."""
    return int((Decimal(amount_minor) * _pct(challenge) / HUNDRED).to_integral_value(rounding=ROUND_DOWN))


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
    from marketplace.challenges.funding import refresh_funded

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
