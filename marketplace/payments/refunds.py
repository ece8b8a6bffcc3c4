"""Refunds: what a challenge's escrow holds goes back to whoever paid it.

    refundable(challenge)                    what escrow holds and no refund has claimed yet
    schedule_refunds(challenge, actor, ...)  planned on cancellation, no award or a remainder: cards first, then wire
    begin_refund(refund, officer)            a finance officer claims it (`sending`); the caller commits
    send_refund(refund) / record_refund_result(result)   the provider call (no database), then its answer
    confirm_refund_wire(refund, officer, reference)      finance recorded the outgoing wire

Exactly once like payouts: a refund is committed as `sending` before the provider is called, with its own
idempotency key; reconcile resends those left `sending`. Services flush and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from marketplace.audit.services import record
from marketplace.challenges.models import Challenge
from marketplace.db import lock_for_update, utcnow
from marketplace.errors import Conflict, Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.money import Money
from marketplace.payments import ledger
from marketplace.payments.models import FundingIntent, FundingReceipt, Refund
from marketplace.payments.providers.interface import (
    ProviderError,
    ProviderUnavailable,
    normalise_reference,
)
from marketplace.payments.providers.registry import manual_provider, provider_named
from marketplace.permissions import Role

OPEN_REFUND_STATES = ("scheduled", "sending", "sent")


def _require_finance(challenge, user) -> None:
    if not (user and user.has_role(Role.FINANCE_OFFICER, challenge.organization_id)):
        raise Forbidden(_l("Only finance officers of this organization can move its money."))


def refundable(challenge) -> int:
    """What escrow holds and no refund has claimed yet."""
    escrow = ledger.find_account(f"escrow:challenge:{challenge.id}", challenge.award_currency)
    if escrow is None:
        return 0
    claimed = db.session.scalar(select(func.coalesce(func.sum(Refund.amount_minor), 0)).where(
        Refund.challenge_id == challenge.id, Refund.status.in_(OPEN_REFUND_STATES))) or 0
    return ledger.held(escrow) - claimed


def schedule_refunds(challenge, actor, *, reason: str) -> list[Refund]:
    """Plan the return of what escrow holds to whoever paid it: card payments first, the rest by wire.

    Called when a challenge is cancelled (and by the decision for no award or a partial award).
    Nothing moves yet: a finance officer sends each refund (`begin_refund`).
    """
    remaining = refundable(challenge)
    if remaining <= 0:
        return []
    planned: list[Refund] = []
    sequence = db.session.scalar(select(func.count(Refund.id)).where(Refund.challenge_id == challenge.id)) or 0
    card_payments = db.session.scalars(select(FundingIntent).where(
        FundingIntent.challenge_id == challenge.id, FundingIntent.provider != "manual",
        FundingIntent.status == "succeeded").order_by(FundingIntent.id)).all()
    for intent in card_payments:
        received = db.session.scalar(select(func.coalesce(func.sum(FundingReceipt.amount_minor), 0)).where(
            FundingReceipt.challenge_id == challenge.id, FundingReceipt.reference == intent.external_id)) or 0
        refunded = db.session.scalar(select(func.coalesce(func.sum(Refund.amount_minor), 0)).where(
            Refund.funding_intent_id == intent.id, Refund.status != "failed")) or 0
        amount = min(remaining, received - refunded)
        if amount > 0:
            sequence += 1
            planned.append(Refund(challenge_id=challenge.id, funding_intent_id=intent.id, provider=intent.provider,
                                  amount_minor=amount, currency=challenge.award_currency,
                                  idempotency_key=f"challenge-{challenge.id}-refund-{sequence}"))
            remaining -= amount
    if remaining > 0:
        sequence += 1
        planned.append(Refund(challenge_id=challenge.id, provider="manual", amount_minor=remaining,
                              currency=challenge.award_currency,
                              idempotency_key=f"challenge-{challenge.id}-refund-{sequence}"))
    for refund in planned:
        refund.reason = reason
        refund.requested_by_id = getattr(actor, "id", None)
        refund.status = "scheduled"
        db.session.add(refund)
    db.session.flush()
    for refund in planned:
        record("refund.scheduled", "challenge", challenge.id, actor=actor, refund_id=refund.id,
               provider=refund.provider, amount=Money(refund.amount_minor, refund.currency).as_dict(), reason=reason)
    return planned


@dataclass(frozen=True)
class RefundResult:
    refund_id: int
    status: str | None = None  # the provider's: succeeded | pending | failed
    external_id: str | None = None
    error: ProviderError | None = None


def begin_refund(refund: Refund, officer) -> Refund:
    """Claim the refund for sending (a second click gets 409); the route commits before `send_refund`."""
    _require_finance(db.session.get(Challenge, refund.challenge_id), officer)
    lock_for_update(db.session, refund)
    if refund.status not in ("scheduled", "failed"):
        raise Conflict(_l("This refund is already %(status)s.", status=refund.status))
    refund.status = "sending"
    record("refund.sending", "challenge", refund.challenge_id, actor=officer, refund_id=refund.id)
    return refund


def send_refund(refund: Refund) -> RefundResult:
    """Call the provider (outside any lock; the key makes a repeat return the first refund)."""
    try:
        if refund.provider == "manual":
            outcome = manual_provider().refund_funding(f"challenge:{refund.challenge_id}", refund.amount_minor,
                                                      refund.currency, refund.idempotency_key)
        else:
            intent = db.session.get(FundingIntent, refund.funding_intent_id)
            outcome = provider_named(refund.provider).refund_funding(
                intent.external_id, refund.amount_minor, refund.currency, refund.idempotency_key)
    except ProviderError as error:
        return RefundResult(refund.id, error=error)
    return RefundResult(refund.id, status=outcome.status, external_id=outcome.external_id)


def record_refund_result(result: RefundResult, actor=None) -> Refund:
    refund = db.session.get(Refund, result.refund_id)
    lock_for_update(db.session, refund)
    if refund.status != "sending":
        return refund  # someone else recorded it (reconcile, a retry)
    if result.error is not None:
        refund.last_error = result.error.message
        if not isinstance(result.error, ProviderUnavailable):  # unknown outcome stays `sending` for reconcile
            refund.status = "failed"
            record("refund.failed", "challenge", refund.challenge_id, actor=actor, refund_id=refund.id,
                   reason=result.error.message)
        return refund
    refund.external_id = result.external_id
    if refund.provider == "manual":
        refund.status = "sent"  # a wire instruction: finance confirms it with the bank reference
        return refund
    if result.status == "failed":
        refund.status = "failed"
        return refund
    # Stripe takes a refund from the platform balance when it accepts it (even while `pending`).
    _complete_refund(refund, actor)
    return refund


def confirm_refund_wire(refund: Refund, officer, *, reference: str) -> Refund:
    _require_finance(db.session.get(Challenge, refund.challenge_id), officer)
    lock_for_update(db.session, refund)
    if refund.provider != "manual" or refund.status not in ("sent", "sending"):
        raise Conflict(_l("Only a wire refund that was sent can be confirmed."))
    try:
        refund.reference = normalise_reference(reference)
    except ValueError as error:
        raise ValidationFailed(_l("Give the wire reference."), errors={"reference": [str(error)]}) from error
    refund.external_id = refund.external_id or manual_provider().refund_funding(
        "", refund.amount_minor, refund.currency, refund.idempotency_key).external_id
    _complete_refund(refund, officer)
    return refund


def _complete_refund(refund: Refund, actor) -> None:
    refund.status = "succeeded"
    refund.completed_at = utcnow()
    ledger.move("refund", ledger.escrow_account(refund.challenge_id, refund.currency),
                ledger.clearing_account(refund.provider, refund.currency), refund.amount_minor,
                dedupe_key=f"refund:{refund.idempotency_key}", memo=f"refund {refund.id} via {refund.provider}",
                challenge_id=refund.challenge_id, actor=actor)
    record("refund.succeeded", "challenge", refund.challenge_id, actor=actor, refund_id=refund.id,
           amount=Money(refund.amount_minor, refund.currency).as_dict(), reference=refund.reference,
           external_id=refund.external_id)
