"""A challenge's escrow: funded through a provider, allocated to winners, refunded to the funder.

    open_funding(challenge, intent)          a provider intent (Stripe PaymentIntent, or a wire to expect)
    post_receipt(receipt, actor)             a manual bank receipt -> funding transaction
    apply_funding_received(event)            Stripe confirmed a payment -> receipt + funding transaction
    allocate_award(award, actor=None)        the decision: escrow -> each recipient's payable
    cancel_award(award, actor, reason)       an unpaid award is withdrawn: payable -> escrow
    schedule_refunds(challenge, actor, ...)  what escrow holds goes back (cancelled, no award, remainder)
    begin_refund / send_refund / record_refund_result / confirm_refund_wire

Services flush and never commit; a refund is committed as `sending` before the provider is called.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from marketplace.audit.services import record
from marketplace.db import lock_for_update, utcnow
from marketplace.errors import Conflict, Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.money import Money
from marketplace.payments import ledger
from marketplace.payments.errors import as_domain_error
from marketplace.payments.manual_provider import ManualProvider, normalise_reference
from marketplace.payments.models import ProviderEventRecord, Refund
from marketplace.payments.providers import ProviderError, ProviderEvent, ProviderUnavailable
from marketplace.payments.routing import current_provider, provider_named
from marketplace.permissions import Role

log = logging.getLogger(__name__)
OPEN_REFUND_STATES = ("scheduled", "sending", "sent")


def _require_finance(challenge, user) -> None:
    if not (user and user.has_role(Role.FINANCE_OFFICER, challenge.organization_id)):
        raise Forbidden(_l("Only finance officers of this organization can move its money."))


# --- funding -----------------------------------------------------------------------------


def funding_key(challenge_id: int, intent_id: int) -> str:
    return f"challenge-{challenge_id}-funding-{intent_id}"


def open_funding(challenge, intent):
    """Ask the configured provider for a funding intent for `intent` (a challenges FundingIntent row).

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
    from marketplace.challenges.funding import refresh_funded
    from marketplace.challenges.models import Challenge, FundingIntent, FundingReceipt

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
    from marketplace.challenges.models import FundingIntent

    intent = db.session.scalar(select(FundingIntent).filter_by(provider=event.provider, external_id=event.object_id))
    if intent is None:
        return "ignored"
    if intent.status == "pending":  # never downgrade a payment that succeeded (events arrive out of order)
        intent.status = "canceled" if event.kind == "funding.canceled" else "failed"
        record("funding.failed", "challenge", intent.challenge_id, provider=event.provider,
               external_id=event.object_id, status=intent.status)
    return "applied"


# --- awards ------------------------------------------------------------------------------


def allocate_award(award, actor=None):
    """The decision moves the award from the challenge's escrow to each recipient's payable account.

    Called by the award decision code once the Award and its AwardRecipients exist (flushed).
    Refused (409) when escrow does not hold the money. Applied once per award.
    """
    recipients = [r for r in award.recipients if r.amount_minor > 0]
    if sum(r.amount_minor for r in award.recipients) != award.amount_minor or not recipients:
        raise ValueError(f"award {award.id}: recipients' amounts do not add up to the award")
    escrow = ledger.escrow_account(award.challenge_id, award.currency)
    legs = [ledger.Leg(escrow, award.amount_minor)]
    legs += [ledger.Leg(ledger.payable_account(r.user_id, award.currency), -r.amount_minor) for r in recipients]
    return ledger.post("allocation", legs, dedupe_key=f"allocation:award:{award.id}",
                       memo=f"award {award.id} ({award.share_pct}%)", challenge_id=award.challenge_id,
                       award_id=award.id, actor=actor)


def cancel_award(award, actor, *, reason: str):
    """Withdraw an award before it is paid: each recipient's payable goes back to escrow."""
    from marketplace.payments.payouts import move_award

    if not (actor and actor.has_role(Role.CENTER_MANAGER, _challenge_of(award).organization_id)):
        raise Forbidden(_l("Only center managers of this organization can cancel its awards."))
    lock_for_update(db.session, award)
    move_award(award, "cancelled", actor=actor, action="award.cancelled", reason=reason)
    for recipient in award.recipients:
        recipient.payout_status = "cancelled"
    allocation = ledger.find_transaction(f"allocation:award:{award.id}")
    if allocation is not None:
        legs = [ledger.Leg(entry.account, -entry.amount_minor) for entry in allocation.entries]
        ledger.post("reversal", legs, dedupe_key=f"reversal:award:{award.id}", memo=f"award {award.id} cancelled",
                    challenge_id=award.challenge_id, award_id=award.id, actor=actor)
    return award


def _challenge_of(award):
    from marketplace.challenges.models import Challenge

    return db.session.get(Challenge, award.challenge_id)


# --- refunds -----------------------------------------------------------------------------


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
    from marketplace.challenges.models import FundingIntent, FundingReceipt

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
    from marketplace.challenges.models import Challenge

    _require_finance(db.session.get(Challenge, refund.challenge_id), officer)
    lock_for_update(db.session, refund)
    if refund.status not in ("scheduled", "failed"):
        raise Conflict(_l("This refund is already %(status)s.", status=refund.status))
    refund.status = "sending"
    record("refund.sending", "challenge", refund.challenge_id, actor=officer, refund_id=refund.id)
    return refund


def send_refund(refund: Refund) -> RefundResult:
    """Call the provider (outside any lock; the key makes a repeat return the first refund)."""
    from marketplace.challenges.models import FundingIntent

    try:
        if refund.provider == "manual":
            outcome = ManualProvider().refund_funding(f"challenge:{refund.challenge_id}", refund.amount_minor,
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
    from marketplace.challenges.models import Challenge

    _require_finance(db.session.get(Challenge, refund.challenge_id), officer)
    lock_for_update(db.session, refund)
    if refund.provider != "manual" or refund.status not in ("sent", "sending"):
        raise Conflict(_l("Only a wire refund that was sent can be confirmed."))
    try:
        refund.reference = normalise_reference(reference)
    except ValueError as error:
        raise ValidationFailed(_l("Give the wire reference."), errors={"reference": [str(error)]}) from error
    refund.external_id = refund.external_id or ManualProvider().refund_funding(
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


def store_event(event: ProviderEvent, *, received_on: date | None = None) -> bool:
    """Remember a provider event; False when it was seen before (apply it only when True)."""
    return ledger.insert_once(ProviderEventRecord, {
        "provider": event.provider, "event_id": event.id, "type": event.type,
        "payload": {"object_id": event.object_id, "kind": event.kind, "amount_minor": event.amount_minor,
                    "currency": event.currency},
        "received_on": received_on or date.today()}, ["provider", "event_id"])
