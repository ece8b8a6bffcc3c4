"""The payout state machine (one table, one `move`), reconcile's screened retry, and the database CHECKs."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from marketplace.extensions import db


@pytest.fixture
def wired(app, world):
    """An award paid by bank wire, approved: its one payout is `sent` (waiting for the bank reference)."""
    challenge = world.challenge(status="cleared")
    world.fund_by_wire(challenge)
    solver = world.solver("DE")
    [award_id] = world.ready_award(challenge, [([solver], "100")])
    assert world.post(f"/awards/{award_id}/release", world.finance_a).status_code == 200
    answer = world.post(f"/awards/{award_id}/approve", world.finance_b).get_json()
    assert [p["status"] for p in answer["payouts"]] == ["sent"]
    return award_id, answer["payouts"][0]["id"], challenge


def _payout(payout_id: int):
    from marketplace.payments.models import Payout

    db.session.expire_all()
    return db.session.get(Payout, payout_id)


def _fail(app, payout_id: int) -> None:
    from marketplace.payments.payouts import move

    with app.app_context():
        move(_payout(payout_id), "failed", actor=None, reason="the bank returned the wire")
        db.session.commit()


def _entries(action: str) -> list:
    from marketplace.audit.models import AuditEntry

    return db.session.scalars(select(AuditEntry).filter_by(action=action)).all()


def test_reconcile_retry_refuses_a_recipient_now_under_sanctions_and_audits(app, world, wired, monkeypatch):
    award_id, payout_id, _challenge = wired
    _fail(app, payout_id)
    with app.app_context():
        key = _payout(payout_id).idempotency_key
    monkeypatch.setitem(app.config, "SANCTIONED_COUNTRIES", ["DE"])

    result = app.test_cli_runner().invoke(args=["payments", "reconcile", "--retry-failed"])
    assert result.exit_code == 0, result.output
    assert f"payout {payout_id}: refused" in result.output and "under sanctions" in result.output
    assert "retrying" not in result.output
    with app.app_context():
        payout = _payout(payout_id)
        assert payout.status == "failed" and payout.idempotency_key == key
        refusals = _entries("payout.retry_refused")
        assert len(refusals) == 1 and refusals[0].entity_id == award_id
        assert "under sanctions" in " ".join(refusals[0].data["problems"])
        assert _entries("payout.retried") == []


def test_reconcile_retry_of_an_eligible_recipient_moves_through_the_table_and_audits(app, world, wired):
    award_id, payout_id, _challenge = wired
    _fail(app, payout_id)
    result = app.test_cli_runner().invoke(args=["payments", "reconcile", "--retry-failed"])
    assert result.exit_code == 0 and f"payout {payout_id}: retrying" in result.output
    with app.app_context():
        payout = _payout(payout_id)
        assert payout.status == "sent" and payout.idempotency_key.endswith("-retry2")
        [retried] = _entries("payout.retried")
        assert retried.data["from"] == "failed" and retried.data["to"] == "pending"
    assert world.get(f"/awards/{award_id}", world.finance_a).get_json()["recipients"][0]["payout_status"] == "paying"


def test_an_illegal_payout_transition_raises_and_changes_nothing(app, world, wired):
    from marketplace.errors import Conflict
    from marketplace.payments.payouts import move

    award_id, payout_id, _challenge = wired
    assert world.post(f"/awards/{award_id}/payout-confirmation", world.finance_a,
                      json={"reference": "SEPA-9"}).status_code == 200
    with app.app_context():
        paid = _payout(payout_id)
        assert paid.status == "paid"
        audited = len(_entries("payout.retried")) + len(_entries("payout.sent"))
        for target in ("pending", "failed", "sent", "paid"):
            with pytest.raises(Conflict):
                move(paid, target, actor=None)
        assert paid.status == "paid"
        assert len(_entries("payout.retried")) + len(_entries("payout.sent")) == audited


@pytest.mark.parametrize(("model", "column", "value"), [
    ("Payout", "status", "bogus"),
    ("Payout", "amount_minor", -100),
    ("Payout", "amount_minor", 0),
    ("Award", "status", "stolen"),
    ("Award", "amount_minor", -1),
    ("AwardRecipient", "payout_status", "whatever"),
    ("AwardRecipient", "amount_minor", -1),
])
def test_the_database_rejects_a_bad_status_or_amount(app, wired, model, column, value):
    from marketplace.awards import models as awards
    from marketplace.payments import models as payments

    table = getattr(payments, model, None) or getattr(awards, model)
    with app.app_context():
        with pytest.raises(IntegrityError):
            db.session.execute(update(table).values({column: value}))
            db.session.flush()
        db.session.rollback()
        assert _payout(wired[1]).status == "sent"


@pytest.mark.parametrize(("status", "amount"), [("scheduled", -500), ("lost", 500)])
def test_the_database_rejects_a_bad_refund(app, wired, status, amount):
    from marketplace.payments.models import Refund

    with app.app_context():
        db.session.add(Refund(challenge_id=wired[2].id, provider="manual", idempotency_key=f"refund-{status}",
                              amount_minor=amount, currency="EUR", status=status))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
        assert db.session.scalars(select(Refund)).all() == []
