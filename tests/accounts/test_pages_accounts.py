"""The account pages as a browser uses them: real forms, real CSRF tokens, real redirects."""

from __future__ import annotations

import html
import re

import pytest

from marketplace.accounts.models import User
from marketplace.audit.models import AuditEntry
from marketplace.extensions import db
from tests.factories import TEST_PASSWORD
from tests.helpers import csrf_token_from, link_in_mail, outbox, rows, value_of

GOOD = {"display_name": "Ada Lovelace", "email": "ada@example.org", "country": "GB", "locale": "en",
        "password": TEST_PASSWORD, "confirm": TEST_PASSWORD}


def field_error(response, field: str) -> str | None:
    """The message shown next to a form field (the _form.html macro gives it id="<field>-error")."""
    match = re.search(rf'id="{field}-error">(.*?)</p>'.encode(), response.data, re.S)
    return html.unescape(match.group(1).decode()) if match else None


def submit(client, url: str, data: dict, **kwargs):
    """GET the form, then POST it with the page's CSRF token, like a browser."""
    token = csrf_token_from(client.get(url))
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def stored_user(app, email: str) -> User | None:
    with app.app_context():
        return db.session.scalar(db.select(User).where(User.email == email))


# --- registration ----------------------------------------------------------------------------

def test_register_signs_in_and_mails_a_confirmation_link(client, app):
    response = submit(client, "/auth/register", GOOD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    user = stored_user(app, "ada@example.org")
    assert user.display_name == "Ada Lovelace" and user.country == "GB" and not user.email_confirmed
    [mail] = outbox(app)
    assert mail.recipient == "ada@example.org" and "/auth/confirm/" in mail.body_text
    home = client.get("/")
    assert "ada@example.org" in home.get_data(as_text=True)  # the welcome flash names the address
    assert client.get("/account").status_code == 200  # signed in


@pytest.mark.parametrize(("changes", "field", "expected"), [
    ({"password": "password1234", "confirm": "password1234"}, "password", "too common"),
    ({"password": "short", "confirm": "short"}, "password", "at least 12"),
    ({"country": "XX"}, "country", "Not a valid choice"),
    ({"display_name": "x" * 121}, "display_name", "120"),
    ({"display_name": ""}, "display_name", "required"),
    ({"email": "not-an-address"}, "email", "email address"),
    ({"confirm": "something-else-entirely"}, "confirm", "do not match"),
])
def test_bad_registration_shows_the_message_next_to_the_field_and_writes_nothing(
        client, app, changes, field, expected):
    response = submit(client, "/auth/register", {**GOOD, **changes})
    assert response.status_code == 422
    message = field_error(response, field)
    assert message and expected.lower() in message.lower(), message
    assert f'id="{field}"' in response.get_data(as_text=True)  # the form is shown again
    assert rows(app, User) == 0 and rows(app, AuditEntry) == 0
    assert outbox(app) == []


def test_register_with_a_taken_email_says_so_at_the_email_field(client, app, make_user):
    make_user("ada@example.org")
    before = rows(app, AuditEntry)
    response = submit(client, "/auth/register", {**GOOD, "email": "ADA@example.org"})
    assert response.status_code == 422
    assert "already exists" in field_error(response, "email")
    assert rows(app, User) == 1 and rows(app, AuditEntry) == before and outbox(app) == []


def test_register_page_is_prefilled_with_the_negotiated_language(client):
    page = client.get("/auth/register", headers={"Accept-Language": "ja,en;q=0.5"})
    assert re.search(rb'<option selected value="ja"|<option value="ja" selected', page.data)


# --- confirmation link -----------------------------------------------------------------------

def test_confirmation_link_page_confirms_and_a_bad_one_says_why(client, app):
    submit(client, "/auth/register", GOOD)
    link = link_in_mail(outbox(app)[0].body_text).replace("http://localhost", "")
    page = client.get(link)
    assert page.status_code == 200 and b"Your e-mail address is confirmed" in page.data
    assert stored_user(app, "ada@example.org").email_confirmed
    assert client.get(link).status_code == 200  # opening it again is harmless
    bad = client.get(link[:-3] + "abc")
    assert bad.status_code == 400 and b"We could not confirm your e-mail address" in bad.data


# --- sign in and out ---------------------------------------------------------------------------

def test_login_then_logout_with_csrf(client, make_user):
    user = make_user("grace@example.org")
    response = submit(client, "/auth/login", {"email": "Grace@Example.org", "password": TEST_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/me/dashboard"  # a solver's work
    account = client.get("/account")
    assert account.status_code == 200 and user.email.encode() in account.data

    # Sign out is a POST carrying the token from the page's header form.
    out = client.post("/auth/logout", data={"csrf_token": csrf_token_from(account)})
    assert out.status_code == 302
    assert client.get("/account").status_code == 302  # back to the login page


def test_logout_without_csrf_token_is_refused_and_keeps_the_session(app, client, make_user, login):
    user = make_user()
    login(user)
    assert client.post("/auth/logout").status_code == 400
    account = client.get("/account")
    assert account.status_code == 200 and user.email.encode() in account.data  # still signed in as the same user
    assert value_of(app, "users", user.id, "auth_version") == 0  # no session was ended


def test_wrong_password_shows_a_message_and_401(client, make_user):
    user = make_user()
    response = submit(client, "/auth/login", {"email": user.email, "password": "not-the-right-one"})
    assert response.status_code == 401
    assert b"The e-mail address or password is wrong." in response.data
    assert client.get("/account").status_code == 302


def test_repeated_failed_logins_get_the_429_page(client, make_user):
    user = make_user()
    token = csrf_token_from(client.get("/auth/login"))
    statuses = [client.post("/auth/login", data={"email": user.email, "password": f"wrong-{i}", "csrf_token": token})
                .status_code for i in range(6)]
    assert statuses == [401] * 5 + [429]
    page = client.post("/auth/login", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token})
    assert page.status_code == 429 and page.mimetype == "text/html"
    assert b"Too many attempts" in page.data


def test_login_page_sends_unauthenticated_visitors_back_where_they_were(client, make_user):
    user = make_user()
    redirect = client.get("/account")
    assert redirect.status_code == 302 and "/auth/login?next=" in redirect.headers["Location"]
    response = submit(client, redirect.headers["Location"], {"email": user.email, "password": TEST_PASSWORD})
    assert response.headers["Location"].startswith("/account")


@pytest.mark.parametrize("target", [
    "//evil.example", "https://evil.example", "http://evil.example/path", "/\\evil.example",
    "/\t/evil.example", "/\n/evil.example", "/\r\nSet-Cookie: x=1", "javascript:alert(1)", "evil.example",
])
def test_login_refuses_open_redirects(client, make_user, target):
    user = make_user()
    token = csrf_token_from(client.get("/auth/login"))
    response = client.post("/auth/login", query_string={"next": target},
                           data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/me/dashboard"  # the solver's own work, never the target


# --- password reset ----------------------------------------------------------------------------

def test_password_reset_by_mailed_link(client, app, make_user):
    user = make_user("hedy@example.org")
    requested = submit(client, "/auth/reset", {"email": user.email})
    assert requested.status_code == 302 and requested.headers["Location"] == "/auth/login"
    [mail] = outbox(app)
    assert mail.recipient == user.email
    link = link_in_mail(mail.body_text).replace("http://localhost", "")
    assert client.get(link).status_code == 200

    weak = submit(client, link, {"password": "password1234", "confirm": "password1234"})
    assert weak.status_code == 422 and "too common" in field_error(weak, "password")

    new_password = "a-fresh-and-long-passphrase"
    done = submit(client, link, {"password": new_password, "confirm": new_password})
    assert done.status_code == 302 and done.headers["Location"] == "/auth/login"
    assert submit(client, "/auth/login", {"email": user.email, "password": TEST_PASSWORD}).status_code == 401
    assert submit(client, "/auth/login", {"email": user.email, "password": new_password}).status_code == 302

    # The link worked once: the password changed, so the same link is now refused.
    client.post("/auth/logout", data={"csrf_token": csrf_token_from(client.get("/"))})
    again = submit(client, link, {"password": "yet-another-passphrase", "confirm": "yet-another-passphrase"})
    assert again.status_code == 422 and b"This reset link is not valid or has expired." in again.data


def test_password_reset_request_for_unknown_address_looks_the_same(client, app):
    response = submit(client, "/auth/reset", {"email": "nobody@example.org"})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    assert outbox(app) == []


# --- account settings --------------------------------------------------------------------------

SETTINGS = {"display_name": "Ada King", "country": "FR", "locale": "de", "timezone": "Asia/Shanghai"}


def test_settings_change_locale_timezone_and_country(client, app, make_user, login):
    user = make_user()
    login(user)
    response = submit(client, "/account", SETTINGS)
    assert response.status_code == 302
    saved = stored_user(app, user.email)
    assert (saved.display_name, saved.country, saved.locale, saved.timezone) == (
        "Ada King", "FR", "de", "Asia/Shanghai")
    page = client.get("/account")
    assert b'<html lang="de"' in page.data  # the saved language now drives the interface
    assert b"Asia/Shanghai" in page.data


@pytest.mark.parametrize(("changes", "field"), [
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"country": "ZZ"}, "country"),
    ({"locale": "tlh"}, "locale"),
    ({"display_name": "y" * 121}, "display_name"),
])
def test_settings_refuse_bad_values_and_change_nothing(client, app, make_user, login, changes, field):
    user = make_user()
    login(user)
    response = submit(client, "/account", {**SETTINGS, **changes})
    assert response.status_code == 422 and field_error(response, field)
    saved = stored_user(app, user.email)
    assert (saved.display_name, saved.country, saved.locale, saved.timezone) == ("Test User", "DE", "en", "UTC")


def test_post_without_csrf_token_is_400_and_changes_nothing(client, app, make_user, login):
    user = make_user()
    login(user)
    response = client.post("/account", data=SETTINGS)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert stored_user(app, user.email).display_name == "Test User"
    forged = client.post("/account", data={**SETTINGS, "csrf_token": "forged"})
    assert forged.status_code == 400
    client.post("/auth/logout", data={"csrf_token": csrf_token_from(client.get("/"))})
    assert client.post("/auth/register", data=GOOD).status_code == 400
    assert rows(app, User) == 1


# --- the staff outbox page ---------------------------------------------------------------------

def test_outbox_page_is_hidden_from_non_admins(client, make_user, login):
    assert client.get("/admin/outbox").status_code in (401, 404)
    login(make_user(roles=[]))
    assert client.get("/admin/outbox").status_code == 404


def test_outbox_page_lists_mails_for_admins(client, app, make_user, login):
    submit(client, "/auth/register", GOOD)  # queues a confirmation mail
    client.post("/auth/logout", data={"csrf_token": csrf_token_from(client.get("/"))})
    login(make_user("root@example.org", roles=[("admin", None)]))
    page = client.get("/admin/outbox")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    mail = outbox(app)[0]
    assert mail.subject in text and "ada@example.org" in text
    assert html.escape(link_in_mail(mail.body_text)) in text


@pytest.mark.parametrize("page", ["99999999999999999999999", "9223372036854775807", "-5", "0", "abc"])
def test_outbox_page_number_out_of_range_is_no_error(client, make_user, login, page):
    login(make_user(roles=[("admin", None)]))
    assert client.get(f"/admin/outbox?page={page}").status_code == 200
