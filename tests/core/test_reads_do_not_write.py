"""Reads don't write: no GET page or API read commits the request's session.

The demo world is walked by an anonymous visitor, an outside solver and a manager of the owning
center, including a challenge that is open but past its deadline (it reads as closed; only the
scheduled `flask challenges close-due` writes that down). A commit during a GET fails the test.
"""

from __future__ import annotations

from datetime import timedelta

from flask import url_for
from sqlalchemy import event

from marketplace.extensions import db
from tests.core import matrix_world

STAFF_EMAIL = "li.wei@icc.example.cn"
# GETs that write by contract, each with its reason (shared/api-contract.md).
WRITING_GETS = {
    "/api/v1/me/calendar-url": "the secret calendar link is made on first use (API contract)",
}


def _past_deadline_challenge(app) -> int:
    """An open challenge whose deadline passed a minute ago, not yet closed by close-due."""
    from marketplace.challenges.models import Challenge
    from marketplace.db import utcnow

    with app.app_context():
        challenge = db.session.scalars(db.select(Challenge).where(Challenge.status == "open")
                                       .order_by(Challenge.id)).first()
        challenge.deadline = utcnow() - timedelta(minutes=1)
        for stage in getattr(challenge, "stages", []) or []:
            if stage.id == challenge.current_stage_id:
                stage.deadline = challenge.deadline
        db.session.commit()
        return challenge.id


def _signed_in(app, email: str):
    client = app.test_client()
    response = client.post("/auth/login", data={"email": email, "password": matrix_world.PASSWORD})
    assert response.status_code == 302, (email, response.status_code)
    return client


def _get_paths(app, world) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint.endswith("static"):
            continue
        for values, _public in world.path_values(rule.arguments):
            with app.test_request_context():
                paths.append(url_for(rule.endpoint, **values))
    return sorted(set(paths))


def test_no_get_request_commits(app):
    world = matrix_world.build(app)
    closed_by_reading = _past_deadline_challenge(app)
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        clients = {"anonymous": app.test_client(),
                   "solver": _signed_in(app, matrix_world.OUTSIDERS["solver"][0]),
                   "staff": _signed_in(app, STAFF_EMAIL)}
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    commits: list[str] = []
    current: list[str] = []

    def remember_commit(_session) -> None:
        commits.append(current[0])

    with app.app_context():
        tokens = {"solver": world.tokens["solver"],
                  "staff": {"Authorization": f"Bearer {matrix_world.token_for(STAFF_EMAIL)}"}}
    paths = [path for path in _get_paths(app, world) if path not in WRITING_GETS]
    event.listen(db.session, "after_commit", remember_commit)  # the request's session, not own transactions
    try:
        for who, client in clients.items():
            for path in paths:
                current[:] = [f"{who} GET {path}"]
                response = client.get(path, headers=tokens.get(who, {}) if path.startswith("/api/") else {})
                response.get_data()  # streamed exports run to their end, as a browser would read them
                response.close()
                assert response.status_code < 500, (who, path, response.status_code)
    finally:
        event.remove(db.session, "after_commit", remember_commit)
    assert not commits, "GET requests that committed:\n" + "\n".join(sorted(set(commits)))
    with app.app_context():
        from marketplace.challenges.models import Challenge

        challenge = db.session.get(Challenge, closed_by_reading)
        assert challenge.status == "open" and challenge.shown_status == "closed"


def test_close_due_writes_what_reading_showed(app):
    """Past its deadline the challenge is treated as closed at once (no amendment, no question); the scheduled
    command is what closes it, with its audit entry."""
    matrix_world.build(app)
    challenge_id = _past_deadline_challenge(app)
    with app.app_context():
        from marketplace.challenges.models import Challenge

        challenge = db.session.get(Challenge, challenge_id)
        staff = {"Authorization": f"Bearer {matrix_world.token_for(challenge.author.email)}"}
    client = app.test_client()
    amended = client.post(f"/api/v1/challenges/{challenge_id}/amendments", headers=staff,
                          json={"note": {"en": "More time"}, "deadline": "2099-01-01T00:00:00+00:00"})
    assert amended.status_code == 409, amended.get_json()  # "it is closed; possible only when open"
    with app.app_context():
        from marketplace.challenges.agreement_models import Amendment

        assert db.session.scalar(db.select(Amendment.id).where(Amendment.challenge_id == challenge_id)) is None
    result = app.test_cli_runner().invoke(args=["challenges", "close-due"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from marketplace.audit.models import AuditEntry
        from marketplace.challenges.models import Challenge

        assert db.session.get(Challenge, challenge_id).status == "closed"
        assert db.session.scalar(db.select(AuditEntry.id).where(
            AuditEntry.entity_type == "challenge", AuditEntry.entity_id == challenge_id,
            AuditEntry.action.like("challenge.closed%")).limit(1)) is not None
