"""Funding a challenge's award: a provider intent, and receipts that make it `funded`.

The configured payment provider (payments.routing.current_provider) opens the intent: a Stripe
PaymentIntent the center pays by card (its webhook records the receipt), or a bank wire a finance
officer records as a receipt. Every receipt is also a funding transaction in the ledger.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from marketplace.audit.services import record
from marketplace.challenges.models import Challenge, FundingIntent, FundingReceipt
from marketplace.db import lock_for_update
from marketplace.errors import Conflict, Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.money import Money
from marketplace.permissions import Role

FUNDABLE_STATES = ("draft", "in_clearance", "cleared", "open")


def _require_finance(challenge: Challenge, user) -> None:
    if not user.has_role(Role.FINANCE_OFFICER, challenge.organization_id):
        raise Forbidden(_l("Only finance officers of this organization can fund its challenges."))


def received_minor(challenge: Challenge) -> int:
    return (
        db.session.scalar(
            select(func.coalesce(func.sum(FundingReceipt.amount_minor), 0)).where(
                FundingReceipt.challenge_id == challenge.id
            )
        )
        or 0
    )


def refresh_funded(challenge: Challenge) -> None:
    funded = received_minor(challenge) >= challenge.funding_target_minor
    if funded != challenge.funded:
        challenge.funded = funded
        record(
            "challenge.funded" if funded else "challenge.funding_short",
            "challenge",
            challenge.id,
            received_minor=received_minor(challenge),
            award_minor=challenge.award_minor,
            funding_target_minor=challenge.funding_target_minor,
        )


def start_funding(challenge: Challenge, officer) -> FundingIntent:
    _require_finance(challenge, officer)
    if challenge.status not in FUNDABLE_STATES:
        raise Conflict(_l("This challenge can no longer be funded."))
    shortfall = challenge.funding_target_minor - received_minor(challenge)
    if shortfall <= 0:
        raise Conflict(_l("The award is already funded."))
    from marketplace.payments import escrow
    from marketplace.payments.routing import current_provider

    provider = current_provider().name
    open_intent = db.session.scalar(
        select(FundingIntent).filter_by(
            challenge_id=challenge.id, provider=provider, status="pending", amount_minor=shortfall
        )
    )
    if open_intent is not None:  # asked again (a reload of the funding page): the same intent
        open_intent.client_secret = escrow.client_secret_of(open_intent)
        return open_intent
    intent = FundingIntent(
        challenge_id=challenge.id,
        provider=provider,
        amount_minor=shortfall,
        currency=challenge.award_currency,
        requested_by_id=officer.id,
    )
    db.session.add(intent)
    db.session.flush()
    intent.client_secret = escrow.open_funding(challenge, intent).client_secret
    record(
        "funding.requested",
        "challenge",
        challenge.id,
        actor=officer,
        provider=intent.provider,
        external_id=intent.external_id,
        amount=Money(shortfall, challenge.award_currency).as_dict(),
    )
    return intent


def latest_plausible_date() -> date:
    """The latest date a bank can have booked anything: today where the calendar is furthest ahead (UTC+14)."""
    return (datetime.now(UTC) + timedelta(hours=14)).date()


def _check_receipt_date(received_on: date) -> None:
    if received_on > latest_plausible_date():
        message = _l("The date received cannot be in the future.")
        raise ValidationFailed(message, errors={"received_on": [message]})


def _check_overfunding(challenge: Challenge, amount: Money, confirmed: bool) -> None:
    """More than what is outstanding is recorded only when the officer confirms the over-funding."""
    outstanding = max(challenge.funding_target_minor - received_minor(challenge), 0)
    if amount.minor > outstanding and not confirmed:
        message = _l("The amount is more than what is outstanding (%(outstanding)s %(currency)s). Check it, or "
                     "confirm the over-funding to record it anyway.",
                     outstanding=Money(outstanding, amount.currency).as_dict()["amount"], currency=amount.currency)
        raise ValidationFailed(message, errors={"confirm_overfunding": [message]})


def record_receipt(
    challenge: Challenge, officer, *, reference: str, amount: Money, received_on: date,
    confirm_overfunding: bool = False,
) -> FundingReceipt:
    _require_finance(challenge, officer)
    lock_for_update(db.session, challenge)  # concurrent receipts are checked against what is outstanding in turn
    if challenge.status not in FUNDABLE_STATES:
        raise Conflict(_l("This challenge can no longer be funded."))
    _check_receipt_date(received_on)
    if amount.currency != challenge.award_currency:
        raise ValidationFailed(
            _l("The receipt must be in the award currency (%(currency)s).", currency=challenge.award_currency),
            errors={"amount": [_l("Wrong currency.")]},
        )
    if amount.minor <= 0:
        raise ValidationFailed(
            _l("The amount must be more than zero."), errors={"amount": [_l("Must be more than zero.")]}
        )
    if not reference.strip():
        raise ValidationFailed(_l("Give the bank reference."), errors={"reference": [_l("Required.")]})
    if db.session.scalar(select(FundingReceipt.id).filter_by(challenge_id=challenge.id, reference=reference.strip())):
        raise Conflict(_l("A receipt with this reference is already recorded."))
    _check_overfunding(challenge, amount, confirm_overfunding)
    receipt = FundingReceipt(
        challenge_id=challenge.id,
        reference=reference.strip(),
        amount_minor=amount.minor,
        currency=amount.currency,
        received_on=received_on,
        recorded_by_id=officer.id,
    )
    db.session.add(receipt)
    db.session.flush()
    record(
        "funding.receipt_recorded",
        "challenge",
        challenge.id,
        actor=officer,
        reference=receipt.reference,
        amount=amount.as_dict(),
        received_on=received_on.isoformat(),
        overfunding_confirmed=confirm_overfunding,
    )
    from marketplace.payments.escrow import post_receipt

    post_receipt(receipt, officer)
    for intent in db.session.scalars(select(FundingIntent).filter_by(challenge_id=challenge.id, status="pending")):
        if received_minor(challenge) >= challenge.funding_target_minor:
            intent.status = "succeeded"
    refresh_funded(challenge)
    return receipt
