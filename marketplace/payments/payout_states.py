"""The payout state machine's one writer: `move(payout, to, actor=..., reason=...)`.

The allowed moves are `models.PAYOUT_TRANSITIONS` (the database CHECK is built from the same table).
Every path that changes a payout's state (approval, the provider's answer, a wire confirmation, a
webhook, reconcile's retry) calls `move`, which checks the move, mirrors it on the award recipient
and writes the audit entry.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from marketplace.audit.services import record
from marketplace.awards.models import AwardRecipient
from marketplace.errors import Conflict
from marketplace.extensions import db
from marketplace.payments.models import PAYOUT_TRANSITIONS, Payout

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
