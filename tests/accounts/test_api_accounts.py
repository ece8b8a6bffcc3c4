"""The accounts API as a client sees it: registration, confirmation, tokens, /me, errors."""

from __future__ import annotations

import pytest

from marketplace.accounts.models import User
from marketplace.extensions import db
from tests.factories import TEST_PASSWORD
from tests.helpers import link_in_mail, outbox, rows, value_of

GOOD = {
    "email": "ada@example.org",
    "password": TEST_PASSWORD,
    "display_name": "Ada Lovelace",
    "country": "GB",
    "locale": "en",
}


def register(client, **changes):
    return client.post("/api/v1/auth/register", json={**GOOD, **changes})


def test_register_creates_unconfirmed_solver_and_mails_a_link(client, app):
    response = register(client)
    assert response.status_code == 201
    body = response.get_json()
    assert body["email"] == "ada@example.org"
    assert body["email_confirmed"] is False
    assert body["roles"] == [{"role": "solver", "organization": None}]
    assert "password" not in body and "password_hash" not in body
    mails = outbox(app)
    assert len(mails) == 1 and mails[0].recipient == "ada@example.org"
    assert "/auth/confirm/" in mails[0].body_text


def test_confirmation_link_confirms_and_me_shows_it(client, app):
    register(client)
    token = link_in_mail(outbox(app)[0].body_text).rsplit("/", 1)[1]
    assert client.post("/api/v1/auth/confirm", json={"token": token}).status_code == 200
    auth = client.post("/api/v1/auth/tokens", json={"email": GOOD["email"], "password": GOOD["password"]})
    assert auth.status_code == 201
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {auth.get_json()['token']}"})
    assert me.status_code == 200 and me.get_json()["email_confirmed"] is True


def test_html_confirmation_link_confirms_on_open(client, app):
    register(client)
    link = link_in_mail(outbox(app)[0].body_text)
    page = client.get(link.replace("http://localhost", ""))
    assert page.status_code == 200
    with app.app_context():
        assert db.session.scalar(db.select(User)).email_confirmed


def test_tampered_confirmation_token_is_refused(client, app):
    register(client)
    token = link_in_mail(outbox(app)[0].body_text).rsplit("/", 1)[1]
    response = client.post("/api/v1/auth/confirm", json={"token": token[:-2] + "xx"})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"password": "short"}, "password"),
        ({"password": "password1234"}, "password"),
        ({"password": "aaaaaaaaaaaaaaaa"}, "password"),
        ({"country": "XX"}, "country"),
        ({"country": "Germany"}, "country"),
        ({"display_name": "x" * 121}, "display_name"),
        ({"display_name": "   "}, "display_name"),
        ({"email": "not-an-email"}, "email"),
        ({"locale": "tlh"}, "locale"),
    ],
)
def test_bad_registration_gets_422_naming_the_field_and_writes_nothing(client, app, changes, field):
    response = register(client, **changes)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 422 and field in problem["errors"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 0
    assert outbox(app) == []


def test_taken_email_is_a_409_even_with_different_case(client):
    assert register(client).status_code == 201
    response = register(client, email="ADA@Example.org")
    assert response.status_code == 409
    assert "email" in response.get_json()["errors"]


def test_malformed_json_and_wrong_content_type(client):
    bad_json = client.post("/api/v1/auth/register", data="{nope", content_type="application/json")
    assert bad_json.status_code == 400 and bad_json.mimetype == "application/problem+json"
    form = client.post("/api/v1/auth/register", data={"email": "a@b.org"})
    assert form.status_code == 415 and form.mimetype == "application/problem+json"
    not_object = client.post("/api/v1/auth/register", json=["a"])
    assert 400 <= not_object.status_code < 500


def test_problem_messages_follow_the_users_language(client):
    response = client.post("/api/v1/auth/register?lang=de", json={**GOOD, "country": "XX"})
    assert response.status_code == 422
    assert response.get_json()["errors"]["country"] != ["Use a two-letter ISO 3166-1 country code, such as DE or CN."]


def test_wrong_password_is_401_and_repeated_failures_are_429(client, make_user):
    user = make_user()
    statuses = [
        client.post(
            "/api/v1/auth/tokens",
            json={"email": user.email, "password": "wrong-password-123"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{i}"},
        ).status_code
        for i in range(7)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429, 429]
    # the account is throttled even with the right password now
    right = client.post(
        "/api/v1/auth/tokens",
        json={"email": user.email, "password": TEST_PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert right.status_code == 429


def test_successful_logins_are_not_throttled(app, client, make_user):
    user = make_user()
    for _ in range(8):
        assert (
            client.post("/api/v1/auth/tokens", json={"email": user.email, "password": TEST_PASSWORD}).status_code == 201
        )
    assert rows(app, "api_tokens", user_id=user.id) == 8  # every sign-in issued its token
    assert rows(app, "sign_in_failures") == 0


def test_token_is_stored_hashed_and_expires(client, app, make_user):
    from datetime import timedelta

    from marketplace.accounts.models import ApiToken

    user = make_user()
    token = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": TEST_PASSWORD}).get_json()[
        "token"
    ]
    with app.app_context():
        row = db.session.scalar(db.select(ApiToken))
        assert token not in row.token_hash
        row.expires_at = row.expires_at - timedelta(days=365)
        db.session.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_bad_bearer_token_is_401(client):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 401 and response.mimetype == "application/problem+json"


def test_session_cookie_alone_does_not_authenticate_the_api(client, make_user, login):
    user = make_user()
    login(user)
    assert client.get("/api/v1/me").status_code == 401


def test_me_lists_roles_with_organizations(client, make_user, make_org, api_token):
    org = make_org("sh-icc")
    user = make_user(roles=[("center_manager", org), ("admin", None)])
    body = client.get("/api/v1/me", headers=api_token(user)).get_json()
    assert {"role": "center_manager", "organization": "sh-icc"} in body["roles"]
    assert {"role": "admin", "organization": None} in body["roles"]
    assert {"role": "solver", "organization": None} in body["roles"]


def test_password_reset_by_mail_token_works_once(client, app, make_user):
    user = make_user()
    assert client.post("/api/v1/auth/password-reset", json={"email": user.email}).status_code == 202
    token = link_in_mail(outbox(app)[-1].body_text).rsplit("/", 1)[1]
    new_password = "a-brand-new-long-passphrase"
    done = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": new_password})
    assert done.status_code == 200
    assert client.post("/api/v1/auth/tokens", json={"email": user.email, "password": new_password}).status_code == 201
    password_hash = value_of(app, "users", user.id, "password_hash")
    again = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": "yet-another-passphrase"}
    )
    assert again.status_code == 422
    assert value_of(app, "users", user.id, "password_hash") == password_hash  # the used token changed nothing


def test_password_reset_for_unknown_address_says_the_same_and_sends_nothing(client, app):
    assert client.post("/api/v1/auth/password-reset", json={"email": "nobody@example.org"}).status_code == 202
    assert outbox(app) == []


def test_only_admins_create_organizations(client, make_user, api_token):
    admin = make_user(roles=[("admin", None)])
    solver = make_user()
    body = {"slug": "sh-ssc", "name": "Smart Sensor Center", "country": "CN", "premium_pct": "18"}
    assert client.post("/api/v1/organizations", json=body, headers=api_token(solver)).status_code == 403
    created = client.post("/api/v1/organizations", json=body, headers=api_token(admin))
    assert created.status_code == 201 and created.get_json()["slug"] == "sh-ssc"
    assert client.post("/api/v1/organizations", json=body, headers=api_token(admin)).status_code == 409
    out_of_range = client.post(
        "/api/v1/organizations", json={**body, "slug": "other", "premium_pct": "35"}, headers=api_token(admin)
    )
    assert out_of_range.status_code == 422


def test_idempotency_key_replays_the_first_response(client, make_user, api_token):
    admin = make_user(roles=[("admin", None)])
    headers = {**api_token(admin), "Idempotency-Key": "org-create-1"}
    body = {"slug": "sh-idem", "name": "Idempotent Center", "country": "CN"}
    first = client.post("/api/v1/organizations", json=body, headers=headers)
    second = client.post("/api/v1/organizations", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    different = client.post("/api/v1/organizations", json={**body, "slug": "sh-other"}, headers=headers)
    assert different.status_code == 422


def test_list_pagination_shape_and_limits(client, make_user, make_org, api_token):
    for i in range(3):
        make_org(f"org-{i}")
    user = make_user()
    page = client.get("/api/v1/organizations?page=2&per_page=2", headers=api_token(user)).get_json()
    assert page["page"] == 2 and page["per_page"] == 2 and page["total"] == 3 and len(page["items"]) == 1
    too_many = client.get("/api/v1/organizations?per_page=101", headers=api_token(user))
    assert too_many.status_code == 422


def test_openapi_document_is_served_and_lists_the_contract_paths(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/tokens",
        "/api/v1/auth/confirm",
        "/api/v1/me",
        "/api/v1/organizations",
        "/api/v1/audit",
        "/api/v1/audit/verify",
    ]:
        assert path in spec["paths"], path


def test_unknown_api_path_is_problem_json(client):
    response = client.get("/api/v1/does-not-exist")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
