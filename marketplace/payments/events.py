"""Applying provider events (Stripe webhooks) to our records, each event once.

`apply_event` stores the event id first (unique per provider) and applies it only when it was new,
in the same transaction: a replay, or two deliveries racing, change nothing the second time.
Handlers are written for out-of-order delivery: they never move a record backwards (a failed
payment after its success, an old account state after a newer one) and they ask the provider
for the current state where the event's copy could be stale.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from marketplace.awards.models import Award, AwardRecipient
from marketplace.db import lock_for_update
from marketplace.extensions import db
from marketplace.payments import escrow, funding, ledger
from marketplace.payments.models import Payout, PayoutAccount
from marketplace.payments.payouts import complete_payout, move, move_award
from marketplace.payments.providers.interface import ProviderError, ProviderEvent

log = logging.getLogger(__name__)


def apply_event(event: ProviderEvent) -> str:
    """'duplicate' when seen before, else what the handler did: 'applied' or 'ignored'."""
    if not escrow.store_event(event):
        log.info("provider event %s/%s seen before: ignored", event.provider, event.id)
        return "duplicate"
    handler = _HANDLERS.get(event.kind)
    if handler is None:
        log.info("provider event %s of type %s acknowledged, nothing to do", event.id, event.type)
        return "ignored"
    return handler(event)


def _payout_for(event: ProviderEvent) -> Payout | None:
    payout = db.session.scalar(select(Payout).filter_by(provider=event.provider, external_id=event.object_id))
    key = (event.data.get("metadata") or {}).get("idempotency_key")
    if payout is None and key:
        payout = db.session.scalar(select(Payout).filter_by(provider=event.provider, idempotency_key=key))
    return payout


def _locked_award(payout: Payout) -> Award:
    recipient = db.session.get(AwardRecipient, payout.award_recipient_id)
    award = db.session.get(Award, recipient.award_id)
    lock_for_update(db.session, award)
    db.session.refresh(payout)
    return award


def _transfer_paid(event: ProviderEvent) -> str:
    """Stripe's transfer.created: the money is in the connected account (also when our answer was lost)."""
    payout = _payout_for(event)
    if payout is None:
        log.warning("transfer %s (event %s) matches no payout", event.object_id, event.id)
        return "ignored"
    _locked_award(payout)
    if payout.status in ("pending", "sent", "failed"):
        payout.external_id = event.object_id
        complete_payout(payout)
    return "applied"


def _transfer_reversed(event: ProviderEvent) -> str:
    """The provider took a transfer back: the solver is owed again and the award is being paid again."""
    payout = _payout_for(event)
    if payout is None:
        log.warning("reversal of %s (event %s) matches no payout", event.object_id, event.id)
        return "ignored"
    award = _locked_award(payout)
    if payout.status != "paid":
        return "ignored"
    recipient = db.session.get(AwardRecipient, payout.award_recipient_id)
    amount = event.amount_minor if event.amount_minor else payout.amount_minor
    ledger.move("reversal", ledger.clearing_account(payout.provider, payout.currency),
                ledger.payable_account(recipient.user_id, payout.currency), amount,
                dedupe_key=f"reversal:payout:{payout.id}:{event.id}", memo=f"transfer {payout.external_id} reversed",
                challenge_id=award.challenge_id, award_id=award.id)
    move(payout, "reversed", actor=None, external_id=payout.external_id)
    if award.status == "paid":
        move_award(award, "paying", actor=None, action="award.payout_reversed", payout_id=payout.id)
    return "applied"


def _account_updated(event: ProviderEvent) -> str:
    from marketplace.payments.payout_accounts import refresh

    account = db.session.scalar(select(PayoutAccount).filter_by(provider=event.provider,
                                                                external_id=event.object_id))
    if account is None:
        return "ignored"
    try:
        refresh(account)  # the provider's current state, not the event's (events can arrive out of order)
    except ProviderError as error:
        log.warning("could not refresh payout account %s: %s", account.external_id, error.message)
    return "applied"


def _funding_refunded(event: ProviderEvent) -> str:
    # Our refunds are booked when the provider accepts them; the charge's event only confirms it.
    log.info("refund on %s confirmed by event %s", event.object_id, event.id)
    return "ignored"


_HANDLERS = {
    "funding.received": funding.apply_funding_received,
    "funding.failed": funding.apply_funding_failed,
    "funding.canceled": funding.apply_funding_failed,
    "funding.refunded": _funding_refunded,
    "transfer.paid": _transfer_paid,
    "transfer.reversed": _transfer_reversed,
    "payout_account.updated": _account_updated,
}
