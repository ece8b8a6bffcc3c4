"""Failed sign-ins are counted once, for the page and the API together, per account and per address,
in storage every worker and every app instance shares; every 429 says when to come back."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

from marketplace import create_app
from marketplace.config import check_shared_rate_limits
from marketplace.extensions import db
from tests.factories import TEST_PASSWORD
from tests.helpers import csrf_token_from, rows, value_of

ROOT = Path(__file__).resolve().parents[2]


def page_login(client, email: str, password: str, address: str = "10.1.1.1"):
    token = csrf_token_from(client.get("/auth/login"))
    return client.post("/auth/login", data={"email": email, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def api_login(client, email: str, password: str, address: str = "10.1.1.1"):
    return client.post("/api/v1/auth/tokens", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def assert_refused(response, mimetype: str) -> None:
    assert response.status_code == 429 and response.mimetype == mimetype
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_page_and_api_failures_share_one_count(client, make_user):
    user = make_user()
    assert [page_login(client, user.email, f"wrong-{i}").status_code for i in range(3)] == [401] * 3
    assert [api_login(client, user.email, f"wrong-{i}").status_code for i in range(2)] == [401] * 2
    # The sixth attempt is refused on either path, from another address too, even with the right password.
    assert_refused(api_login(client, user.email, TEST_PASSWORD, address="10.2.2.2"), "application/problem+json")
    refused = page_login(client, user.email, TEST_PASSWORD, address="10.3.3.3")
    assert_refused(refused, "text/html")
    assert b"Too many attempts" in refused.data
    assert client.get("/account").status_code == 302  # not signed in


def test_one_address_trying_many_accounts_is_refused(app, client, make_user):
    users = [make_user() for _ in range(5)]
    for user in users:
        assert page_login(client, user.email, "wrong-password", address="10.9.9.9").status_code == 401
    fresh = make_user()
    assert_refused(api_login(client, fresh.email, TEST_PASSWORD, address="10.9.9.9"), "application/problem+json")
    assert rows(app, "api_tokens", user_id=fresh.id) == 0  # the refused sign-in issued nothing
    assert api_login(client, fresh.email, TEST_PASSWORD, address="10.8.8.8").status_code == 201
    assert rows(app, "api_tokens", user_id=fresh.id) == 1


def test_a_successful_sign_in_forgives_the_accounts_failures(client, make_user):
    user = make_user()
    for i in range(4):
        api_login(client, user.email, f"wrong-{i}", address=f"10.0.0.{i}")
    assert api_login(client, user.email, TEST_PASSWORD, address="10.0.1.1").status_code == 201
    assert [api_login(client, user.email, "wrong", address=f"10.0.2.{i}").status_code for i in range(5)] == [401] * 5
    assert api_login(client, user.email, TEST_PASSWORD, address="10.0.3.3").status_code == 429


def test_wrong_current_passwords_count_as_failed_sign_ins(app, client, make_user, api_token):
    user = make_user()
    headers = api_token(user)
    password_hash = value_of(app, "users", user.id, "password_hash")
    for i in range(5):
        response = client.post("/api/v1/me/password", headers=headers,
                               json={"current_password": f"wrong-{i}", "new_password": "another-long-passphrase"})
        assert response.status_code == 422
    again = client.post("/api/v1/me/password", headers=headers,
                        json={"current_password": TEST_PASSWORD, "new_password": "another-long-passphrase"})
    assert_refused(again, "application/problem+json")
    assert_refused(page_login(client, user.email, TEST_PASSWORD), "text/html")
    assert value_of(app, "users", user.id, "password_hash") == password_hash  # even the right one changed nothing


def test_two_app_instances_on_one_database_share_the_count(app, client, make_user, tmp_path):
    """Two workers (two create_app instances) over the same database see the same failures."""
    user = make_user()
    settings = {key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "PUBLIC_URL",
                                                 "PASSWORD_HASH_FAST", "RATELIMIT_STORAGE_URI")}
    second = create_app({**settings, "TESTING": True, "INSTANCE_PATH": str(tmp_path),
                         "SESSION_COOKIE_SECURE": False, "MAIL_SERVER": None})
    other = second.test_client()
    try:
        for i in range(3):
            assert api_login(client, user.email, f"wrong-{i}", address=f"10.4.0.{i}").status_code == 401
        for i in range(2):
            assert page_login(other, user.email, f"wrong-{i}", address=f"10.5.0.{i}").status_code == 401
        assert_refused(api_login(other, user.email, TEST_PASSWORD, address="10.6.0.1"), "application/problem+json")
        assert_refused(page_login(client, user.email, TEST_PASSWORD, address="10.6.0.2"), "text/html")
    finally:
        with second.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_redis_style_store_counts_the_same_way(app, client, make_user, monkeypatch):
    """With REDIS_URL the count lives in a `limits` storage; memory:// stands in for Redis here."""
    monkeypatch.setitem(app.config, "LOGIN_THROTTLE_STORAGE_URI", "memory://")
    user = make_user()
    for i in range(3):
        assert page_login(client, user.email, f"wrong-{i}").status_code == 401
    for i in range(2):
        assert api_login(client, user.email, f"wrong-{i}").status_code == 401
    assert_refused(api_login(client, user.email, TEST_PASSWORD, address="10.7.7.7"), "application/problem+json")
    with app.app_context():
        assert db.session.scalar(db.text("SELECT count(*) FROM sign_in_failures")) == 0  # not the database


def test_flask_limiters_own_429s_carry_retry_after(client):
    body = {"email": "someone@example.org"}
    statuses = [client.post("/api/v1/auth/password-reset", json=body, environ_base={"REMOTE_ADDR": "10.0.0.50"})
                for _ in range(11)]
    assert [r.status_code for r in statuses[:10]] == [202] * 10
    refused = statuses[10]
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    assert int(refused.headers["Retry-After"]) > 0
    form = {"email": "x@example.org", "csrf_token": csrf_token_from(client.get("/auth/reset"))}
    pages = [client.post("/auth/reset", data=form, environ_base={"REMOTE_ADDR": "10.0.0.51"}) for _ in range(11)]
    assert [r.status_code for r in pages[:10]] == [302] * 10
    refused_page = pages[10]
    assert refused_page.status_code == 429 and refused_page.mimetype == "text/html"
    assert int(refused_page.headers["Retry-After"]) > 0


# --- refusing per-worker rate limits in production --------------------------------------------------

@pytest.mark.parametrize(("settings", "workers", "refused"), [
    ({"RATELIMIT_STORAGE_URI": "memory://"}, 3, True),
    ({"RATELIMIT_STORAGE_URI": "memory://"}, 1, False),
    ({"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"}, 3, False),
    ({"RATELIMIT_STORAGE_URI": "memory://", "DEVELOPMENT": True}, 3, False),
    ({"RATELIMIT_STORAGE_URI": "memory://", "TESTING": True}, 3, False),
])
def test_multi_worker_production_needs_shared_rate_limits(settings, workers, refused):
    if refused:
        with pytest.raises(RuntimeError, match="REDIS_URL"):
            check_shared_rate_limits(settings, workers)
    else:
        check_shared_rate_limits(settings, workers)


def test_create_app_refuses_web_concurrency_above_one_without_redis(tmp_path, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.delenv("REDIS_URL", raising=False)
    config = {"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x" * 32, "RATELIMIT_STORAGE_URI": "memory://",
              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}"}
    with pytest.raises(RuntimeError, match="3 workers"):
        create_app(config)
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    assert create_app(config).name == "marketplace"


def test_gunicorn_config_refuses_several_workers_without_redis(monkeypatch):
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("FLASK_ENV_MODE", raising=False)
    with pytest.raises(RuntimeError, match="4 workers"):
        module.on_starting(SimpleNamespace(cfg=SimpleNamespace(workers=4)))
    module.on_starting(SimpleNamespace(cfg=SimpleNamespace(workers=1)))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    module.on_starting(SimpleNamespace(cfg=SimpleNamespace(workers=4)))
