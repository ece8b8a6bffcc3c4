"""Property-based fuzzing of the whole JSON API from its own OpenAPI document.

"A 500 caused by any input is a bug": every operation gets a few generated requests,
valid and invalid, from each role (anonymous and bearer tokens), against the demo data (so
ids name real rows); none may answer 5xx, and every answer must agree with the document:
its status code, media type, headers and body schema. Bounded (few examples per operation,
derandomized) to stay quick; the case and failure counts are printed (`pytest -s`).
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from marketplace.extensions import db, limiter

EXAMPLES_PER_OPERATION = 30
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
DEMO_PASSWORD = "demo-password-for-fuzzing"
ROLE_EMAILS = {
    "admin": "admin@innobridge.example",
    "center_manager": "li.wei@icc.example.cn",
    "security_officer": "zhang.min@icc.example.cn",
    "finance_officer": "wang.fang@icc.example.cn",
    "reviewer": "ingrid.berg@review.example",
    "solver": "anna.schmidt@tum.example",
}
# The demo seed creates a handful of each kind of row; small ids hit them, the generator covers the rest.
SEEDED_IDS = st.integers(min_value=1, max_value=6)
EXPORT_KINDS = st.sampled_from(["proposals", "reviews", "awards", "ledger", "unknown"])


def _seed_demo(app) -> dict[str, dict[str, str]]:
    """Demo data through the real services; returns Authorization headers per role (plus anonymous)."""
    from marketplace.accounts.models import User
    from marketplace.accounts.services import issue_api_token
    from marketplace.challenges import indexing
    from marketplace.demo import seed

    with app.test_request_context():
        for step in seed.STEPS:
            step(DEMO_PASSWORD)
            db.session.flush()
        db.session.commit()
        indexing.flush_scheduled()
        headers = {"anonymous": {}}
        for role, email in ROLE_EMAILS.items():
            user = db.session.scalar(db.select(User).where(User.email == email))
            token, _row = issue_api_token(user)
            headers[role] = {"Authorization": f"Bearer {token}"}
        db.session.commit()
    return headers


def _requests_for(operation):
    """Valid requests with seeded ids, valid requests with generated ids, and invalid ones."""

    def with_ids(mode):
        names = [parameter.name for parameter in operation.path_parameters]
        if not names:
            return operation.as_strategy(generation_mode=mode)
        ids = st.fixed_dictionaries({name: EXPORT_KINDS if name == "kind" else SEEDED_IDS for name in names})
        return ids.flatmap(lambda fixed: operation.as_strategy(generation_mode=mode, path_parameters=fixed))

    strategies = [with_ids(GenerationMode.POSITIVE)]
    if operation.path_parameters:
        strategies.append(operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    if operation.path_parameters or operation.query or operation.body:
        strategies.append(with_ids(GenerationMode.NEGATIVE))
    return st.one_of(strategies)


def _fuzz(operation, role_headers: dict, app, statuses: Counter) -> list[str]:
    """Run the operation's examples, counting answers by status class; returns what went wrong."""
    failures: list[str] = []

    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=_requests_for(operation), role=st.sampled_from(sorted(role_headers)))
    def check(case, role):
        if found := _call_and_check(case, role_headers[role], app, statuses):
            failures.append(f"{role}: {found}\n{case.as_curl_command()}")

    check()
    return failures


def _call_and_check(case, headers: dict, app, statuses: Counter) -> str | None:
    """The request's answer against the checks; a description of what failed, or None."""
    try:
        response = case.call(headers=headers)
    except Exception as error:  # noqa: BLE001 - an exception escaping the app is a 500 by another name
        statuses["5xx"] += 1
        return f"{type(error).__name__}: {error}"
    finally:
        with app.app_context():
            db.session.remove()
    statuses[f"{response.status_code // 100}xx"] += 1
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except FailureGroup as group:
        return f"{response.status_code}: " + "; ".join(
            f"{failure.title}: {failure.message}".replace("\n", " ")[:300] for failure in group.exceptions)
    content_type = {key.lower(): value for key, value in response.headers.items()}.get("content-type", [""])
    content_type = (content_type[0] if isinstance(content_type, list) else content_type).split(";")[0].strip()
    if response.status_code >= 400 and content_type != "application/problem+json":
        return f"{response.status_code} as {content_type!r}"
    return None


def test_every_answer_conforms_to_the_document_and_none_is_5xx(app):
    role_headers = _seed_demo(app)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 100  # the whole API, not an empty document

    limiter.enabled = False  # thousands of requests in a minute; 429s would hide the endpoints behind them
    failures: dict[str, list[str]] = {}
    statuses: Counter = Counter()
    try:
        for operation in operations:
            if found := _fuzz(operation, role_headers, app, statuses):
                failures[f"{operation.method.upper()} {operation.path}"] = found
    finally:
        limiter.enabled = True

    summary = (f"API fuzz on {app.config['BACKEND']}: {statuses.total()} cases over {len(operations)} operations as "
               f"{len(role_headers)} roles ({', '.join(f'{k}: {v}' for k, v in sorted(statuses.items()))}), "
               f"{sum(map(len, failures.values()))} failures in {len(failures)} operations")
    print(summary)
    report = "\n\n".join(f"{label}:\n" + "\n".join(found[:3]) for label, found in failures.items())
    assert not failures, f"{summary}\n{report}"


# Inputs the fuzzer found answering 500; random generation meets them only now and then, so pin them.
HUGE = 2**70  # beyond SQLite's 64-bit INTEGER; 2**40 would do for PostgreSQL's 32-bit one


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("GET", f"/api/v1/reviews/{HUGE}/attachments/0", None, 404),
    ("DELETE", f"/api/v1/proposals/{2**40}/exclusions/1", None, 404),
    ("POST", "/api/v1/me/notifications/read", {"ids": [HUGE]}, 422),
    ("POST", "/api/v1/me/notifications/read", {"ids": [2**40]}, 422),
    ("POST", "/api/v1/challenges/1/reviewers", {"user_ids": [2**40]}, 422),
    ("POST", "/api/v1/proposals/1/exclusions", {"user_id": 2**40}, 422),
    ("PUT", "/api/v1/proposals/1/team/shares", {"shares": {str(HUGE): "100"}}, 422),
    ("GET", f"/api/v1/finance/ledger?challenge_id={HUGE}", None, 422),
    ("GET", "/api/v1/challenges?min_award=1e300", None, 422),
])
def test_out_of_range_numbers_are_client_errors(client, make_user, api_token, method, path, body, status):
    headers = api_token(make_user(roles=[("admin", None)]))
    response = client.open(path, method=method, json=body, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"


def test_browse_page_refuses_an_unquantizable_minimum_award(client):
    response = client.get("/challenges?min_award=1e300")
    assert response.status_code == 422  # the form shows its error instead of a 500
    assert "Minimum award" in response.get_data(as_text=True)


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"get", "put", "post", "patch", "delete"}:
                yield f"{method.upper()} {path}", operation


def test_the_document_describes_success_errors_and_their_headers(client):
    document = client.get("/api/v1/openapi.json").get_json()
    responses = document["components"]["responses"]
    undescribed = [label for label, operation in _operations(document)
                   if not any(code.startswith("2") for code in operation["responses"])]
    assert not undescribed
    for label, operation in _operations(document):
        for code in ("401", "403", "404", "429", "default"):
            reference = operation["responses"][code]["$ref"].rsplit("/", 1)[1]
            assert list(responses[reference]["content"]) == ["application/problem+json"], (label, code)
    assert "Retry-After" in responses["TOO_MANY_REQUESTS"]["headers"]
    assert "Allow" in responses["METHOD_NOT_ALLOWED"]["headers"]


def test_decimals_have_one_documented_type(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    premium = [schemas[name]["properties"]["premium_pct"] for name in
               ("AccountsOrganizationIn", "AccountsOrganizationOut", "ChallengesChallengeCreateIn")]
    assert {(field["type"], field["format"]) for field in premium} == {("string", "decimal")}
    assert schemas["PaymentsReceiptIn"]["properties"]["amount"]["type"] == "object"  # Money


def test_a_wrong_method_answers_405_with_allow_as_a_problem(client):
    response = client.delete("/api/v1/challenges")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_downloads_document_the_media_types_they_send(client):
    """The fuzzer found a CSL-JSON citation and attachment files documented as JSON objects."""
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    citation = paths["/api/v1/results/{result_id}/citation.json"]["get"]["responses"]["2XX"]["content"]
    assert list(citation) == ["application/vnd.citationstyles.csl+json"]
    assert citation["application/vnd.citationstyles.csl+json"]["schema"]["type"] == "array"
    for path in ("/api/v1/attachments/{attachment_id}", "/api/v1/reviews/{review_id}/attachments/{index}"):
        content = paths[path]["get"]["responses"]["2XX"]["content"]
        assert {"application/pdf", "image/png", "text/plain", "text/csv"} <= set(content), path
        assert "application/json" not in content


@pytest.mark.parametrize("path", [
    "/api/v1/me/interests/{interest_id}", "/api/v1/me/interests",
    "/api/v1/challenges/{challenge_id}/reviewers/{user_id}",
    "/api/v1/proposals/{proposal_id}/exclusions/{exclusion_id}",
    "/api/v1/proposals/{proposal_id}/attachments/{attachment_id}",
])
def test_deletions_document_their_empty_204(client, path):
    """The fuzzer found these answering 204 while the document promised a JSON object."""
    responses = client.get("/api/v1/openapi.json").get_json()["paths"][path]["delete"]["responses"]
    assert "204" in responses and "content" not in responses["204"]
    assert "2XX" not in responses


def test_unfollowing_answers_an_empty_204(client, make_user, api_token):
    headers = api_token(make_user())
    created = client.post("/api/v1/me/interests", json={"kind": "tag", "value": "mems"}, headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    response = client.delete(f"/api/v1/me/interests/{created.get_json()['id']}", headers=headers)
    assert response.status_code == 204 and response.data == b""
    assert client.get("/api/v1/me/interests", headers=headers).get_json()["items"] == []
