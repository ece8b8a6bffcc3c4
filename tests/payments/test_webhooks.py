"""POST /api/v1/webhooks/stripe: signatures, tolerance, replays, out-of-order delivery, unknown types."""

from __future__ import annotations

import logging
import time

import pytest

from marketplace.extensions import db
from tests.payments.world import WEBHOOK_SECRET, count_transactions, ledger_state, use_stripe


def deliver(world, body: bytes, signature: str | None):
    headers = {"Stripe-Signature": signature} if signature is not None else {}
    return world.client.post("/api/v1/webhooks/stripe", data=body, content_type="application/json", headers=headers)


@pytest.fixture
def stripe_world(app, world, stripe_wire, monkeypatch):
    use_stripe(app, monkeypatch, stripe_wire)
    return world


def paid_funding(app, world, challenge):
    """A PaymentIntent for the challenge, paid by card at localstripe; returns its id."""
    started = world.post(f"/challenges/{challenge.id}/funding", world.finance_a).get_json()
    with app.app_context():
        from marketplace.payments.models import FundingIntent
        from marketplace.payments.providers.registry import current_provider

        external_id = db.session.get(FundingIntent, started["id"]).external_id
        current_provider().confirm_test_funding(external_id)
        return external_id


def succeeded_event(stripe_wire, app, external_id: str) -> dict:
    with app.app_context():
        from marketplace.payments.providers.registry import current_provider

        intent = current_provider()._client.v1.payment_intents.retrieve(external_id).to_dict()
    return stripe_wire.make_event("payment_intent.succeeded", intent)


def receipts(app, challenge_id: int) -> list:
    from marketplace.payments.models import FundingReceipt

    with app.app_context():
        return db.session.scalars(db.select(FundingReceipt).filter_by(challenge_id=challenge_id)).all()


def test_one_event_replayed_five_times_is_applied_once(app, stripe_world, stripe_wire):
    challenge = stripe_world.challenge(status="cleared")
    external_id = paid_funding(app, stripe_world, challenge)
    event = succeeded_event(stripe_wire, app, external_id)
    results = []
    for _ in range(5):
        body, signature = stripe_wire.signed_event(event, WEBHOOK_SECRET)  # Stripe signs each delivery anew
        answer = deliver(stripe_world, body, signature)
        assert answer.status_code == 200
        results.append(answer.get_json()["result"])
    assert results == ["applied", "duplicate", "duplicate", "duplicate", "duplicate"]
    assert len(receipts(app, challenge.id)) == 1
    assert count_transactions(app, kind="funding") == 1
    assert ledger_state(app)["held"][f"escrow:challenge:{challenge.id}/CNY"] == challenge.funding_target_minor


def test_a_failure_event_arriving_after_the_success_changes_nothing(app, stripe_world, stripe_wire):
    challenge = stripe_world.challenge(status="cleared")
    external_id = paid_funding(app, stripe_world, challenge)
    succeeded = succeeded_event(stripe_wire, app, external_id)
    failed = stripe_wire.make_event("payment_intent.payment_failed", succeeded["data"]["object"])
    canceled = stripe_wire.make_event("payment_intent.canceled", succeeded["data"]["object"])
    for event in (succeeded, failed, canceled):
        assert deliver(stripe_world, *stripe_wire.signed_event(event, WEBHOOK_SECRET)).status_code == 200
    with app.app_context():
        from marketplace.challenges.models import Challenge
        from marketplace.payments.models import FundingIntent

        assert db.session.scalar(db.select(FundingIntent.status).filter_by(external_id=external_id)) == "succeeded"
        assert db.session.get(Challenge, challenge.id).funded is True


def test_failure_before_success_then_success_still_funds(app, stripe_world, stripe_wire):
    challenge = stripe_world.challenge(status="cleared")
    external_id = paid_funding(app, stripe_world, challenge)
    succeeded = succeeded_event(stripe_wire, app, external_id)
    failed = stripe_wire.make_event("payment_intent.payment_failed", succeeded["data"]["object"])
    deliver(stripe_world, *stripe_wire.signed_event(failed, WEBHOOK_SECRET))
    deliver(stripe_world, *stripe_wire.signed_event(succeeded, WEBHOOK_SECRET))
    assert len(receipts(app, challenge.id)) == 1 and count_transactions(app, kind="funding") == 1


def test_account_updates_out_of_order_leave_the_current_state(app, stripe_world, stripe_wire):
    solver = stripe_world.solver("DE", bank=False)
    stripe_world.post("/me/payout-account", solver)
    [account_id] = stripe_wire.accounts
    stripe_wire._update_account(account_id, {"metadata": {"step": "before"}})  # an older, incomplete state
    stripe_wire.complete_onboarding(account_id)
    older, newer = [e for e in stripe_wire.events if e["type"] == "account.updated"]
    assert older["data"]["object"]["details_submitted"] is False
    # The newer arrives first, the older last: we ask Stripe, so the account stays ready.
    for event in (newer, older):
        assert deliver(stripe_world, *stripe_wire.signed_event(event, WEBHOOK_SECRET)).status_code == 200
    assert stripe_world.get("/me/payout-account", solver).get_json()["ready"] is True


@pytest.mark.parametrize("tamper", ["bad_signature", "wrong_secret", "old_timestamp", "missing", "tampered_body"])
def test_unverifiable_webhooks_are_refused_with_400_and_change_nothing(app, stripe_world, stripe_wire, tamper):
    challenge = stripe_world.challenge(status="cleared")
    external_id = paid_funding(app, stripe_world, challenge)
    event = succeeded_event(stripe_wire, app, external_id)
    secret = "whsec_someone_else" if tamper == "wrong_secret" else WEBHOOK_SECRET
    timestamp = int(time.time()) - 301 if tamper == "old_timestamp" else None  # tolerance: 300 s
    body, signature = stripe_wire.signed_event(event, secret, timestamp)
    if tamper == "bad_signature":
        signature = signature[:-4] + ("0000" if not signature.endswith("0000") else "1111")
    if tamper == "missing":
        signature = None
    if tamper == "tampered_body":
        body = body.replace(b'"livemode": false', b'"livemode": true')
    answer = deliver(stripe_world, body, signature)
    assert answer.status_code == 400 and answer.mimetype == "application/problem+json"
    assert receipts(app, challenge.id) == [] and count_transactions(app, kind="funding") == 0
    # The genuine delivery afterwards is still applied (a refused one was not remembered).
    good = deliver(stripe_world, *stripe_wire.signed_event(event, WEBHOOK_SECRET))
    assert good.get_json()["result"] == "applied"


def test_a_timestamp_just_inside_the_tolerance_is_accepted(app, stripe_world, stripe_wire):
    event = stripe_wire.make_event("customer.created", {"id": "cus_1", "object": "customer"})
    body, signature = stripe_wire.signed_event(event, WEBHOOK_SECRET, int(time.time()) - 290)
    assert deliver(stripe_world, body, signature).status_code == 200


def test_signed_garbage_is_a_400(stripe_world):
    from tests.payments.fake_stripe_connect import sign_payload

    for body in (b"not json", b'{"id": "evt_1"}'):
        assert deliver(stripe_world, body, sign_payload(body, WEBHOOK_SECRET)).status_code == 400


def test_unknown_event_types_are_acknowledged_and_logged(app, stripe_world, stripe_wire, caplog, monkeypatch):
    for name in ("marketplace.payments.events", "marketplace.payments.webhooks"):
        # Alembic's logging setup (run by the app fixture) disables loggers that existed before it.
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
    event = stripe_wire.make_event("invoice.finalized", {"id": "in_1", "object": "invoice"})
    with caplog.at_level(logging.INFO):
        answer = deliver(stripe_world, *stripe_wire.signed_event(event, WEBHOOK_SECRET))
    assert answer.status_code == 200 and answer.get_json() == {"received": True, "id": event["id"],
                                                               "type": "invoice.finalized", "result": "ignored"}
    assert any(event["id"] in message and "invoice.finalized" in message for message in caplog.messages)
    with app.app_context():
        from marketplace.payments.models import ProviderEventRecord

        assert db.session.scalar(db.select(ProviderEventRecord.type).filter_by(event_id=event["id"])) == \
            "invoice.finalized"


def test_events_for_objects_we_do_not_know_are_acknowledged(stripe_world, stripe_wire):
    for event_type, obj in (("payment_intent.succeeded", {"id": "pi_elsewhere", "object": "payment_intent",
                                                          "amount": 500, "currency": "usd"}),
                            ("transfer.created", {"id": "tr_elsewhere", "object": "transfer", "amount": 5,
                                                  "currency": "usd", "metadata": {}})):
        answer = deliver(stripe_world, *stripe_wire.signed_event(stripe_wire.make_event(event_type, obj),
                                                                 WEBHOOK_SECRET))
        assert answer.status_code == 200 and answer.get_json()["result"] == "ignored"


def test_without_stripe_the_webhook_does_not_exist(world, stripe_wire):
    body, signature = stripe_wire.signed_event(stripe_wire.make_event("customer.created", {"id": "cus_2"}),
                                               WEBHOOK_SECRET)
    assert deliver(world, body, signature).status_code == 404


def test_without_a_webhook_secret_nothing_is_applied(app, world, stripe_wire, monkeypatch):
    use_stripe(app, monkeypatch, stripe_wire, STRIPE_WEBHOOK_SECRET=None)
    body, signature = stripe_wire.signed_event(stripe_wire.make_event("customer.created", {"id": "cus_3"}),
                                               WEBHOOK_SECRET)
    assert deliver(world, body, signature).status_code == 503
