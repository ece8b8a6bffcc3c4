"""The audit log: every account change is written, the hash chain verifies, and the database keeps it append-only."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from marketplace.audit.models import AuditEntry
from marketplace.extensions import db
from tests.factories import TEST_PASSWORD, sign_in
from tests.helpers import csrf_token_from, link_in_mail, outbox


def entries(app) -> list[AuditEntry]:
    with app.app_context():
        return db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()


def actions(app) -> list[str]:
    return [entry.action for entry in entries(app)]


def verify(client, headers) -> dict:
    response = client.get("/api/v1/audit/verify", headers=headers)
    assert response.status_code == 200, response.data
    return response.get_json()


def token_in(body: str) -> str:
    return link_in_mail(body).rsplit("/", 1)[1]


def tamper(app, statement: str) -> None:
    """Run `statement` on audit_entries past its append-only trigger, then put the trigger back."""
    with app.app_context(), db.engine.begin() as conn:
        if app.config["BACKEND"] == "postgresql":
            conn.execute(sa.text("ALTER TABLE audit_entries DISABLE TRIGGER ALL"))
            conn.execute(sa.text(statement))
            conn.execute(sa.text("ALTER TABLE audit_entries ENABLE TRIGGER ALL"))
        else:
            triggers = conn.execute(sa.text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_entries'")).all()
            assert triggers, "the append-only triggers are missing"
            for name, _sql in triggers:
                conn.execute(sa.text(f'DROP TRIGGER "{name}"'))
            conn.execute(sa.text(statement))
            for _name, sql in triggers:
                conn.execute(sa.text(sql))


def test_every_account_change_writes_an_audit_entry(client, app, make_user, api_token):
    admin = make_user("root@example.org", roles=[("admin", None)])
    admin_headers = api_token(admin)
    start = len(entries(app))

    body = {"email": "ada@example.org", "password": TEST_PASSWORD, "display_name": "Ada", "country": "GB"}
    assert client.post("/api/v1/auth/register", json=body).status_code == 201
    assert client.post("/api/v1/auth/confirm", json={"token": token_in(outbox(app)[-1].body_text)}).status_code == 200
    issued = client.post("/api/v1/auth/tokens", json={"email": body["email"], "password": TEST_PASSWORD})
    headers = {"Authorization": f"Bearer {issued.get_json()['token']}"}
    settings = {"display_name": "Ada King", "country": "FR", "locale": "fr", "timezone": "Europe/Paris"}
    assert client.put("/api/v1/me", json=settings, headers=headers).status_code == 200
    assert client.post("/api/v1/auth/password-reset", json={"email": body["email"]}).status_code == 202
    reset = {"token": token_in(outbox(app)[-1].body_text), "password": "another-long-passphrase"}
    assert client.post("/api/v1/auth/password-reset/confirm", json=reset).status_code == 200
    org = {"slug": "sh-icc", "name": "IC Center", "country": "CN"}
    assert client.post("/api/v1/organizations", json=org, headers=admin_headers).status_code == 201
    cli = app.test_cli_runner().invoke(args=[
        "users", "create", "--email", "li@example.cn", "--password", TEST_PASSWORD, "--name", "Li",
        "--country", "CN", "--role", "reviewer", "--org", "sh-icc"])
    assert cli.exit_code == 0, cli.output
    # The language switcher saves the choice on a signed-in account: that is a change too.
    sign_in(client, "ada@example.org", reset["password"])
    client.post("/language", data={"locale": "ja", "csrf_token": csrf_token_from(client.get("/"))})

    written = entries(app)[start:]
    assert [e.action for e in written] == [
        "user.registered", "user.email_confirmed", "api_token.issued", "user.settings_changed",
        "user.password_reset_requested", "user.password_reset", "user.sessions_revoked", "organization.created",
        "user.registered", "role.granted", "user.settings_changed"]
    ada = written[0].entity_id
    assert all(e.entity == f"user:{ada}" for e in written[:7])
    assert written[6].data == {"reason": "password_reset", "tokens": [written[2].data["token_id"]]}
    assert written[7].actor_id == admin.id and written[7].data["slug"] == "sh-icc"
    assert written[9].data == {"role": "reviewer", "organization": "sh-icc"}
    assert written[10].data == {"locale": "ja"} and written[10].actor_id == ada
    assert written[0].ip_address == "127.0.0.1"  # from where
    assert verify(client, admin_headers) == {"ok": True, "entries": len(entries(app))}


def test_failed_changes_write_no_entry(client, app):
    bad = {"email": "ada@example.org", "password": "short", "display_name": "Ada", "country": "GB"}
    assert client.post("/api/v1/auth/register", json=bad).status_code == 422
    assert client.post("/api/v1/auth/confirm", json={"token": "forged"}).status_code == 422
    assert entries(app) == []


@pytest.mark.parametrize(("statement", "bad_offset"), [
    ("UPDATE audit_entries SET data = '{\"role\": \"admin\"}' WHERE id = {id}", 0),
    ("UPDATE audit_entries SET actor_id = NULL WHERE id = {id}", 0),
    ("DELETE FROM audit_entries WHERE id = {id}", 1),  # the next entry no longer chains
])
def test_tampering_breaks_the_chain_and_verify_names_the_first_bad_entry(
        client, app, make_user, api_token, statement, bad_offset):
    admin = make_user(roles=[("admin", None)])
    for i in range(3):
        make_user(f"solver{i}@example.org")
    headers = api_token(admin)
    before = verify(client, headers)
    assert before["ok"] is True and before["entries"] == len(entries(app))
    ids = [entry.id for entry in entries(app)]
    target = ids[2]
    tamper(app, statement.replace("{id}", str(target)))
    report = verify(client, headers)
    assert report["ok"] is False
    assert report["first_bad_id"] == ids[2 + bad_offset]
    assert report["entries"] == 2  # the entries before it still check out


def test_the_database_refuses_update_and_delete_of_audit_entries(app, make_user):
    make_user()
    with app.app_context():
        for statement in ("UPDATE audit_entries SET action = 'nothing.happened'", "DELETE FROM audit_entries"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
                conn.execute(sa.text(statement))
        entry = db.session.scalar(sa.select(AuditEntry))
        entry.action = "nothing.happened"
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.commit()
        db.session.rollback()
    assert actions(app) == ["user.registered"]


def test_audit_list_filters_by_entity(client, app, make_user, make_org, api_token):
    admin = make_user(roles=[("admin", None)])
    ada = make_user("ada@example.org")
    make_org("sh-icc")
    headers = api_token(admin)  # also an entry, on the admin
    page = client.get(f"/api/v1/audit?entity=user:{ada.id}", headers=headers).get_json()
    assert page["total"] == 1 and [item["entity"] for item in page["items"]] == [f"user:{ada.id}"]
    assert page["items"][0]["action"] == "user.registered" and len(page["items"][0]["hash"]) == 64
    orgs = client.get("/api/v1/audit?entity=organization", headers=headers).get_json()
    assert [item["action"] for item in orgs["items"]] == ["organization.created"]
    everything = client.get("/api/v1/audit?per_page=2", headers=headers).get_json()
    assert everything["total"] == len(entries(app)) and len(everything["items"]) == 2
    assert everything["items"][0]["id"] > everything["items"][1]["id"]  # newest first


@pytest.mark.parametrize("entity", ["user:abc", "user:99999999999999999999", "USER:1", "user:1;drop", ""])
def test_bad_entity_filter_is_422_not_500(client, make_user, api_token, entity):
    headers = api_token(make_user(roles=[("admin", None)]))
    response = client.get("/api/v1/audit", query_string={"entity": entity}, headers=headers)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"


def test_only_admins_and_security_officers_read_the_audit_log(client, make_user, make_org, api_token):
    org = make_org()
    officer = make_user(roles=[("security_officer", org)])
    for user in (make_user(), make_user(roles=[("center_manager", org)]), make_user(roles=[("finance_officer", org)])):
        headers = api_token(user)
        assert client.get("/api/v1/audit", headers=headers).status_code == 403
        assert client.get("/api/v1/audit/verify", headers=headers).status_code == 403
    assert client.get("/api/v1/audit/verify").status_code == 401
    assert client.get("/api/v1/audit", headers=api_token(officer)).status_code == 200
    assert verify(client, api_token(officer))["ok"] is True


def test_concurrent_writers_keep_one_valid_chain(client, app, make_user, api_token):
    """Each thread chains onto the newest entry: on PostgreSQL the advisory lock serialises the
    writers (without it this test forks the chain); SQLite has one writer at a time anyway."""
    from marketplace.accounts import services

    threads_count, per_thread = 4, 8
    start = threading.Barrier(threads_count)
    errors = []

    def write(worker: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with app.test_request_context():
                    services.create_organization(slug=f"org-{worker}-{i}", name=f"Center {worker}.{i}", country="CN")
                    db.session.commit()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    written = entries(app)
    assert len(written) == threads_count * per_thread
    assert len({entry.prev_hash for entry in written}) == len(written)  # no fork: each hash followed once
    assert verify(client, api_token(make_user(roles=[("admin", None)]))) == {
        "ok": True, "entries": threads_count * per_thread + 3}  # + the admin: registered, role, token
