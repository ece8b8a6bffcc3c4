"""Idempotency-Key on every API write: one rule (marketplace.api.idempotency_applies), no endpoint forgotten.

The walk over `app.url_map` sends every POST, PUT, PATCH and DELETE under /api/v1 twice with one key and
expects the second answer to be the first one replayed; the exemptions live in one listed place with their
reasons. Then, for endpoints that were not covered before (a state change, a creation, a delete, a money
setting, a password change), a replay makes no second effect and another body with the same key is a 422.
"""

from __future__ import annotations

import re

import pytest

from marketplace.api import API_PREFIX, IDEMPOTENCY_EXEMPT, UNSAFE_METHODS, idempotent_rules
from marketplace.audit.models import AuditEntry
from marketplace.challenges.models import Challenge
from marketplace.idempotency import IdempotencyRecord
from marketplace.openapi_doc import openapi_path
from tests.factories import TEST_PASSWORD
from tests.helpers import rows

NO_SUCH_ROW = 999_999


@pytest.fixture
def center(api_center):
    return api_center("sh-idem-all")


def _audit_count(app) -> int:
    return rows(app, AuditEntry)


def _api_writes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API_PREFIX):
            for method in sorted((rule.methods or set()) & UNSAFE_METHODS):
                yield method, rule


# --- the walk: no write endpoint without the rule --------------------------------------------------------

def test_every_api_write_replays_a_repeated_key(app, client, make_user, api_token):
    """Sent twice with one key, every API write answers the second time with the first answer, marked replayed."""
    headers = api_token(make_user())
    checked, missing = 0, []
    for method, rule in _api_writes(app):
        if rule.endpoint in IDEMPOTENCY_EXEMPT:
            continue
        path = re.sub(r"<[^<>]+>", "x", re.sub(r"<int:[^<>]+>", str(NO_SUCH_ROW), rule.rule))
        key = {**headers, "Idempotency-Key": f"walk-{method}-{rule.endpoint}"}
        first = client.open(path, method=method, json={}, headers=key)
        again = client.open(path, method=method, json={}, headers=key)
        if (again.headers.get("Idempotent-Replayed") != "true" or again.status_code != first.status_code
                or again.get_data() != first.get_data()):
            missing.append(f"{method} {rule.rule} ({rule.endpoint}): {first.status_code}, then {again.status_code}")
        checked += 1
    assert not missing, "API writes without Idempotency-Key replay:\n" + "\n".join(missing)
    assert checked > 60  # the whole API, not an empty walk


def test_every_exemption_names_a_write_endpoint_and_says_why(app):
    writes = {rule.endpoint for _method, rule in _api_writes(app)}
    for endpoint, reason in IDEMPOTENCY_EXEMPT.items():
        assert endpoint in writes, f"{endpoint} is exempt but is no API write endpoint"
        assert len(reason) > 20, endpoint


def test_the_document_lists_the_header_on_exactly_the_writes_that_take_it(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    takes_key = {(method.lower(), openapi_path(rule)) for method, rule, _endpoint in idempotent_rules(app)}
    assert len(takes_key) > 60
    reference = {"$ref": "#/components/parameters/IdempotencyKey"}
    for method, rule in _api_writes(app):
        operation = document["paths"][openapi_path(rule.rule)][method.lower()]
        listed = reference in operation.get("parameters", [])
        assert listed == (rule.endpoint not in IDEMPOTENCY_EXEMPT), (method, rule.rule)
        if listed:
            assert "422" in operation["responses"], (method, rule.rule)  # the key reused for another request
    parameter = document["components"]["parameters"]["IdempotencyKey"]
    assert parameter["in"] == "header" and parameter["name"] == "Idempotency-Key"


# --- newly covered endpoints: a replay makes no second effect ------------------------------------------------

def test_a_replayed_clearance_request_changes_nothing_more(app, center, client):
    """A state change: the first request moves the draft into clearance; the replay answers the same, acts not."""
    challenge_id = center.create().get_json()["id"]
    headers = {**center.manager, "Idempotency-Key": "clearance-once"}
    path = f"/api/v1/challenges/{challenge_id}/clearance-request"
    first = client.post(path, headers=headers)
    assert first.status_code == 200, first.get_json()
    audited = _audit_count(app)

    again = client.post(path, headers=headers)
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _audit_count(app) == audited
    assert rows(app, Challenge, id=challenge_id, status="in_clearance") == 1
    # Without the key the same request is a second attempt, refused in the new state.
    assert client.post(path, headers=center.manager).status_code == 409


def test_a_replayed_question_is_asked_once_and_another_text_is_422(app, center, client, make_user, api_token):
    from marketplace.challenges.models import Question

    challenge_id = center.open_challenge()
    solver = api_token(make_user())
    headers = {**solver, "Idempotency-Key": "question-once"}
    path = f"/api/v1/challenges/{challenge_id}/questions"
    first = client.post(path, json={"text": "Is a 65 nm process acceptable?"}, headers=headers)
    assert first.status_code == 201, first.get_json()
    audited = _audit_count(app)

    again = client.post(path, json={"text": "Is a 65 nm process acceptable?"}, headers=headers)
    assert again.status_code == 201 and again.get_json()["id"] == first.get_json()["id"]
    other = client.post(path, json={"text": "May we use a 28 nm process?"}, headers=headers)
    assert other.status_code == 422
    assert "different request" in other.get_json()["detail"]
    assert rows(app, Question, challenge_id=challenge_id) == 1
    assert _audit_count(app) == audited


def test_a_replayed_delete_answers_its_first_204(app, client, make_user, api_token):
    from marketplace.solvers.models import Interest

    headers = api_token(make_user())
    created = client.post("/api/v1/me/interests", json={"kind": "tag", "value": "mems"}, headers=headers)
    assert created.status_code == 201, created.get_json()
    path = f"/api/v1/me/interests/{created.get_json()['id']}"
    keyed = {**headers, "Idempotency-Key": "unfollow-once"}
    first = client.delete(path, headers=keyed)
    assert first.status_code == 204
    audited = _audit_count(app)

    again = client.delete(path, headers=keyed)
    assert again.status_code == 204 and again.data == b""
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _audit_count(app) == audited
    assert rows(app, Interest) == 0
    assert client.delete(path, headers=headers).status_code == 404  # without the key: the row is gone


def test_the_query_string_belongs_to_the_request(app, client, make_user, api_token):
    """DELETE /me/interests?kind=&value=: one key for two different interests is refused, not replayed."""
    from marketplace.solvers.models import Interest

    headers = api_token(make_user())
    for value in ("mems", "lidar"):
        assert client.post("/api/v1/me/interests", json={"kind": "tag", "value": value},
                           headers=headers).status_code == 201
    keyed = {**headers, "Idempotency-Key": "unfollow-by-query"}
    assert client.delete("/api/v1/me/interests?kind=tag&value=mems", headers=keyed).status_code == 204
    other = client.delete("/api/v1/me/interests?kind=tag&value=lidar", headers=keyed)
    assert other.status_code == 422
    assert rows(app, Interest) == 1  # lidar is still followed


def test_a_replayed_money_setting_is_set_once_and_another_amount_is_422(app, center, client):
    """PUT early-career-bonus changes what must be funded: one key, one change."""
    challenge_id = center.create().get_json()["id"]
    path = f"/api/v1/challenges/{challenge_id}/early-career-bonus"
    headers = {**center.manager, "Idempotency-Key": "bonus-once"}
    first = client.put(path, json={"pct": "10"}, headers=headers)
    assert first.status_code == 200, first.get_json()
    audited = _audit_count(app)

    again = client.put(path, json={"pct": "10"}, headers=headers)
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = client.put(path, json={"pct": "20"}, headers=headers)
    assert other.status_code == 422
    assert _audit_count(app) == audited
    current = client.get(path, headers=center.manager).get_json()
    assert current["pct"] == "10" and current["funding_target"] == first.get_json()["funding_target"]


def test_a_lost_password_change_answer_is_replayed_not_refused(app, client, make_user, api_token):
    """Retrying a password change whose answer was lost: the replay says 204, not "current password wrong"."""
    user = make_user()
    headers = {**api_token(user), "Idempotency-Key": "new-password"}
    body = {"current_password": TEST_PASSWORD, "new_password": "a-much-longer-new-passphrase-42"}
    assert client.post("/api/v1/me/password", json=body, headers=headers).status_code == 204
    audited = _audit_count(app)
    again = client.post("/api/v1/me/password", json=body, headers=headers)
    assert again.status_code == 204 and again.headers["Idempotent-Replayed"] == "true"
    assert _audit_count(app) == audited


def test_a_wrong_current_password_with_a_key_is_refused_and_counted(app, client, make_user, api_token):
    """The failed attempt is recorded on its own connection while the key is reserved: no lock, no 500."""
    from marketplace.accounts.models import SignInFailure

    headers = {**api_token(make_user()), "Idempotency-Key": "wrong-password"}
    body = {"current_password": "not-the-password-at-all", "new_password": "a-much-longer-new-passphrase-42"}
    refused = client.post("/api/v1/me/password", json=body, headers=headers)
    assert refused.status_code == 422, refused.get_data(as_text=True)
    assert rows(app, SignInFailure) > 0


def test_a_rate_limited_answer_is_not_kept_for_the_key(app, client, make_user, api_token):
    """429 says "later", not "done": the key stays free for the retry once the limit allows."""
    headers = api_token(make_user())
    wrong = {"current_password": "not-the-password-at-all", "new_password": "a-much-longer-new-passphrase-42"}
    for _ in range(int(app.config["LOGIN_RATE_LIMIT"].split()[0])):
        assert client.post("/api/v1/me/password", json=wrong, headers=headers).status_code == 422
    keyed = {**headers, "Idempotency-Key": "after-the-limit"}
    limited = client.post("/api/v1/me/password", json=wrong, headers=keyed)
    assert limited.status_code == 429
    assert rows(app, IdempotencyRecord, key="after-the-limit") == 0


# --- who may use a key ---------------------------------------------------------------------------------------

def test_a_token_request_with_a_key_stores_no_token(app, client, make_user):
    """POST /auth/tokens is exempt: its answer is a secret and must not sit in the replay table."""
    user = make_user()
    headers = {"Idempotency-Key": "token-please"}
    body = {"email": user.email, "password": TEST_PASSWORD}
    first = client.post("/api/v1/auth/tokens", json=body, headers=headers)
    again = client.post("/api/v1/auth/tokens", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["token"] != again.get_json()["token"]
    assert "Idempotent-Replayed" not in again.headers
    assert rows(app, IdempotencyRecord) == 0


def test_an_anonymous_write_with_a_key_is_refused_and_keeps_nothing(app, client):
    response = client.post("/api/v1/me/interests", json={"kind": "tag", "value": "mems"},
                           headers={"Idempotency-Key": "who-am-i"})
    assert response.status_code == 401
    assert rows(app, IdempotencyRecord) == 0


@pytest.mark.parametrize("key", ["k" * 201, "tab\there", "bell\x07"])
def test_an_unusable_key_is_a_422_and_changes_nothing(app, client, make_user, api_token, key):
    from marketplace.solvers.models import Interest

    headers = {**api_token(make_user()), "Idempotency-Key": key}
    response = client.post("/api/v1/me/interests", json={"kind": "tag", "value": "mems"}, headers=headers)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert rows(app, Interest) == 0 and rows(app, IdempotencyRecord) == 0
