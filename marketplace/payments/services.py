"""The money services other packages call, in one place.

    allocate_award(award, actor=None)               on decision: escrow -> each winner's payable (once)
    cancel_award(award, actor, reason=...)          an unpaid award withdrawn: payable -> escrow
    schedule_refunds(challenge, actor, reason=...)  escrow back to the funder (cancelled, no award, remainder)
    request_release(award, officer)                 finance officer A
    approve_release(award, officer) -> [Payout]     finance officer B: the pending payouts, no provider call
    approve_and_pay([award ids], officer)           approve, COMMIT, call the provider, record (commits)
    confirm_wire(award, officer, reference=...)     a manual wire went out -> paid
    reconcile()                                     finish what a crash left half-done

They flush and never commit, `approve_and_pay` excepted: it is the release's unit of work (release.py).
"""

from __future__ import annotations

from marketplace.payments.escrow import allocate_award, cancel_award
from marketplace.payments.payouts import confirm_wire
from marketplace.payments.reconcile import reconcile
from marketplace.payments.refunds import schedule_refunds
from marketplace.payments.release import approve_and_pay, approve_release, request_release

__all__ = ["allocate_award", "approve_and_pay", "approve_release", "cancel_award", "confirm_wire", "reconcile",
           "request_release", "schedule_refunds"]
