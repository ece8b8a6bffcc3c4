"""Paying an award's recipients: the award and payout state machines, exactly-once transfers, wires.

    move_award(award, to, ...)                the award's transition table (AWARD_TRANSITIONS), audited
    move(payout, to, ...)                     the payout's (models.PAYOUT_TRANSITIONS): the only writer of its
                                              status, mirrored on the recipient and audited
    order_for(payout) / send(order, provider) the provider call, no database (safe in threads)
    record_result(result)                     the provider's answer -> paid / sent / failed / still pending
    confirm_wire(award, officer, reference)   finance recorded the outgoing wire -> paid
    complete_payout(payout, ...)              the ledger movement payable -> clearing, once per recipient

Screening, the two-person release and `approve_and_pay` (which commits the pending payouts before
any provider call) are in release.py. A crash after the provider acted leaves a `pending` payout with
its key, which `reconcile` resolves by asking the provider (or retrying with the same key, which the
provider answers with the first transfer). Recording a result locks the award row again and does
nothing when the payout is already settled, so the approve path, a webhook and reconcile may race safely.

Stripe semantics: a Transfer is synchronous. When Stripe answers the create call, the money is in
the connected account (its `transfer.created` event says the same), so that answer completes the
payout; the webhook completes it too when the answer was lost. A manual wire is `sent` until a
finance officer records the bank reference.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.audit.services import record
from marketplace.awards.models import Award, AwardRecipient
from marketplace.challenges.models import Challenge
from marketplace.db import lock_for_update, utcnow
from marketplace.errors import Conflict, Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.money import Money
from marketplace.payments import ledger
from marketplace.payments.conflicts import require_no_conflict
from marketplace.payments.escrow import store_event
from marketplace.payments.models import PAYOUT_TRANSITIONS, Payout, PayoutAccount
from marketplace.payments.providers.interface import PaymentProvider, ProviderError, ProviderUnavailable, Transfer
from marketplace.payments.providers.registry import manual_provider
from marketplace.permissions import Role

AWARD_TRANSITIONS: dict[str, set[str]] = {
    "awarded": {"release_requested", "cancelled"},
    "release_requested": {"paying", "awarded", "cancelled"},
    "paying": {"paid"},
    "paid": {"paying"},  # only when the provider reverses a transfer
    "cancelled": set(),
}
SETTLED = ("paid",)

# --- the payout state machine: `move` is the only writer of `Payout.status` ------------------
# The allowed moves are `models.PAYOUT_TRANSITIONS` (the database CHECK is built from the same table). Every
# path that changes a payout's state (approval, the provider's answer, a wire confirmation, a webhook,
# reconcile's retry) calls `move`, which checks the move, mirrors it on the award recipient and audits it.

# The recipient's mirrored state for each payout state.
RECIPIENT_STATE = {"pending": "paying", "sent": "paying", "paid": "paid", "failed": "failed", "reversed": "reversed"}
# Moves the solver is told about (winner_notices; each step once per recipient).
ANNOUNCED_MOVES = frozenset({"paid", "failed", "reversed"})
# The audit action of each move (kept as before the state machine, so existing reports still read them).
ACTIONS = {"pending": "payout.retried", "sent": "payout.sent", "paid": "payout.paid", "failed": "payout.failed",
           "reversed": "payout.reversed"}


def can_move(payout: Payout, to: str) -> bool:
    return to in PAYOUT_TRANSITIONS.get(payout.status, frozenset())


def move(payout: Payout, to: str, *, actor, reason: str = "", **data) -> None:
    """Move `payout` to `to` (Conflict when the table forbids it), mirror it on its recipient, audit it."""
    if not can_move(payout, to):
        raise Conflict(_l("This payout is %(state)s; it cannot become %(target)s.", state=payout.status, target=to))
    previous = payout.status
    payout.status = to
    recipient = db.session.get(AwardRecipient, payout.award_recipient_id)
    recipient.payout_status = RECIPIENT_STATE[to]
    details = {"from": previous, "to": to, "payout_id": payout.id, "provider": payout.provider}
    if reason:
        details["reason"] = reason
    record(ACTIONS[to], "award", recipient.award_id, actor=actor, **details, **data)
    if to in ANNOUNCED_MOVES:
        from marketplace.awards.winner_notices import announce  # awards import payments: a late import

        announce(recipient)  # "the money was sent", once: a replayed webhook finds the payout paid already


def move_award(award: Award, to: str, *, actor, action: str, **data) -> None:
    if to not in AWARD_TRANSITIONS.get(award.status, set()):
        raise Conflict(_l("This award is %(state)s; it cannot become %(target)s.", state=award.status, target=to))
    previous = award.status
    award.status = to
    record(action, "award", award.id, actor=actor, **{"from": previous, "to": to}, **data)
    from marketplace.awards.winner_notices import announce_award  # awards import payments: a late import

    announce_award(award)  # "the release is requested / approved": each step once per recipient


def award_terms(award: Award) -> tuple[int, set[str]]:
    """The challenge's organization and excluded countries, in one light query (no texts, no criteria)."""
    organization_id, excluded = db.session.execute(
        select(Challenge.organization_id, Challenge.excluded_countries).where(Challenge.id == award.challenge_id)).one()
    return organization_id, {c.upper() for c in (excluded or [])}


def require_finance(award: Award, user) -> None:
    """A finance officer of the challenge's organization with no stake in this award's money."""
    if not (user and user.is_authenticated and user.has_role(Role.FINANCE_OFFICER, award_terms(award)[0])):
        raise Forbidden(_l("Only finance officers of this organization can release its awards."))
    require_no_conflict(award, user)


def idempotency_key_for(recipient: AwardRecipient) -> str:
    return f"award-{recipient.award_id}-recipient-{recipient.id}-payout"


def transfer_group_for(award: Award) -> str:
    return f"award-{award.id}"


# --- the provider call -------------------------------------------------------------------


def _account(user_id: int, provider: str) -> PayoutAccount | None:
    return db.session.scalar(select(PayoutAccount).filter_by(user_id=user_id, provider=provider))


@dataclass(frozen=True)
class PayoutOrder:
    """Everything the provider call needs, detached from the database session."""

    payout_id: int
    provider: str
    amount_minor: int
    currency: str
    destination: str
    idempotency_key: str
    transfer_group: str
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PayoutResult:
    payout_id: int
    transfer: Transfer | None = None
    error: ProviderError | None = None


def order_for(payout: Payout) -> PayoutOrder:
    recipient = db.session.get(AwardRecipient, payout.award_recipient_id)
    account = _account(recipient.user_id, payout.provider)
    # A wire needs no account at a provider; the manual provider derives the payee's reference from the user.
    destination = account.external_id if account else manual_provider().create_payout_account(
        f"user:{recipient.user_id}", "", "", "").external_id
    return PayoutOrder(payout_id=payout.id, provider=payout.provider, amount_minor=payout.amount_minor,
                       currency=payout.currency, destination=destination, idempotency_key=payout.idempotency_key,
                       transfer_group=payout.transfer_group,
                       metadata={"award_id": str(recipient.award_id), "award_recipient_id": str(recipient.id),
                                 "payout_id": str(payout.id)})


def send(order: PayoutOrder, provider: PaymentProvider) -> PayoutResult:
    """One transfer at the provider. Never raises a ProviderError: the result carries it."""
    try:
        transfer = provider.transfer(order.amount_minor, order.currency, order.destination, order.idempotency_key,
                                     order.metadata, transfer_group=order.transfer_group)
    except ProviderError as error:
        return PayoutResult(order.payout_id, error=error)
    return PayoutResult(order.payout_id, transfer=transfer)


def record_result(result: PayoutResult, actor=None) -> Payout:
    """Apply the provider's answer (under the award lock; a settled payout is left alone)."""
    payout = db.session.get(Payout, result.payout_id)
    recipient = db.session.get(AwardRecipient, payout.award_recipient_id)
    award = db.session.get(Award, recipient.award_id)
    lock_for_update(db.session, award)
    db.session.refresh(payout)
    if payout.status not in ("pending", "sent"):
        return payout
    if result.transfer is not None:
        payout.external_id = result.transfer.external_id
        payout.last_error = None
        if result.transfer.status == "paid":
            complete_payout(payout, actor=actor)
        elif payout.status == "pending":
            move(payout, "sent", actor=actor, external_id=payout.external_id)
        return payout
    payout.last_error = f"{type(result.error).__name__}: {result.error.message}"[:2000]
    if isinstance(result.error, ProviderUnavailable):
        return payout  # outcome unknown: stays pending for reconcile, never marked failed
    move(payout, "failed", actor=actor, reason=result.error.message, code=result.error.code)
    return payout


def complete_payout(payout: Payout, *, actor=None, reference: str | None = None) -> None:
    """The money reached the solver: payable -> clearing, recipient paid, award paid when all are.

    The caller holds the award lock.
    """
    recipient = db.session.get(AwardRecipient, payout.award_recipient_id)
    award = db.session.get(Award, recipient.award_id)
    payout.completed_at = utcnow()
    if reference:
        payout.reference = reference
    clearing = ledger.clearing_account(payout.provider, payout.currency)
    _cover(clearing, payout, actor)
    ledger.move("payout", ledger.payable_account(recipient.user_id, payout.currency), clearing, payout.amount_minor,
                dedupe_key=f"payout:recipient:{recipient.id}", memo=f"award {award.id} to user {recipient.user_id}"
                f" via {payout.provider}", challenge_id=award.challenge_id, award_id=award.id, actor=actor)
    move(payout, "paid", actor=actor, external_id=payout.external_id, reference=reference,
         amount=Money(payout.amount_minor, payout.currency).as_dict())
    if award.status == "paying" and all(r.payout_status == "paid" for r in award.recipients):
        award.paid_at = utcnow()
        move_award(award, "paid", actor=actor, action="award.paid")


def _cover(clearing, payout: Payout, actor) -> None:
    """Money paid by card and wired out (or the reverse) moves between providers first: a treasury transfer."""
    shortfall = payout.amount_minor - ledger.held(clearing)
    if shortfall <= 0:
        return
    others = db.session.scalars(select(ledger.LedgerAccount).where(
        ledger.LedgerAccount.kind == "clearing", ledger.LedgerAccount.currency == payout.currency,
        ledger.LedgerAccount.id != clearing.id).order_by(ledger.LedgerAccount.id)).all()
    for other in others:
        take = min(shortfall, ledger.held(other))
        if take > 0:
            ledger.move("treasury", clearing, other, take, dedupe_key=f"treasury:payout:{payout.id}:{other.code}",
                        memo=f"{other.code} -> {clearing.code} for payout {payout.id}", actor=actor)
            shortfall -= take
        if shortfall <= 0:
            return


# --- manual wires ------------------------------------------------------------------------


def confirm_wire(award: Award, officer, *, reference: str, recipient_id: int | None = None) -> list[Payout]:
    """A finance officer sent the wire(s) of this award: record the bank reference, the payout is paid."""
    require_finance(award, officer)
    lock_for_update(db.session, award)
    if award.status != "paying":
        raise Conflict(_l("This award is %(state)s; only an award being paid can be confirmed.", state=award.status))
    reference = (reference or "").strip()
    if not reference:
        raise ValidationFailed(_l("Give the wire reference."), errors={"reference": [_l("Required.")]})
    payouts = [p for p in payouts_of(award) if p.provider == "manual" and p.status in ("pending", "sent")
               and (recipient_id is None or p.award_recipient_id == recipient_id)]
    if not payouts:
        raise Conflict(_l("No bank wire of this award is waiting for confirmation."))
    provider = manual_provider()
    for payout in payouts:
        if payout.external_id is None:  # the wire instruction was never recorded (a crash): it is deterministic
            payout.external_id = provider.transfer(payout.amount_minor, payout.currency, "wire",
                                                   payout.idempotency_key, {},
                                                   transfer_group=payout.transfer_group).external_id
        try:
            event = provider.record_wire(payout.external_id, reference)
        except ValueError as error:
            raise ValidationFailed(_l("Give the wire reference."), errors={"reference": [str(error)]}) from error
        if store_event(event):
            complete_payout(payout, actor=officer, reference=event.data["reference"])
    return payouts


def payouts_of(award: Award) -> list[Payout]:
    ids = [r.id for r in award.recipients]
    return list(db.session.scalars(select(Payout).where(Payout.award_recipient_id.in_(ids or [-1]))
                                   .order_by(Payout.id)))
