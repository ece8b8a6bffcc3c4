"""Exactly once under concurrency, crashes and provider outages (the issue's reliability tests).

Transfers go to the Connect fake over HTTP; "the provider shows one transfer" is read from it.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from tests.payments.world import count_transactions, ledger_state, use_stripe


@pytest.fixture
def stripe_award(app, world, stripe_wire, monkeypatch):
    """An award of the whole prize to one German solver with an onboarded Stripe account, release requested."""
    use_stripe(app, monkeypatch, stripe_wire)
    challenge = world.challenge(status="cleared", award_currency="EUR")
    world.fund_by_wire(challenge)  # escrow held in clearing:manual; the payout moves it to Stripe (treasury)
    solver = world.solver("DE", bank=False)
    connected = world.post("/me/payout-account", solver).get_json()
    stripe_wire.complete_onboarding(next(iter(stripe_wire.accounts)))
    assert connected["provider"] == "stripe"
    [award_id] = world.ready_award(challenge, [([solver], "100")])
    assert world.post(f"/awards/{award_id}/release", world.finance_a).status_code == 200
    return award_id, solver, challenge


def approve_concurrently(app, world, award_id: int, requests: int) -> list[int]:
    headers = world.token(world.finance_b)
    barrier = threading.Barrier(requests)
    statuses: list[int] = []
    lock = threading.Lock()

    def approve():
        client = app.test_client()
        barrier.wait(timeout=30)
        status = client.post(f"/api/v1/awards/{award_id}/approve", headers=headers).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=approve) for _ in range(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def test_concurrent_approvals_pay_once(app, world, stripe_award, stripe_wire):
    """50 approvals at once on PostgreSQL (row locks); 8 on SQLite, whose single writer lock makes
    larger bursts a test of its busy timeout rather than of our code."""
    requests = 50 if app.config["BACKEND"] == "postgresql" else 8
    award_id, solver, _challenge = stripe_award
    statuses = approve_concurrently(app, world, award_id, requests)
    assert sorted(statuses) == [200] + [409] * (requests - 1)
    assert len(stripe_wire.transfers) == 1
    assert [r.outcome for r in stripe_wire.requests_to("/v1/transfers")] == ["executed"]
    assert count_transactions(app, kind="payout") == 1
    assert world.get(f"/awards/{award_id}", world.finance_a).get_json()["status"] == "paid"
    state = ledger_state(app)
    assert state["held"][f"payable:user:{solver.id}/EUR"] == 0 and state["unbalanced"] == []


def pending_payouts(app) -> list:
    from marketplace.payments.models import Payout

    with app.app_context():
        return db.session.scalars(select(Payout).where(Payout.status == "pending")).all()


def run_reconcile(app) -> str:
    result = app.test_cli_runner().invoke(args=["payments", "reconcile"])
    assert result.exit_code == 0, result.output
    return result.output


def test_crash_after_the_provider_accepted_before_our_commit_is_completed_by_reconcile(
        app, world, stripe_award, stripe_wire, monkeypatch):
    award_id, solver, _challenge = stripe_award
    from marketplace.payments import release

    def crash(*args, **kwargs):
        raise RuntimeError("the process died after Stripe created the transfer")

    monkeypatch.setattr(release, "record_result", crash)
    with pytest.raises(RuntimeError):
        world.post(f"/awards/{award_id}/approve", world.finance_b)
    monkeypatch.undo()
    use_stripe(app, monkeypatch, stripe_wire)  # undo() also reverted the Stripe settings

    assert len(stripe_wire.transfers) == 1  # Stripe has it...
    [payout] = pending_payouts(app)  # ...we only have the pending payout and its key
    assert world.get(f"/awards/{award_id}", world.finance_a).get_json()["status"] == "paying"

    output = run_reconcile(app)
    assert f"payout {payout.id} ({payout.idempotency_key}): completed" in output
    assert "found at the provider" in output
    assert len(stripe_wire.transfers) == 1  # found, not paid again
    assert world.get(f"/awards/{award_id}", world.finance_a).get_json()["status"] == "paid"
    assert count_transactions(app, kind="payout") == 1
    assert "payout" not in run_reconcile(app) and pending_payouts(app) == []  # a second run finds nothing to do


def test_a_dropped_answer_without_retries_leaves_the_payout_pending_until_reconcile(
        app, world, stripe_award, stripe_wire, monkeypatch):
    award_id, _solver, _challenge = stripe_award
    monkeypatch.setitem(app.config, "STRIPE_MAX_NETWORK_RETRIES", 0)
    stripe_wire.crash_after_next("transfers")
    answer = world.post(f"/awards/{award_id}/approve", world.finance_b)
    assert answer.status_code == 200 and answer.get_json()["status"] == "paying"
    [payout] = answer.get_json()["payouts"]
    assert payout["status"] == "pending" and "ProviderUnavailable" in payout["last_error"]
    assert len(stripe_wire.transfers) == 1

    assert "completed" in run_reconcile(app)
    assert len(stripe_wire.transfers) == 1
    assert world.get(f"/awards/{award_id}", world.finance_a).get_json()["status"] == "paid"


def test_an_outage_before_the_provider_acted_is_retried_with_the_same_key(
        app, world, stripe_award, stripe_wire, monkeypatch):
    award_id, _solver, _challenge = stripe_award
    monkeypatch.setitem(app.config, "STRIPE_MAX_NETWORK_RETRIES", 0)
    stripe_wire.fail_next("transfers", status=503)
    answer = world.post(f"/awards/{award_id}/approve", world.finance_b).get_json()
    assert answer["payouts"][0]["status"] == "pending" and stripe_wire.transfers == []

    output = run_reconcile(app)
    assert ": resent" in output
    [transfer] = stripe_wire.transfers
    keys = {r.idempotency_key for r in stripe_wire.requests_to("/v1/transfers")}
    assert len(keys) == 1 and transfer["metadata"]["idempotency_key"] in keys
    assert world.get(f"/awards/{award_id}", world.finance_a).get_json()["status"] == "paid"


def test_the_webhook_can_complete_a_payout_whose_answer_was_lost(app, world, stripe_award, stripe_wire, monkeypatch):
    from tests.payments.world import WEBHOOK_SECRET

    award_id, _solver, _challenge = stripe_award
    monkeypatch.setitem(app.config, "STRIPE_MAX_NETWORK_RETRIES", 0)
    stripe_wire.crash_after_next("transfers")
    world.post(f"/awards/{award_id}/approve", world.finance_b)
    [event] = [e for e in stripe_wire.events if e["type"] == "transfer.created"]
    body, signature = stripe_wire.signed_event(event, WEBHOOK_SECRET)
    answer = world.client.post("/api/v1/webhooks/stripe", data=body, content_type="application/json",
                               headers={"Stripe-Signature": signature})
    assert answer.get_json()["result"] == "applied"
    assert world.get(f"/awards/{award_id}", world.finance_a).get_json()["status"] == "paid"
    assert "payout" not in run_reconcile(app)  # nothing left for reconcile
    assert len(stripe_wire.transfers) == 1 and count_transactions(app, kind="payout") == 1


def test_a_declined_transfer_fails_visibly_and_is_retried_with_a_new_key_once_fixed(
        app, world, stripe_award, stripe_wire):
    award_id, _solver, _challenge = stripe_award
    stripe_wire.available_balance = {"eur": 0}
    answer = world.post(f"/awards/{award_id}/approve", world.finance_b).get_json()
    assert answer["status"] == "paying" and answer["payouts"][0]["status"] == "failed"
    assert answer["payouts"][0]["last_error"].startswith("ProviderDeclined")

    stripe_wire.available_balance = None  # finance topped up the Stripe balance
    result = app.test_cli_runner().invoke(args=["payments", "reconcile", "--retry-failed"])
    assert result.exit_code == 0 and "retrying" in result.output and "resent" in result.output
    assert len(stripe_wire.transfers) == 1
    assert stripe_wire.transfers[0]["metadata"]["idempotency_key"].endswith("-retry2")
    assert world.get(f"/awards/{award_id}", world.finance_a).get_json()["status"] == "paid"


def test_release_batch_command_pays_every_requested_award_once(app, world, stripe_wire, monkeypatch):
    use_stripe(app, monkeypatch, stripe_wire)
    challenge = world.challenge(status="cleared", award_currency="EUR")
    world.fund_by_wire(challenge)
    solvers = [world.solver(country, bank=False) for country in ("DE", "NL", "SE")]
    for solver in solvers:
        world.post("/me/payout-account", solver)
    for account_id in list(stripe_wire.accounts):
        stripe_wire.complete_onboarding(account_id)
    ids = world.ready_award(challenge, [([s], pct) for s, pct in zip(solvers, ("50", "30", "20"), strict=True)])
    for award_id in ids[:2]:
        world.post(f"/awards/{award_id}/release", world.finance_a)

    result = app.test_cli_runner().invoke(args=["payments", "release-batch", "--approver", world.finance_b.email])
    assert result.exit_code == 0, result.output
    assert "Approved 2 of 2 awards" in result.output and "2 paid" in result.output
    assert len(stripe_wire.transfers) == 2
    again = app.test_cli_runner().invoke(args=["payments", "release-batch", "--approver", world.finance_b.email])
    assert "No award is waiting" in again.output and len(stripe_wire.transfers) == 2
    requester = app.test_cli_runner().invoke(args=["payments", "release-batch", "--approver", world.finance_a.email,
                                                   "--award", str(ids[2])])
    assert "No award is waiting" in requester.output  # the third was never requested
