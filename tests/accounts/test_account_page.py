"""The account page (issue 11): every item is there and works, on the page and through the API.

Password change with the current password, e-mail change confirmed by a link to the new address
(the old address is told), language, time zone, notification settings, API tokens. The flows
themselves are tested in depth in test_sessions_tokens.py and test_pages_accounts.py; here each
item is checked from the account page, plus the rules added with the page.
"""

from __future__ import annotations

import pytest

from marketplace.accounts.models import User
from marketplace.extensions import db
from tests.factories import TEST_PASSWORD
from tests.helpers import csrf_token_from, link_in_mail, outbox

NEW_PASSWORD = "a-brand-new-long-passphrase"


def stored(app, user) -> User:
    with app.app_context():
        return db.session.get(User, user.id)


def local(link: str) -> str:
    return link.replace("http://localhost", "")


def test_the_account_page_offers_every_item(app, client, make_user, login, api_token):
    user = make_user("ada@example.org")
    api_token(user)
    login(user)
    page = client.get("/account").get_data(as_text=True)
    for marker in ('name="locale"', 'name="timezone"', 'href="/account/security"', 'id="notification-settings"',
                   'href="/me/alerts"', 'href="/me/notifications"', 'id="calendar-heading"'):
        assert marker in page, marker
    security = client.get("/account/security").get_data(as_text=True)
    for marker in ('name="current_password"', 'name="new_password"', 'name="new_email"',
                   'action="/account/tokens/'):
        assert marker in security, marker


def test_password_change_on_the_page_needs_the_current_password(app, client, make_user, login):
    user = make_user()
    before = stored(app, user).password_hash
    login(user)
    token = csrf_token_from(client.get("/account/security"))
    wrong = client.post("/account/password", data={"current_password": "not-my-password", "new_password": NEW_PASSWORD,
                                                   "confirm": NEW_PASSWORD, "csrf_token": token})
    assert wrong.status_code == 422 and b"current password is not correct" in wrong.data
    assert stored(app, user).password_hash == before
    right = client.post("/account/password", data={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD,
                                                   "confirm": NEW_PASSWORD, "csrf_token": token})
    assert right.status_code == 302 and stored(app, user).password_hash != before


def test_email_change_mails_the_new_address_in_the_users_language_and_tells_the_old_one(
        app, client, make_user, api_token):
    user = make_user("ada@example.org", locale="de")
    headers = api_token(user)
    asked = client.post("/api/v1/me/email", headers=headers,
                        json={"new_email": "ada.neu@example.org", "password": TEST_PASSWORD})
    assert asked.status_code == 202
    confirm = outbox(app)[-1]
    assert (confirm.recipient, confirm.locale, confirm.template) == ("ada.neu@example.org", "de",
                                                                     "confirm_email_change")
    assert stored(app, user).email == "ada@example.org"  # the old address stays until the link is opened
    assert client.get(local(link_in_mail(confirm.body_text))).status_code == 302
    told = outbox(app)[-1]
    assert (told.recipient, told.locale, told.template) == ("ada@example.org", "de", "email_changed")
    assert stored(app, user).email == "ada.neu@example.org"


@pytest.mark.parametrize("how", ["change", "reset"])
def test_an_email_change_link_dies_with_a_password_change_or_reset(app, client, make_user, api_token, how):
    """Whoever knew the old password asked for the change: the owner's new password voids their link."""
    from marketplace.accounts import credentials, services

    user = make_user("ada@example.org")
    asked = client.post("/api/v1/me/email", headers=api_token(user),
                        json={"new_email": "intruder@example.org", "password": TEST_PASSWORD})
    assert asked.status_code == 202
    link = local(link_in_mail(outbox(app)[-1].body_text))
    with app.test_request_context():
        owner = db.session.get(User, user.id)
        if how == "change":
            credentials.change_password(owner, TEST_PASSWORD, NEW_PASSWORD)
        else:
            token = services._serializer("reset-password").dumps({"uid": owner.id,
                                                                  "fp": services._reset_fingerprint(owner)})
            services.reset_password(token, NEW_PASSWORD)
        db.session.commit()
    refused = client.get(link)
    assert refused.status_code == 422
    assert stored(app, user).email == "ada@example.org"
    assert [m.recipient for m in outbox(app)].count("ada@example.org") == 0  # nobody was told of a change


def test_email_change_requests_are_limited(app, client, make_user, api_token):
    """Each request mails an address the user names; a client cannot turn that into a mail cannon."""
    from marketplace.accounts.credentials import EMAIL_CHANGE_LIMIT

    allowed = int(EMAIL_CHANGE_LIMIT.split()[0])
    headers = api_token(make_user())
    answers = [client.post("/api/v1/me/email", headers=headers,
                           json={"new_email": f"new{i}@example.org", "password": TEST_PASSWORD}).status_code
               for i in range(allowed + 1)]
    assert answers == [202] * allowed + [429]
    assert len([m for m in outbox(app) if m.template == "confirm_email_change"]) == allowed


def test_language_and_time_zone_through_the_api(app, client, make_user, api_token):
    user = make_user()
    headers = api_token(user)
    body = {"display_name": "Ada Lovelace", "country": "GB", "locale": "ja", "timezone": "Asia/Tokyo"}
    changed = client.put("/api/v1/me", headers=headers, json=body)
    assert changed.status_code == 200
    assert (changed.get_json()["locale"], changed.get_json()["timezone"]) == ("ja", "Asia/Tokyo")
    bad = client.put("/api/v1/me", headers=headers, json={**body, "timezone": "Mars/Olympus_Mons"})
    assert bad.status_code == 422 and bad.content_type == "application/problem+json"
    assert "timezone" in bad.get_json()["errors"]
    assert stored(app, user).timezone == "Asia/Tokyo"


def test_the_account_page_shows_the_notification_settings_and_unread_count(app, client, make_user, login,
                                                                              api_token):
    from marketplace.solvers import notifications

    user = make_user()
    headers = api_token(user)
    assert client.put("/api/v1/me/alert-settings", headers=headers, json={"digest": True}).status_code == 200
    assert client.post("/api/v1/me/interests", headers=headers,
                       json={"kind": "keyword", "value": "MEMS"}).status_code in (200, 201)
    with app.test_request_context():
        notifications.add(user.id, "unknown_kind", {})
        db.session.commit()
    login(user)
    panel = client.get("/account").get_data(as_text=True).split('id="notification-settings"')[1]
    panel = panel.split("</section>")[0]
    assert "One digest e-mail with all new matching challenges" in panel
    assert "Topics you follow: 1" in panel and "1 unread" in panel
