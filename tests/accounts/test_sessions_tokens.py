"""Sessions and API tokens end with a password reset or change (except the session that made it);
users list and revoke their own tokens; an e-mail change waits for the link sent to the new address."""

from __future__ import annotations

from marketplace.accounts.models import ApiToken, User
from marketplace.audit.models import AuditEntry
from marketplace.extensions import db
from tests.factories import TEST_PASSWORD
from tests.helpers import csrf_token_from, link_in_mail, outbox

NEW_PASSWORD = "a-brand-new-long-passphrase"


def signed_in(client) -> bool:
    response = client.get("/account")
    if response.status_code == 302:
        assert "/auth/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


def me(client, headers) -> int:
    return client.get("/api/v1/me", headers=headers).status_code


def stored(app, user) -> User:
    with app.app_context():
        return db.session.get(User, user.id)


def actions(app, user) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(AuditEntry.action).where(
            AuditEntry.entity_type == "user", AuditEntry.entity_id == user.id).order_by(AuditEntry.id)))


def change_password_on_page(client, current: str, new: str):
    token = csrf_token_from(client.get("/account/security"))
    return client.post("/account/password", data={"current_password": current, "new_password": new,
                                                  "confirm": new, "csrf_token": token})


# --- a reset or change ends the other sessions and tokens ------------------------------------------

def test_password_reset_ends_every_session_and_token(app, client, make_user, api_token, browser):
    user = make_user("ada@example.org")
    other_browser, old_token = browser(user), api_token(user)
    assert signed_in(other_browser) and me(client, old_token) == 200

    assert client.post("/api/v1/auth/password-reset", json={"email": user.email}).status_code == 202
    token = link_in_mail(outbox(app)[-1].body_text).rsplit("/", 1)[1]
    assert client.post("/api/v1/auth/password-reset/confirm",
                       json={"token": token, "password": NEW_PASSWORD}).status_code == 200

    assert not signed_in(other_browser)
    assert me(client, old_token) == 401
    assert signed_in(browser(user, NEW_PASSWORD))  # the new password signs in
    assert actions(app, user)[-2:] == ["user.password_reset", "user.sessions_revoked"]


def test_password_change_on_the_page_keeps_this_session_only(app, client, make_user, api_token, login, browser):
    user = make_user()
    login(user)
    other_browser, old_token = browser(user), api_token(user)

    response = change_password_on_page(client, TEST_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/security")

    assert signed_in(client)  # the session that changed it goes on
    assert not signed_in(other_browser)
    assert me(client, old_token) == 401
    with app.app_context():
        assert db.session.scalar(db.select(ApiToken.revoked_at).where(ApiToken.user_id == user.id)) is not None
    assert actions(app, user)[-2:] == ["user.password_changed", "user.sessions_revoked"]
    fresh = app.test_client()
    failed = fresh.post("/auth/login", data={"email": user.email, "password": TEST_PASSWORD,
                                             "csrf_token": csrf_token_from(fresh.get("/auth/login"))})
    assert failed.status_code == 401  # the old password no longer signs in


def test_password_change_through_the_api_keeps_the_calling_token_only(app, client, make_user, api_token, browser):
    user = make_user()
    calling, other_token, cookie_browser = api_token(user), api_token(user), browser(user)
    response = client.post("/api/v1/me/password", headers=calling,
                           json={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 204
    assert me(client, calling) == 200
    assert me(client, other_token) == 401
    assert not signed_in(cookie_browser)


def test_password_change_through_the_api_with_a_cookie_keeps_that_session(app, make_user, browser):
    user = make_user()
    this_browser, other_browser = browser(user), browser(user)
    csrf = csrf_token_from(this_browser.get("/account/security"))
    response = this_browser.post("/api/v1/me/password", headers={"X-CSRFToken": csrf},
                                 json={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 204
    assert signed_in(this_browser) and not signed_in(other_browser)


def test_wrong_current_password_changes_nothing(app, client, make_user, api_token, login):
    user = make_user()
    headers = api_token(user)
    response = client.post("/api/v1/me/password", headers=headers,
                           json={"current_password": "not-my-password-at-all", "new_password": NEW_PASSWORD})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert "current_password" in response.get_json()["errors"]
    weak = client.post("/api/v1/me/password", headers=headers,
                       json={"current_password": TEST_PASSWORD, "new_password": "password"})
    assert weak.status_code == 422 and "new_password" in weak.get_json()["errors"]
    login(user)
    page = change_password_on_page(client, "not-my-password-at-all", NEW_PASSWORD)
    assert page.status_code == 422 and b"Your current password is not correct." in page.data
    assert me(client, headers) == 200 and stored(app, user).auth_version == 0
    assert "user.password_changed" not in actions(app, user)


# --- listing and revoking tokens -----------------------------------------------------------------

def test_tokens_are_listed_and_revoked_through_the_api_only_ones_own(app, client, make_user, api_token):
    user, stranger = make_user(), make_user()
    first, second = api_token(user), api_token(user)
    strangers = api_token(stranger)
    listing = client.get("/api/v1/me/tokens", headers=second).get_json()
    assert listing["total"] == 2
    assert [item["current"] for item in listing["items"]] == [True, False]  # newest first
    assert set(listing["items"][0]) >= {"id", "created_at", "last_used_at", "expires_at"}
    assert listing["items"][0]["last_used_at"] is not None  # issuing is the first use
    first_id = listing["items"][1]["id"]
    strangers_id = client.get("/api/v1/me/tokens", headers=strangers).get_json()["items"][0]["id"]

    assert client.delete(f"/api/v1/me/tokens/{strangers_id}", headers=second).status_code == 404
    assert me(client, strangers) == 200
    assert client.delete("/api/v1/me/tokens/2147483647", headers=second).status_code == 404
    assert client.delete(f"/api/v1/me/tokens/{first_id}", headers=second).status_code == 204
    assert me(client, first) == 401
    assert client.delete(f"/api/v1/me/tokens/{first_id}", headers=second).status_code == 404
    assert client.get("/api/v1/me/tokens", headers=second).get_json()["total"] == 1
    assert client.get("/api/v1/me/tokens").status_code == 401
    assert actions(app, user)[-1] == "api_token.revoked"


def test_tokens_page_lists_and_revokes_with_csrf(app, client, make_user, api_token, login):
    user, stranger = make_user(), make_user()
    headers = api_token(user)
    api_token(stranger)
    with app.app_context():
        own_id = db.session.scalar(db.select(ApiToken.id).where(ApiToken.user_id == user.id))
        strangers_id = db.session.scalar(db.select(ApiToken.id).where(ApiToken.user_id == stranger.id))
    login(user)
    page = client.get("/account/security")
    assert page.status_code == 200 and f"#{own_id}".encode() in page.data
    assert f"#{strangers_id}".encode() not in page.data
    token = csrf_token_from(page)

    assert client.post(f"/account/tokens/{own_id}/revoke").status_code == 400  # no CSRF token
    assert me(client, headers) == 200
    assert client.post(f"/account/tokens/{strangers_id}/revoke", data={"csrf_token": token}).status_code == 404
    response = client.post(f"/account/tokens/{own_id}/revoke", data={"csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200 and b"The API token was revoked." in response.data
    assert me(client, headers) == 401
    with app.app_context():
        assert db.session.get(ApiToken, strangers_id).revoked_at is None


# --- changing the e-mail address -----------------------------------------------------------------

def test_email_change_waits_for_the_link_to_the_new_address(app, client, make_user, api_token):
    user = make_user("ada@example.org")
    make_user("taken@example.org")
    headers = api_token(user)
    wrong = client.post("/api/v1/me/email", headers=headers, json={"new_email": "new@example.org", "password": "nope"})
    assert wrong.status_code == 422 and "password" in wrong.get_json()["errors"]
    taken = client.post("/api/v1/me/email", headers=headers,
                        json={"new_email": "taken@example.org", "password": TEST_PASSWORD})
    assert taken.status_code == 409
    response = client.post("/api/v1/me/email", headers=headers,
                           json={"new_email": "New@Example.org", "password": TEST_PASSWORD})
    assert response.status_code == 202 and response.get_json() == {"pending_email": "new@example.org"}
    mail = outbox(app)[-1]
    assert mail.recipient == "new@example.org"
    assert stored(app, user).email == "ada@example.org"  # nothing changes before the link is opened

    link = link_in_mail(mail.body_text)
    assert "/account/email/confirm/" in link
    opened = client.get(link.replace("http://localhost", ""))
    assert opened.status_code == 302
    assert stored(app, user).email == "new@example.org" and stored(app, user).email_confirmed
    told = outbox(app)[-1]
    assert told.recipient == "ada@example.org" and "new@example.org" in told.body_text
    assert client.get(link.replace("http://localhost", "")).status_code == 422  # works once
    assert actions(app, user)[-2:] == ["user.email_change_requested", "user.email_changed"]
    assert me(client, headers) == 200


def test_email_change_on_the_page(app, client, make_user, login):
    user = make_user("ada@example.org")
    login(user)
    token = csrf_token_from(client.get("/account/security"))
    response = client.post("/account/email", data={"new_email": "ada.new@example.org", "password": TEST_PASSWORD,
                                                   "csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200 and b"ada.new@example.org" in response.data
    assert stored(app, user).email == "ada@example.org"
    link = link_in_mail(outbox(app)[-1].body_text)
    assert client.get(link.replace("http://localhost", "")).status_code == 302
    assert stored(app, user).email == "ada.new@example.org"
    assert client.get("/account/email/confirm/forged-token").status_code == 422


def test_last_used_moves_on_when_a_token_is_used_again(app, client, make_user, api_token):
    from datetime import timedelta

    from marketplace.db import utcnow

    user = make_user()
    headers = api_token(user)
    long_ago = utcnow() - timedelta(days=3)
    with app.app_context():
        db.session.execute(db.update(ApiToken).values(last_used_at=long_ago))
        db.session.commit()
    assert me(client, headers) == 200
    with app.app_context():
        used = db.session.scalar(db.select(ApiToken.last_used_at))
    assert used > long_ago + timedelta(days=2)
