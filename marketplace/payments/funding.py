"""Funding a challenge's award: a provider intent, and receipts that make it `funded`.

    start_funding(challenge, officer)          a provider intent for what is outstanding (the same one when asked again)
    record_receipt(challenge, officer, ...)    a bank receipt a finance officer records -> funding transaction
    apply_funding_received(event)              Stripe confirmed a payment -> receipt + funding transaction
    apply_funding_failed(event)                a payment failed or was cancelled (never downgrades a success)
    received_minor / refresh_funded            what arrived; `Challenge.funded` follows the funding target

The configured payment provider (providers.registry.current_provider) opens the intent: a Stripe
PaymentIntent the center pays by card (its webhook records the receipt), or a bank wire a finance
officer records as a receipt. Every receipt is also a funding transaction in the ledger (`post_receipt`).
Refunds of what escrow holds are apart, in refunds.py.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from marketplace.audit.services import record
from marketplace.challenges.models import Challenge
from marketplace.db import lock_for_update
from marketplace.errors import Conflict, DomainError, Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.money import Money
from marketplace.payments import ledger
from marketplace.payments.errors import as_domain_error
from marketplace.payments.models import FundingIntent, FundingReceipt
from marketplace.payments.providers.interface import ProviderError, ProviderEvent
from marketplace.payments.providers.registry import current_provider, provider_named
from marketplace.permissions import Role

log = logging.getLogger(__name__)
FUNDABLE_STATES = ("draft", "in_clearance", "cleared", "open")


def funding_refusal(challenge: Challenge, user) -> DomainError | None:
    """Why `user` may not fund `challenge` (start a provider's funding or record a receipt), or None.

    The one home of the rule: both services raise it, and the manage page offers funding only without it.
    """
    if not user.has_role(Role.FINANCE_OFFICER, challenge.organization_id):
        return Forbidden(_l("Only finance officers of this organization can fund its challenges."))
    if challenge.status not in FUNDABLE_STATES:
        return Conflict(_l("This challenge can no longer be funded."))
    return None


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
    if refusal := funding_refusal(challenge, officer):
        raise refusal
    shortfall = challenge.funding_target_minor - received_minor(challenge)
    if shortfall <= 0:
        raise Conflict(_l("The award is already funded."))
    provider = current_provider().name
    open_intent = db.session.scalar(
        select(FundingIntent).filter_by(
            challenge_id=challenge.id, provider=provider, status="pending", amount_minor=shortfall
        )
    )
    if open_intent is not None:  # asked again (a reload of the funding page): the same intent
        open_intent.client_secret = client_secret_of(open_intent)
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
    intent.client_secret = open_funding(challenge, intent).client_secret
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
    lock_for_update(db.session, challenge)  # concurrent receipts are checked against what is outstanding in turn
    if refusal := funding_refusal(challenge, officer):
        raise refusal
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
    post_receipt(receipt, officer)
    for intent in db.session.scalars(select(FundingIntent).filter_by(challenge_id=challenge.id, status="pending")):
        if received_minor(challenge) >= challenge.funding_target_minor:
            intent.status = "succeeded"
    refresh_funded(challenge)
    return receipt


# --- the provider side: intents, events, the ledger ---------------------------------------


def funding_key(challenge_id: int, intent_id: int) -> str:
    return f"challenge-{challenge_id}-funding-{intent_id}"


def open_funding(challenge, intent):
    """Ask the configured provider for a funding intent for `intent` (a FundingIntent row).

    The key derives from the row, so a retry after a lost answer gets the same PaymentIntent.
    Returns the provider's FundingIntent (with Stripe's client_secret for the card form).
    """
    provider = current_provider()
    try:
        opened = provider.create_funding(f"challenge:{challenge.id}", intent.amount_minor, intent.currency,
                                         funding_key(challenge.id, intent.id))
    except ProviderError as error:
        raise as_domain_error(error) from error
    intent.provider = provider.name
    intent.external_id = opened.external_id
    intent.status = opened.status
    return opened


def client_secret_of(intent) -> str | None:
    """Stripe's client secret for a pending intent (asked again, never stored)."""
    if intent.provider == "manual" or not intent.external_id:
        return None
    try:
        return provider_named(intent.provider).retrieve_funding(intent.external_id).client_secret
    except ProviderError as error:
        raise as_domain_error(error) from error


def post_receipt(receipt, actor=None, *, provider: str = "manual"):
    """Money arrived for a challenge: clearing:<provider> Dr, escrow Cr."""
    return ledger.move(
        "funding", ledger.clearing_account(provider, receipt.currency),
        ledger.escrow_account(receipt.challenge_id, receipt.currency), receipt.amount_minor,
        dedupe_key=f"funding:receipt:{receipt.id}", memo=f"{provider} receipt {receipt.reference}",
        challenge_id=receipt.challenge_id, actor=actor)


def apply_funding_received(event: ProviderEvent) -> str:
    """A provider confirmed a payment into escrow (Stripe's payment_intent.succeeded)."""
    intent = db.session.scalar(select(FundingIntent).filter_by(provider=event.provider, external_id=event.object_id))
    if intent is None:
        log.warning("funding event %s for unknown intent %s ignored", event.id, event.object_id)
        return "ignored"
    challenge = db.session.get(Challenge, intent.challenge_id)
    lock_for_update(db.session, challenge)
    amount = event.amount_minor if event.amount_minor is not None else intent.amount_minor
    currency = event.currency or intent.currency
    if currency != challenge.award_currency:
        log.error("funding %s arrived in %s for a %s challenge: left for finance", event.object_id, currency,
                  challenge.award_currency)
        return "ignored"
    receipt = db.session.scalar(select(FundingReceipt).filter_by(challenge_id=challenge.id, reference=event.object_id))
    if receipt is None:
        receipt = FundingReceipt(challenge_id=challenge.id, reference=event.object_id, amount_minor=amount,
                                 currency=currency, received_on=date.today(), recorded_by_id=intent.requested_by_id)
        db.session.add(receipt)
        db.session.flush()
        record("funding.received", "challenge", challenge.id, provider=event.provider, external_id=event.object_id,
               amount=Money(amount, currency).as_dict())
    intent.status = "succeeded"
    post_receipt(receipt, provider=event.provider)
    refresh_funded(challenge)
    return "applied"


def apply_funding_failed(event: ProviderEvent) -> str:
    intent = db.session.scalar(select(FundingIntent).filter_by(provider=event.provider, external_id=event.object_id))
    if intent is None:
        return "ignored"
    if intent.status == "pending":  # never downgrade a payment that succeeded (events arrive out of order)
        intent.status = "canceled" if event.kind == "funding.canceled" else "failed"
        record("funding.failed", "challenge", intent.challenge_id, provider=event.provider,
               external_id=event.object_id, status=intent.status)
    return "applied"
