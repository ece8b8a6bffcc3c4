"""After signing in without a `next`, each role lands on its own work; a `next` always wins."""

from __future__ import annotations

import pytest

from tests.factories import sign_in


@pytest.mark.parametrize(("roles", "landing", "heading"), [
    ((), "/me/dashboard", b"My dashboard"),
    (("center_manager",), "/staff/challenges", None),
    (("security_officer",), "/staff/clearance", None),
    (("finance_officer",), "/finance", None),
    (("reviewer",), "/reviews", None),
    # several roles: the fixed priority manager > security > finance > reviewer > solver
    (("reviewer", "finance_officer"), "/finance", None),
    (("reviewer", "security_officer", "finance_officer"), "/staff/clearance", None),
    (("finance_officer", "center_manager", "security_officer", "reviewer"), "/staff/challenges", None),
])
def test_each_role_lands_on_its_own_work(client, make_org, make_user, roles, landing, heading):
    org = make_org()
    user = make_user(roles=[(role, org) for role in roles])
    response = sign_in(client, user)
    assert response.status_code == 302 and response.headers["Location"] == landing
    page = client.get(landing)
    assert page.status_code == 200  # the page is really theirs, not a 404
    if heading:
        assert heading in page.data


@pytest.mark.parametrize("roles", [(), ("center_manager",), ("security_officer", "reviewer")])
def test_a_next_always_wins(client, make_org, make_user, roles):
    org = make_org()
    user = make_user(roles=[(role, org) for role in roles])
    response = sign_in(client, user, next_path="/account")
    assert response.status_code == 302 and response.headers["Location"] == "/account"


def test_an_unsafe_next_falls_back_to_the_landing_page(client, make_org, make_user):
    user = make_user(roles=[("finance_officer", make_org())])
    response = sign_in(client, user, next_path="//evil.example")
    assert response.status_code == 302 and response.headers["Location"] == "/finance"


def test_confirmation_page_continues_to_the_signed_in_users_work(client, app, make_org, make_user):
    from marketplace.accounts import services
    from marketplace.accounts.models import User
    from marketplace.extensions import db

    user = make_user(roles=[("reviewer", make_org())], confirmed=False)
    with app.test_request_context():
        token = services.confirmation_token(db.session.get(User, user.id))
    anonymous = app.test_client().get(f"/auth/confirm/{token}")
    assert anonymous.status_code == 200 and b'class="button" href="/"' in anonymous.data  # not signed in: home
    sign_in(client, user)
    page = client.get(f"/auth/confirm/{token}")
    assert page.status_code == 200 and b'class="button" href="/reviews"' in page.data
    assert b'class="button" href="/account"' in client.get(f"/auth/confirm/{token}?next=/account").data
