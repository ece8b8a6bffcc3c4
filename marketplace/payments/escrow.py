"""A challenge's escrow allocated to its winners, and the provider events it has seen.

    allocate_award(award, actor=None)        the decision: escrow -> each recipient's payable
    cancel_award(award, actor, reason)       an unpaid award is withdrawn: payable -> escrow
    store_event(event)                       remember a provider event once (False when seen before)

Money comes into escrow in funding.py and goes back to the funder in refunds.py. Services flush and never commit.
"""

from __future__ import annotations

import logging
from datetime import date

from flask_babel import lazy_gettext as _l

from marketplace.challenges.models import Challenge
from marketplace.db import lock_for_update
from marketplace.errors import Forbidden
from marketplace.extensions import db
from marketplace.payments import ledger
from marketplace.payments.models import ProviderEventRecord
from marketplace.payments.providers.interface import ProviderEvent
from marketplace.permissions import Role

log = logging.getLogger(__name__)

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
    return db.session.get(Challenge, award.challenge_id)


def store_event(event: ProviderEvent, *, received_on: date | None = None) -> bool:
    """Remember a provider event; False when it was seen before (apply it only when True)."""
    return ledger.insert_once(ProviderEventRecord, {
        "provider": event.provider, "event_id": event.id, "type": event.type,
        "payload": {"object_id": event.object_id, "kind": event.kind, "amount_minor": event.amount_minor,
                    "currency": event.currency},
        "received_on": received_on or date.today()}, ["provider", "event_id"])
