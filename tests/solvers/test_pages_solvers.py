"""Solver pages: editing the profile, the public solver page (public fields only), alerts, notifications."""

from __future__ import annotations

import re

import pytest

from tests.factories import sign_in
from tests.helpers import csrf_token_from
from tests.solvers.conftest import VALID_ORCID

PRIVATE_BIO = "My private story about **readout chains**."


def profile_form(page, **changes) -> dict:
    data = {
        "csrf_token": csrf_token_from(page),
        "headline": "Analog IC designer",
        "bio": "I design *low-noise* front ends.",
        "expertise": ["analog-design", "mems"],
        "free_tags": "Cryo CMOS, spintronics",
        "orcid": VALID_ORCID,
        "affiliation": "TUM",
        "affiliation_history": "TUM | tum.de | 2019-09 |\nMIT | mit.edu | 2015-09 | 2019-08",
        "research_history": ("2021 | publication | A chopper amplifier | https://doi.org/10.1/x | J. Doe; R. Roe\n"
                             "2024 | Patent | Chopper-stabilised readout"),
        "latest_progress": "Taping out a test chip.",
        "early_career": "y",
        "languages": "de, en",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_profile_page_saves_every_field(client, login, make_user, api_token):
    user = make_user()
    login(user)
    page = client.get("/me/profile")
    assert page.status_code == 200 and b"analog design" in page.data
    response = client.post("/me/profile", data=profile_form(page, private_fields=["bio"]))
    assert response.status_code == 302, response.get_data(as_text=True)
    body = client.get("/api/v1/me/profile", headers=api_token(user)).get_json()
    assert body["expertise"] == ["analog-design", "mems", "cryo-cmos", "spintronics"]
    assert body["orcid"] == VALID_ORCID and body["early_career"] is True and body["languages"] == ["de", "en"]
    assert body["research_history"] == [
        {"year": 2024, "kind": "patent", "title": "Chopper-stabilised readout", "link": None, "coauthors": []},
        {"year": 2021, "kind": "publication", "title": "A chopper amplifier", "link": "https://doi.org/10.1/x",
         "coauthors": ["J. Doe", "R. Roe"]}]
    assert body["affiliation_history"][0] == {"name": "TUM", "domain": "tum.de", "start": "2019-09", "end": None}
    assert body["private_fields"] == ["bio"]

    # The form shows what was saved, ready to edit again.
    again = client.get("/me/profile").get_data(as_text=True)
    assert "2021 | publication | A chopper amplifier | https://doi.org/10.1/x | J. Doe; R. Roe" in again
    assert 'value="cryo-cmos, spintronics"' in again
    assert re.search(r'id="sv-private-bio" value="bio"\s+checked', again)


def test_a_wrong_orcid_is_shown_next_to_the_field(client, login, make_user):
    login(make_user())
    page = client.get("/me/profile")
    response = client.post("/me/profile", data=profile_form(page, orcid="0000-0002-1825-0098"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "check digit" in html and 'id="orcid-error"' in html


def test_a_bad_research_line_names_its_line(client, login, make_user):
    login(make_user())
    page = client.get("/me/profile")
    bad_year = client.post("/me/profile",
                           data=profile_form(page, research_history="2021 | patent | A\nsoon | patent | B"))
    assert bad_year.status_code == 422 and "Line 2:" in bad_year.get_data(as_text=True)
    bad_kind = client.post("/me/profile",
                           data=profile_form(page, research_history="2021 | patent | A\n2022 | poem | B"))
    assert bad_kind.status_code == 422
    assert re.search(r"Line 2: The kind must be one of", bad_kind.get_data(as_text=True))


def test_the_profile_page_needs_a_signed_in_user(client):
    assert client.get("/me/profile").status_code == 302


def test_the_public_page_shows_public_fields_only(client, login, make_user, profile_factory):
    solver = profile_factory(
        make_user(name="Anna Schmidt", country="DE"), headline="Analog IC designer", bio=PRIVATE_BIO,
        expertise=["analog-design"], orcid=VALID_ORCID, affiliation="Secret Lab",
        latest_progress="Public **progress** note.", languages=["de"],
        research_history=[{"year": 2021, "kind": "publication", "title": "Chopper amplifier",
                           "coauthors": ["co.author@example.org"]}],
        affiliation_history=[{"name": "Secret Lab", "domain": "secret.example", "start": "2020-01", "end": None}],
        visibility={"bio": "private", "orcid": "private", "affiliation": "private"})
    html = client.get(f"/solvers/{solver.id}").get_data(as_text=True)
    assert "Anna Schmidt" in html and "Analog IC designer" in html and "analog design" in html
    assert "<strong>progress</strong>" in html  # Markdown rendered
    assert "Chopper amplifier" in html
    for private in ("readout chains", VALID_ORCID, "Secret Lab", "secret.example", "co.author@example.org"):
        assert private not in html
    assert "Awards won" not in html  # no awards yet: no section
    assert "sv-private" not in html  # not even a hint that something is hidden


def test_signed_in_strangers_see_no_more_than_visitors(client, login, make_user, profile_factory):
    solver = profile_factory(make_user(), bio=PRIVATE_BIO, visibility={"bio": "private"})
    login(make_user())
    assert "readout chains" not in client.get(f"/solvers/{solver.id}").get_data(as_text=True)


def test_markup_in_a_profile_is_neutralised(client, make_user, profile_factory):
    solver = profile_factory(make_user(), headline="<script>alert(1)</script>",
                             bio="<img src=x onerror=alert(1)> [link](javascript:alert(1))")
    html = client.get(f"/solvers/{solver.id}").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;alert(1)" in html  # shown as text


def test_the_public_page_is_404_without_a_profile(client, make_user):
    assert client.get(f"/solvers/{make_user().id}").status_code == 404


# --- alerts --------------------------------------------------------------------------------------------

def test_following_and_unfollowing_on_the_alerts_page(client, login, make_user, api_token):
    user = make_user()
    login(user)
    page = client.get("/me/alerts")
    assert page.status_code == 200
    token = csrf_token_from(page)
    followed = client.post("/me/alerts/follow", data={"follow-csrf_token": token, "follow-kind": "keyword",
                                                      "follow-value": "Readout Circuit"})
    assert followed.status_code == 302
    html = client.get("/me/alerts").get_data(as_text=True)
    assert "readout circuit" in html
    [interest] = client.get("/api/v1/me/interests", headers=api_token(user)).get_json()["items"]

    refused = client.post("/me/alerts/follow", data={"follow-csrf_token": token, "follow-kind": "tag",
                                                     "follow-value": "x" * 41})
    assert refused.status_code == 422 and "40" in refused.get_data(as_text=True)

    removed = client.post(f"/me/alerts/{interest['id']}/remove", data={"remove-csrf_token": token})
    assert removed.status_code == 302
    assert client.get("/api/v1/me/interests", headers=api_token(user)).get_json()["items"] == []


def test_choosing_the_digest_on_the_alerts_page(client, login, make_user, api_token):
    user = make_user()
    login(user)
    token = csrf_token_from(client.get("/me/alerts"))
    saved = client.post("/me/alerts/settings", data={"digest-csrf_token": token, "digest-digest": "yes"})
    assert saved.status_code == 302
    assert client.get("/api/v1/me/alert-settings", headers=api_token(user)).get_json()["digest"] is True
    html = client.get("/me/alerts").get_data(as_text=True)
    assert re.search(r'value="yes"[^>]*checked|checked[^>]*value="yes"', html)


def test_someone_elses_interest_cannot_be_removed(client, login, make_user, api_token):
    owner = make_user()
    interest = client.post("/api/v1/me/interests", json={"kind": "tag", "value": "mems"},
                           headers=api_token(owner)).get_json()
    login(make_user())
    token = csrf_token_from(client.get("/me/alerts"))
    assert client.post(f"/me/alerts/{interest['id']}/remove", data={"remove-csrf_token": token}).status_code == 404
    assert len(client.get("/api/v1/me/interests", headers=api_token(owner)).get_json()["items"]) == 1


# --- notifications -------------------------------------------------------------------------------------

@pytest.fixture
def noted_user(app, make_user):
    from marketplace.extensions import db
    from marketplace.solvers import notifications

    user = make_user(locale="de")
    with app.app_context():
        for number in (1, 2):
            notifications.add(user.id, "challenge_published", {
                "challenge_id": number, "title": {"en": f"Challenge {number}", "de": f"Aufgabe {number}"},
                "default_locale": "en", "field": "sensors", "reasons": [["tag", "mems"]]})
        db.session.commit()
    return user


def test_notifications_page_and_the_unread_badge(client, login, noted_user, api_token):
    login(noted_user)
    page = client.get("/me/notifications")
    html = page.get_data(as_text=True)
    assert "Aufgabe 1" in html and "Aufgabe 2" in html and 'href="/challenges/2"' in html
    assert re.search(r'class="badge sv-unread">2<', html)

    ids = [item["id"] for item in client.get("/api/v1/me/notifications", headers=api_token(noted_user))
           .get_json()["items"]]
    token = csrf_token_from(page)
    client.post("/me/notifications/read", data={"read-csrf_token": token, "ids": str(ids[0])})
    assert re.search(r'class="badge sv-unread">1<', client.get("/me/notifications").get_data(as_text=True))
    client.post("/me/notifications/read", data={"read-csrf_token": token})
    assert "sv-unread" not in client.get("/me/notifications").get_data(as_text=True)


def test_the_nav_shows_the_expert_database_to_staff_only(app, client, login, staff, make_user):
    login(make_user())
    assert "/staff/experts" not in client.get("/me/notifications").get_data(as_text=True)
    staff_client = app.test_client()
    sign_in(staff_client, staff)
    assert "/staff/experts" in staff_client.get("/me/notifications").get_data(as_text=True)
