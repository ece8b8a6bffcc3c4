"""Who reads which audit entries: a security officer only their own organizations' trail,
administrators everything; the chain check still covers the whole log. Bad filters are 422s."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.audit.models import AuditEntry
from marketplace.extensions import db
from tests.core.test_migrations import scratch_url  # noqa: F401 - fixture


def all_entries(client, headers, **query) -> list[dict]:
    items, page = [], 1
    while True:
        body = client.get("/api/v1/audit", query_string={**query, "page": page, "per_page": 100},
                          headers=headers).get_json()
        items += body["items"]
        if len(items) >= body["total"]:
            return items
        page += 1


@pytest.fixture
def two_centers(make_org, make_user, challenge_factory):  # noqa: F811 - the fixture above
    """Center A with an open, funded challenge (clearance, bank receipt, publication on record); center B."""
    center_a, center_b = make_org("center-a"), make_org("center-b")
    manager = make_user(roles=[("center_manager", center_a)])
    challenge = challenge_factory(center_a, manager, status="open")
    officer_a, _finance_a = challenge_factory.officers(center_a)
    officer_b = make_user(roles=[("security_officer", center_b)])
    return center_a, center_b, challenge, officer_a, officer_b


def test_other_organizations_security_officer_reads_none_of_this_centers_trail(
        client, app, api_token, make_user, two_centers):
    center_a, center_b, challenge, officer_a, officer_b = two_centers
    with app.app_context():
        a_entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.organization_id == center_a.id)).all()
        actions = {entry.action for entry in a_entries}
    assert {"challenge.created", "challenge.cleared", "funding.receipt_recorded"} <= actions, actions

    seen_by_b = all_entries(client, api_token(officer_b))
    assert all(item["organization_id"] == center_b.id for item in seen_by_b)
    assert not any(item["entity"] == f"challenge:{challenge.id}" for item in seen_by_b)
    assert not any("BOC-" in str(item["data"]) for item in seen_by_b)  # no funding references
    assert all_entries(client, api_token(officer_b), entity=f"challenge:{challenge.id}") == []

    seen_by_a = all_entries(client, api_token(officer_a))
    assert {item["id"] for item in seen_by_a} == {entry.id for entry in a_entries}
    assert any("BOC-" in str(item["data"]) for item in seen_by_a)

    admin = make_user(roles=[("admin", None)])
    admin_headers = api_token(admin)
    with app.app_context():
        total = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    assert len(all_entries(client, admin_headers)) == total

    # The chain check still covers the whole log, whoever asks.
    for headers in (api_token(officer_b), admin_headers):
        report = client.get("/api/v1/audit/verify", headers=headers).get_json()
        with app.app_context():
            total = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
        assert report == {"ok": True, "entries": total}


def test_role_grants_belong_to_the_organization_they_grant_in(client, app, api_token, make_org, make_user):
    center_a, center_b = make_org("center-a"), make_org("center-b")
    reviewer = make_user(roles=[("reviewer", center_a)])
    officer_b = make_user(roles=[("security_officer", center_b)])
    seen_by_b = all_entries(client, api_token(officer_b), entity=f"user:{reviewer.id}")
    assert seen_by_b == []
    officer_a = make_user(roles=[("security_officer", center_a)])
    grants = all_entries(client, api_token(officer_a), entity=f"user:{reviewer.id}")
    assert [item["action"] for item in grants] == ["role.granted"]
    assert grants[0]["organization_id"] == center_a.id


@pytest.mark.parametrize("entity", ["challenge:2147483648", "challenge:99999999999", "challenge:0",
                                    "challenge:-1", "challenge:1.5", "challenge:", ":1", "challenge:1:2"])
def test_out_of_range_and_malformed_entity_is_422(client, make_user, api_token, entity):
    headers = api_token(make_user(roles=[("admin", None)]))
    response = client.get("/api/v1/audit", query_string={"entity": entity}, headers=headers)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert "entity" in response.get_json()["errors"]


def test_largest_possible_id_is_a_valid_filter(client, make_user, api_token):
    headers = api_token(make_user(roles=[("admin", None)]))
    response = client.get("/api/v1/audit", query_string={"entity": "challenge:2147483647"}, headers=headers)
    assert response.status_code == 200 and response.get_json()["total"] == 0


def test_the_migration_backfills_the_scope_of_earlier_entries(scratch_url, tmp_path, monkeypatch):  # noqa: F811
    """Entries written before the column existed get their organization; the log stays append-only."""
    from flask_migrate import downgrade, upgrade

    from marketplace import create_app
    from tests.core.test_migrations import MIGRATIONS

    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    scratch = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": scratch_url, "SECRET_KEY": "scratch",
                          "RATELIMIT_STORAGE_URI": "memory://"})
    insert = ("INSERT INTO audit_entries (created_at, action, entity_type, entity_id, data, prev_hash, hash) "
              "VALUES (CURRENT_TIMESTAMP, :action, :kind, :id, '{}', :prev, :hash)")
    with scratch.app_context():
        try:
            upgrade(directory=MIGRATIONS, revision="0008_analytics_snapshots")
            with db.engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO organizations (id, slug, name, country, premium_pct, created_at) "
                                     "VALUES (7, 'center-a', 'Center A', 'CN', 15, CURRENT_TIMESTAMP)"))
                conn.execute(sa.text(insert), {"action": "organization.created", "kind": "organization", "id": 7,
                                               "prev": "0" * 64, "hash": "a" * 64})
                conn.execute(sa.text(insert), {"action": "user.registered", "kind": "user", "id": 1,
                                               "prev": "a" * 64, "hash": "b" * 64})
            upgrade(directory=MIGRATIONS, revision="0009c_sessions_audit_scope")
            with db.engine.connect() as conn:
                scopes = conn.execute(sa.text("SELECT action, organization_id FROM audit_entries ORDER BY id")).all()
            assert [tuple(row) for row in scopes] == [("organization.created", 7), ("user.registered", None)]
            for when in ("upgraded", "downgraded"):
                with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
                    conn.execute(sa.text("UPDATE audit_entries SET action = 'x'"))
                if when == "upgraded":
                    downgrade(directory=MIGRATIONS, revision="0008_analytics_snapshots")
        finally:
            db.session.remove()
            db.engine.dispose()
