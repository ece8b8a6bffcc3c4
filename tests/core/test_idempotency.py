"""Idempotency-Key under concurrency: one key, many simultaneous requests, exactly one effect."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from marketplace.challenges.models import Challenge
from marketplace.extensions import db
from marketplace.idempotency import IdempotencyRecord
from tests.factories import challenge_body

THREADS = 12


@pytest.fixture
def center(api_center):
    return api_center("sh-idem")


def _concurrently(app, send) -> list:
    """Run `send(client)` in THREADS threads released at once, each with its own client and session."""
    barrier = threading.Barrier(THREADS)
    results: list = [None] * THREADS

    def worker(index: int) -> None:
        client = app.test_client()
        barrier.wait()
        try:
            response = send(client)
            results[index] = (response.status_code, response.get_json())
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            results[index] = ("raised", repr(error))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _challenge_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Challenge))


def test_twelve_simultaneous_creates_with_one_key_make_one_challenge(app, center):
    headers = {**center.manager, "Idempotency-Key": "create-once"}
    body = challenge_body(center.slug)
    results = _concurrently(app, lambda c: c.post("/api/v1/challenges", json=body, headers=headers))

    assert _challenge_count(app) == 1
    statuses = sorted(str(status) for status, _ in results)
    assert all(status in ("201", "409") for status in statuses), results
    created_ids = {payload["id"] for status, payload in results if status == 201}
    assert len(created_ids) == 1  # every 201 is the first answer, replayed
    with app.app_context():
        row = db.session.scalar(select(IdempotencyRecord).filter_by(key="create-once"))
        assert row.status_code == 201 and not row.pending


def test_a_replay_after_the_burst_returns_the_first_challenge(app, center, client):
    headers = {**center.manager, "Idempotency-Key": "create-then-retry"}
    body = challenge_body(center.slug)
    first = client.post("/api/v1/challenges", json=body, headers=headers)
    again = client.post("/api/v1/challenges", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _challenge_count(app) == 1


def test_the_same_key_with_another_body_is_refused_with_422(app, center, client):
    headers = {**center.manager, "Idempotency-Key": "create-two-bodies"}
    assert client.post("/api/v1/challenges", json=challenge_body(center.slug), headers=headers).status_code == 201
    other = client.post("/api/v1/challenges", json=challenge_body(center.slug, field="sensors"), headers=headers)
    assert other.status_code == 422
    assert "different request" in other.get_json()["detail"]
    assert _challenge_count(app) == 1


def test_a_refused_request_frees_nothing_and_stores_its_answer(app, center, client):
    """A 4xx answer is replayed; what the view left uncommitted never reaches the database."""
    headers = {**center.manager, "Idempotency-Key": "create-invalid"}
    body = challenge_body(center.slug, premium_pct="99")
    first = client.post("/api/v1/challenges", json=body, headers=headers)
    again = client.post("/api/v1/challenges", json=body, headers=headers)
    assert first.status_code == again.status_code == 422
    assert again.get_json() == first.get_json()
    assert _challenge_count(app) == 0


def test_a_view_that_crashes_before_committing_leaves_the_key_free(app, center, client, monkeypatch):
    from marketplace.challenges import services

    headers = {**center.manager, "Idempotency-Key": "create-after-crash"}
    body = challenge_body(center.slug)
    original = services.create_challenge

    def crash(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "create_challenge", crash)
    with pytest.raises(RuntimeError):  # TESTING propagates the exception instead of answering 500
        client.post("/api/v1/challenges", json=body, headers=headers)
    monkeypatch.setattr(services, "create_challenge", original)
    retried = client.post("/api/v1/challenges", json=body, headers=headers)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert _challenge_count(app) == 1
