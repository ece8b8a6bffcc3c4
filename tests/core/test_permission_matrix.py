"""The generated permission matrix: every HTML route and API operation, called by every outsider.

One world per backend (tests/core/matrix_world.py), the expectations in one table
(tests/core/permission_matrix.py). Reads run first (so that what a caller may legitimately
unlock by a write, such as a challenge's description after accepting its agreement, cannot
hide a leak), then writes. Every failure is collected into one readable message.
"""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import dataclass, field

from flask import url_for

from marketplace.extensions import db, limiter
from tests.core import matrix_world
from tests.core.permission_matrix import ROLES, TABLE, expected

SAFE = {"GET"}
API_PREFIX = "/api/v1"


def _bodies(world) -> dict[str, dict]:
    """Valid-looking bodies for writes whose refusal must come from the permission, not validation."""
    reviewer = world.users["reviewer"]
    proposal = world.ids["proposal_id"][1][0]
    return {
        "POST /api/v1/challenges/<int:challenge_id>/clearance": {"decision": "approve", "note": "fine"},
        "POST /api/v1/challenges/<int:challenge_id>/awards": {"awards": [{"proposal_id": proposal, "share_pct": 100}]},
        "POST /api/v1/challenges/<int:challenge_id>/reviewers": {"user_ids": [reviewer]},
        "POST /api/v1/challenges/<int:challenge_id>/assignments": {"per_proposal": 1, "max_per_reviewer": 10},
        "POST /api/v1/challenges/<int:challenge_id>/funding/receipts": {
            "reference": "WIRE-1", "amount": {"amount": "1.00", "currency": "CNY"}, "received_on": "2027-01-05"},
        "POST /api/v1/awards/<int:award_id>/payout-confirmation": {"reference": "WIRE-2"},
        "POST /api/v1/awards/<int:award_id>/ip-assignment": {"accept": True},
        "POST /api/v1/programs/<int:program_id>/requirements": {"code": "R9", "text": "Taken over"},
        "PATCH /api/v1/proposals/<int:proposal_id>": {"title": "Taken over"},
        "PUT /api/v1/reviews/<int:review_id>": {"comment": "Taken over", "recommendation": "reject"},
        "POST /api/v1/proposals/<int:proposal_id>/exclusions": {"user_id": reviewer},
        "POST /api/v1/questions/<int:question_id>/answer": {"answer": "Taken over"},
        "PUT /api/v1/challenges/<int:challenge_id>/translations/<locale>": {"title": "Taken over"},
        "POST /api/v1/challenges/<int:challenge_id>/translators": {"email": "anna.schmidt@tum.example",
                                                                  "locale": "de"},
        "POST /api/v1/clarifications/<int:clarification_id>/answer": {"answer": "Taken over"},
        "POST /api/v1/results/<int:result_id>/consent": {"consent": True},
        "POST /proposals/<int:proposal_id>/edit": {"title": "Taken over", "abstract": "x", "body": "x"},
        "POST /staff/challenges/<int:challenge_id>/clearance": {"decision": "approve", "note": "fine"},
        "POST /staff/questions/<int:question_id>/answer": {"answer": "Taken over"},
        "POST /finance/awards/<int:award_id>/confirm": {"reference": "WIRE-3"},
    }


@dataclass
class Report:
    calls: int = 0
    failures: list[str] = field(default_factory=list)
    leaks: int = 0
    server_errors: int = 0

    def fail(self, role: str, method: str, path: str, problem: str, kind: str = "leak") -> None:
        self.failures.append(f"{role:>9} {method} {path}: {problem}")
        if kind == "5xx":
            self.server_errors += 1
        else:
            self.leaks += 1


def _operations(app) -> list[tuple[str, str, object]]:
    """(key, method, rule) for every route; a route missing from the table fails here."""
    found, unclassified = [], []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            key = f"{method} {rule.rule}"
            if key not in TABLE:
                unclassified.append(key)
            elif "-" not in TABLE[key]:
                found.append((key, method, rule))
    assert not unclassified, "classify these routes in tests/core/permission_matrix.py:\n" + "\n".join(unclassified)
    return sorted(found, key=lambda item: (item[1] not in SAFE, item[0]))


def _body_text(response) -> str:
    if response.mimetype.endswith("json"):
        return json.dumps(response.get_json(silent=True), ensure_ascii=False)
    return html.unescape(response.get_data(as_text=True))


def _audit_head() -> int:
    from marketplace.audit.models import AuditEntry

    return db.session.scalar(db.select(db.func.max(AuditEntry.id))) or 0


def _changes_since(head: int) -> list[str]:
    """Audit actions written after `head`, but the records of refused attempts (they change nothing)."""
    from marketplace.audit.models import AuditEntry

    actions = db.session.scalars(db.select(AuditEntry.action).where(AuditEntry.id > head))
    return [action for action in actions if "refused" not in action]


def _judge(code: str, public: bool, method: str, response, wrote: list[str], world) -> str | None:
    status = response.status_code
    success = 200 <= status < 300
    if code == "D" and success:
        return f"answered {status} on a route it may not use"
    if code in "PA" and success and not public:
        return f"answered {status} about a private object"
    if wrote and (code in "DP" or (code == "A" and not public)):
        return f"changed something it may not change (audited: {', '.join(wrote)})"
    if success and method in SAFE:
        text = _body_text(response)
        shown = [what for marker, what in world.markers.items() if marker in text]
        if shown:
            return "shows " + "; ".join(shown[:3])
    return None


def _call(app, clients, world, role, key, method, rule, bodies, report) -> None:
    code = expected(key, role)
    for values, public in world.path_values(rule.arguments):
        with app.test_request_context():
            path = url_for(rule.endpoint, **values)
        is_api = path.startswith(API_PREFIX)
        body = bodies.get(key, {}) if method not in SAFE else None
        with app.app_context():
            before = _audit_head() if method not in SAFE else None
        if is_api:
            response = clients["anonymous"].open(path, method=method, json=body, headers=world.tokens[role])
        else:
            response = clients[role].open(path, method=method, data=body)
        with app.app_context():
            wrote = _changes_since(before) if before is not None else []
            db.session.remove()
        report.calls += 1
        if response.status_code >= 500:
            report.fail(role, method, path, f"answered {response.status_code}", kind="5xx")
        elif problem := _judge(code, public, method, response, wrote, world):
            report.fail(role, method, path, problem)


def _clients(app, world) -> dict:
    clients = {"anonymous": app.test_client()}
    for role in ROLES[1:]:
        client = app.test_client()
        email = matrix_world.OUTSIDERS[role][0]
        response = client.post("/auth/login", data={"email": email, "password": matrix_world.PASSWORD})
        assert response.status_code == 302, (role, response.status_code)
        clients[role] = client
    return clients


def test_no_outsider_sees_or_changes_what_it_may_not(app, capsys):
    started = time.monotonic()
    world = matrix_world.build(app)
    operations = _operations(app)
    report = Report()
    app.config["WTF_CSRF_ENABLED"] = False  # forms are refused by permission here, not by a missing token
    limiter.enabled = False
    try:
        clients = _clients(app, world)
        bodies = _bodies(world)
        for key, method, rule in operations:
            for role in ROLES:
                _call(app, clients, world, role, key, method, rule, bodies, report)
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
        limiter.enabled = True
    with capsys.disabled():
        print(f"\npermission matrix ({app.config['BACKEND']}): {len(operations)} operations, {report.calls} calls, "
              f"{report.leaks} leaks, {report.server_errors} 5xx, {time.monotonic() - started:.1f} s")
    assert not report.failures, f"{len(report.failures)} failures:\n" + "\n".join(report.failures)


def test_the_markers_are_what_the_owner_sees(app):
    """The leak check can fail: the owning center's manager is shown the markers an outsider never is."""
    world = matrix_world.build(app)
    draft, program = world.ids["challenge_id"][0][0], world.ids["program_id"][0][0]
    with app.app_context():
        headers = {"Authorization": f"Bearer {matrix_world.token_for('li.wei@icc.example.cn')}"}
    client = app.test_client()
    shown = _body_text(client.get(f"/api/v1/challenges/{draft}", headers=headers))
    shown += _body_text(client.get(f"/api/v1/programs/{program}", headers=headers))
    found = {what for marker, what in world.markers.items() if marker in shown}
    assert f"description of challenge {draft} (en)" in found, found
    assert f"title of program {program}" in found, found
    outsider = _body_text(client.get(f"/api/v1/challenges/{draft}", headers=world.tokens["manager"]))
    assert not [marker for marker in world.markers if marker in outsider]


def test_every_api_operation_in_the_document_is_in_the_table(client):
    document = client.get("/api/v1/openapi.json").get_json()
    keys = {method.upper() + " " + re.sub(r"{(\w+)}", r"<\1>", path)
            for path, item in document["paths"].items() for method in item if method != "parameters"}
    routes = {re.sub(r"<(?:int|any\([^)]*\)):", "<", key) for key in TABLE}
    assert keys <= routes, sorted(keys - routes)
