"""Releasing many approved awards in one go (`flask payments release-batch`).

Three phases, each exactly-once on its own: (1) approve each award under its row lock and commit
its pending payouts, a chunk of awards per transaction (a chunk with a refusal is redone one award
per transaction, and the refused award is audited and skipped);
(2) call the provider for every payout from a small thread pool (network only, no database);
(3) record the answers, a few dozen per transaction. A crash anywhere leaves pending payouts that
`payments reconcile` finishes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from marketplace.awards.models import Award
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.payments import payouts
from marketplace.payments.refusals import audit_refusal
from marketplace.payments.routing import provider_named

APPROVE_CHUNK = 25
RECORD_CHUNK = 50


@dataclass
class BatchReport:
    approved: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)
    orders: list[payouts.PayoutOrder] = field(default_factory=list)
    payouts: dict[str, int] = field(default_factory=dict)  # payout status -> count


def approve_all(award_ids: Iterable[int], approver, *, report: BatchReport | None = None,
                on_progress: Callable[[int], None] = lambda n: None) -> BatchReport:
    """Phase 1: approve the awards, a chunk per transaction; a chunk with a refusal is redone award by award."""
    report = report or BatchReport()
    ids = list(award_ids)
    for start in range(0, len(ids), APPROVE_CHUNK):
        chunk = sorted(ids[start:start + APPROVE_CHUNK])  # locks taken in id order: no deadlock between batches
        try:
            orders = [order for award_id in chunk for order in _approve(award_id, approver)]
            db.session.commit()
        except DomainError:
            db.session.rollback()
            for award_id in chunk:
                _approve_alone(award_id, approver, report)
        else:
            report.approved.extend(chunk)
            report.orders.extend(orders)
        on_progress(len(chunk))
    return report


def _approve(award_id: int, approver) -> list[payouts.PayoutOrder]:
    award = db.session.get(Award, award_id)
    if award is None:
        raise NotFound(f"no award {award_id}")
    return [payouts.order_for(p) for p in payouts.approve_release(award, approver)]


def _approve_alone(award_id: int, approver, report: BatchReport) -> None:
    try:
        orders = _approve(award_id, approver)
        db.session.commit()
    except DomainError as error:
        report.refused[award_id] = str(error.detail)
        if db.session.get(Award, award_id) is not None:
            audit_refusal("award.approval_refused", award_id, approver, error)
        else:
            db.session.rollback()
    else:
        report.approved.append(award_id)
        report.orders.extend(orders)


def pay_all(report: BatchReport, actor, *, workers: int = 8,
            on_progress: Callable[[int], None] = lambda n: None) -> BatchReport:
    """Phases 2 and 3: provider calls from a thread pool, answers recorded as they come, in chunks."""
    orders = report.orders
    providers = {name: provider_named(name) for name in {o.provider for o in orders}}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        uncommitted = 0
        for result in pool.map(lambda order: payouts.send(order, providers[order.provider]), orders):
            payout = payouts.record_result(result, actor=actor)
            report.payouts[payout.status] = report.payouts.get(payout.status, 0) + 1
            uncommitted += 1
            if uncommitted >= RECORD_CHUNK:
                db.session.commit()
                on_progress(uncommitted)
                uncommitted = 0
        db.session.commit()
        on_progress(uncommitted)
    return report
