"""The money services other packages call, in one place.

    allocate_award(award, actor=None)               on decision: escrow -> each winner's payable (once)
    cancel_award(award, actor, reason=...)          an unpaid award withdrawn: payable -> escrow
    schedule_refunds(challenge, actor, reason=...)  escrow back to the funder (cancelled, no award, remainder)
    request_release(award, officer)                 finance officer A
    approve_release(award, officer) -> [Payout]     finance officer B; commit, then send_payouts(...)
    send_payouts(payouts, actor=None)               provider calls + recording (after the commit)
    confirm_wire(award, officer, reference=...)     a manual wire went out -> paid
    reconcile()                                     finish what a crash left half-done

They flush and never commit (send_payouts excepted: it runs after the caller committed the
pending payouts, and leaves its own recording for the caller to commit).
"""

from __future__ import annotations

from marketplace.payments.escrow import allocate_award, cancel_award, schedule_refunds
from marketplace.payments.models import Payout
from marketplace.payments.payouts import (
    PayoutResult,
    approve_release,
    confirm_wire,
    order_for,
    record_result,
    request_release,
    send,
)
from marketplace.payments.reconcile import reconcile
from marketplace.payments.routing import provider_named

__all__ = ["allocate_award", "approve_release", "cancel_award", "confirm_wire", "reconcile", "request_release",
           "schedule_refunds", "send_payouts"]


def send_payouts(written: list[Payout], actor=None) -> list[PayoutResult]:
    """Call the provider for payouts the caller has COMMITTED as pending, then record each answer."""
    orders = [order_for(payout) for payout in written]
    results = [send(order, provider_named(order.provider)) for order in orders]
    for result in results:
        record_result(result, actor=actor)
    return results
