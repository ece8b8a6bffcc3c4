"""The public challenge page (issue 11): every public fact for visitors, closed/awarded wording, the way back.

Visitors see the title, summary, award, deadline, type, TRL, criteria with weights, eligibility and IP terms
in words, the seeker, Q&A and the change log; only the detailed description waits for the agreement.
Registering or signing in from a challenge comes back to it; `next` is a same-site path or nothing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from marketplace.awards.models import AwardDecision
from marketplace.challenges.agreement_models import Amendment
from marketplace.challenges.models import Challenge, Question
from marketplace.extensions import db
from tests.factories import TEST_PASSWORD, sign_in
from tests.helpers import csrf_token_from, link_in_mail, outbox, post_form, structure_problems, text_of

TITLE = "Low-noise readout circuit for wafer defect sensors"
DESCRIPTION = "The full technical description"
EVIL_NEXTS = ["https://evil.example/x", "//evil.example/x", "/\\evil.example", "/\t/evil.example",
              "javascript:alert(1)", "evil.example"]


@pytest.fixture
def center(make_org, make_user):
    org = make_org("sh-icc", name="Shanghai IC Innovation Center")
    return SimpleNamespace(org=org, manager=make_user(roles=[("center_manager", org)]))


def add_public_qa_and_amendment(app, challenge_id: int, author_id: int) -> None:
    with app.app_context():
        db.session.add(Question(challenge_id=challenge_id, asker_id=author_id, text="Is a chopper amplifier allowed?",
                                answer="Yes, chopper stabilisation is allowed.", answered_by_id=author_id,
                                answered_at=datetime.now(UTC)))
        db.session.add(Question(challenge_id=challenge_id, asker_id=author_id, text="Unanswered private question?"))
        db.session.add(Amendment(challenge_id=challenge_id, author_id=author_id,
                                 note={"en": "Deadline extended by two weeks."}, changes={}))
        db.session.commit()


def set_columns(app, challenge_id: int, **values) -> None:
    with app.app_context():
        db.session.execute(db.update(Challenge).where(Challenge.id == challenge_id).values(**values))
        db.session.commit()


# --- what everyone sees -------------------------------------------------------------------------------

def test_a_visitor_sees_every_public_fact_but_not_the_description(app, center, challenge_factory, client):
    challenge = challenge_factory(center.org, center.manager, target_trl=4,
                                  eligibility={"excluded_countries": ["FR", "KP"]})
    add_public_qa_and_amendment(app, challenge.id, center.manager.id)
    response = client.get(f"/challenges/{challenge.id}?lang=en")
    assert response.status_code == 200 and structure_problems(response) == []
    page = text_of(response)
    for fact in (TITLE, "Design a readout chain below 2 nV/√Hz.",  # title, summary
                 "CN¥413,417.72",  # award and currency
                 "Reduction to practice", "TRL 4 of 9",  # type, TRL
                 "Noise performance", "60 %", "Manufacturability", "40 %",  # criteria with weights
                 "Anyone who registers may take part", "The center excludes residents of France.",
                 "sanctions list, residents of", "Iran", "North Korea",  # eligibility in words
                 "IP assigned to the center on award", "you transfer the intellectual property",  # IP in words
                 "Posted by Shanghai IC Innovation Center",
                 "Is a chopper amplifier allowed?", "chopper stabilisation is allowed",  # Q&A
                 "Deadline extended by two weeks.",  # change log
                 "unlocks the detailed description and any attachments"):
        assert fact in page, fact
    assert re.search(r"\b(29|30) days left\b", page)
    assert "In your time zone, UTC" in page
    assert DESCRIPTION not in page and "Unanswered private question?" not in page
    body = response.get_data(as_text=True)
    assert f'href="/auth/login?next=/challenges/{challenge.id}"' in body  # the primary action
    assert f'href="/auth/register?next=/challenges/{challenge.id}"' in body
    # Award, deadline and the primary action come before the rest of the page.
    assert body.index("CN¥413,417.72") < body.index("Sign in to take part") < body.index('id="eligibility-heading"')


def test_the_deadline_is_shown_in_the_viewers_time_zone(app, center, challenge_factory, browser, make_user):
    deadline = (datetime.now(UTC) + timedelta(days=20)).replace(hour=20, minute=0, second=0, microsecond=0)
    challenge = challenge_factory(center.org, center.manager, deadline=deadline)
    solver = make_user()
    with app.app_context():
        from marketplace.accounts.models import User

        db.session.get(User, solver.id).timezone = "Asia/Shanghai"
        db.session.commit()
    page = text_of(browser(solver).get(f"/challenges/{challenge.id}?lang=en"))
    assert "4:00 AM" in page and "Asia/Shanghai" in page  # 20:00 UTC is 04:00 the next day in Shanghai


def test_an_anonymous_seeker_is_never_named(center, challenge_factory, client):
    challenge = challenge_factory(center.org, center.manager, seeker_anonymous=True)
    page = text_of(client.get(f"/challenges/{challenge.id}?lang=en"))
    assert "Posted by an anonymous seeker" in page and "Shanghai IC Innovation Center" not in page
    body = client.get(f"/api/v1/challenges/{challenge.id}").get_json()
    assert body["seeker"] is None


def test_signed_in_solver_gets_the_next_step_and_the_description_after_the_agreement(
        center, challenge_factory, browser, make_user):
    challenge = challenge_factory(center.org, center.manager)
    solver = browser(make_user(country="DE"))
    before = text_of(solver.get(f"/challenges/{challenge.id}?lang=en"))
    assert "Read and accept the agreement" in before and "You are eligible" in before
    assert "Noise performance" in before and DESCRIPTION not in before
    assert post_form(solver, f"/challenges/{challenge.id}/agreement", {"version": "platform-1", "accept": "y"},
                     prefix="agreement", page=f"/challenges/{challenge.id}").status_code == 302
    after = text_of(solver.get(f"/challenges/{challenge.id}?lang=en"))
    assert DESCRIPTION in after and "Write a proposal" in after
    assert "Read and accept the agreement" not in after


@pytest.mark.parametrize("locale", ["zh_Hans", "ar"])
def test_the_page_speaks_the_visitors_language(center, challenge_factory, client, locale):
    challenge = challenge_factory(center.org, center.manager)
    response = client.get(f"/challenges/{challenge.id}?lang={locale}")
    assert response.status_code == 200 and structure_problems(response) == []
    body = response.get_data(as_text=True)
    assert f'<html lang="{locale.replace("_", "-")}" dir="{"rtl" if locale == "ar" else "ltr"}"' in body
    assert 'class="ch-key"' in body
    if locale == "zh_Hans":  # criteria names in the page's language when the challenge has it
        assert "噪声性能" in body and "Noise performance" not in body
    else:  # else in the default language, marked as such
        assert 'lang="en">Noise performance' in body


# --- closed and awarded never count down ------------------------------------------------------------------

def test_a_closed_challenge_says_closed_with_the_date_everywhere(app, center, challenge_factory, browser, client,
                                                                 make_user):
    challenge = challenge_factory(center.org, center.manager)
    solver = make_user()
    signed_in = browser(solver)
    assert post_form(signed_in, f"/challenges/{challenge.id}/agreement", {"version": "platform-1", "accept": "y"},
                     prefix="agreement", page=f"/challenges/{challenge.id}").status_code == 302
    closed_at = (datetime.now(UTC) - timedelta(days=2)).replace(hour=12)
    set_columns(app, challenge.id, status="closed", closed_at=closed_at,
                deadline=datetime.now(UTC) + timedelta(days=10))  # closed early by the center
    expected = f"Closed on {closed_at:%b} {closed_at.day}, {closed_at.year}"
    for client_, url in ((client, f"/challenges/{challenge.id}?lang=en"), (signed_in, "/me/dashboard?lang=en")):
        page = text_of(client_.get(url))
        assert expected in page, url
        assert "days left" not in page and "Deadline passed" not in page, url
    api = client.get(f"/api/v1/challenges/{challenge.id}?lang=en").get_json()
    assert api["deadline_note"] == expected and api["closed_at"].startswith(f"{closed_at:%Y-%m-%d}")
    assert "Sign in to take part" not in text_of(client.get(f"/challenges/{challenge.id}?lang=en"))


@pytest.mark.parametrize(("status", "expected"), [("awarded", "Awarded on Feb 1, 2027"),
                                                  ("no_award", "Closed without an award on Feb 1, 2027")])
def test_a_decided_challenge_says_awarded_with_the_decision_date(app, center, challenge_factory, client,
                                                                 status, expected):
    challenge = challenge_factory(center.org, center.manager)
    set_columns(app, challenge.id, status=status, closed_at=datetime(2027, 1, 5, tzinfo=UTC))
    with app.app_context():
        db.session.add(AwardDecision(challenge_id=challenge.id, decided_by_id=center.manager.id,
                                     kind="full" if status == "awarded" else "none", reason="Best proposal.",
                                     created_at=datetime(2027, 2, 1, 9, 0, tzinfo=UTC)))
        db.session.commit()
    page = text_of(client.get(f"/challenges/{challenge.id}?lang=en"))
    assert expected in page and "days left" not in page
    api = client.get(f"/api/v1/challenges/{challenge.id}?lang=en").get_json()
    assert api["deadline_note"] == expected and api["decided_at"].startswith("2027-02-01")


def test_the_wording_helper_per_phase(app):
    from marketplace.challenges.page_helpers import deadline_note

    now = datetime(2027, 1, 1, tzinfo=UTC)
    ahead, behind = now + timedelta(days=12, hours=1), now - timedelta(days=3)
    with app.test_request_context("/?lang=en"):
        assert deadline_note("open", ahead, now=now) == "12 days left"
        assert deadline_note("open", behind, now=now) == "Closed on Dec 29, 2026"  # before close-due ran
        assert deadline_note("judging", ahead, closed_at=now, now=now) == "Closed on Jan 1, 2027"
        assert deadline_note("awarded", behind, closed_at=behind, decided_at=now, now=now) == "Awarded on Jan 1, 2027"
        assert deadline_note("draft", behind, now=now) == "Deadline passed"
        assert deadline_note("draft", ahead, now=now) == "12 days left"


# --- the way back to the challenge ------------------------------------------------------------------------

def register(client, query: str = "", **changes):
    data = {"display_name": "Ada Lovelace", "email": "ada@example.org", "country": "GB", "locale": "en",
            "password": TEST_PASSWORD, "confirm": TEST_PASSWORD, **changes}
    url = f"/auth/register{query}"
    token = csrf_token_from(client.get(url))
    return client.post(url, data={**data, "csrf_token": token})


def test_registering_from_a_challenge_returns_to_it_through_the_mail_link(app, center, challenge_factory, client):
    challenge = challenge_factory(center.org, center.manager)
    path = f"/challenges/{challenge.id}"
    form = client.get(f"/auth/register?next={path}").get_data(as_text=True)
    assert f'href="/auth/login?next=/challenges/{challenge.id}"' in form  # "Already registered? Sign in"
    response = register(client, f"?next={path}")
    assert response.status_code == 302 and response.headers["Location"] == path
    [mail] = outbox(app)
    link = link_in_mail(mail.body_text)
    assert parse_qs(urlsplit(link).query)["next"] == [path]
    fresh = app.test_client()  # the mail is often opened in another browser
    parts = urlsplit(link)
    confirmed = fresh.get(f"{parts.path}?{parts.query}&lang=en")
    assert confirmed.status_code == 200
    assert f'href="{path}"' in confirmed.get_data(as_text=True)  # "Continue" leads back to the challenge


def test_signing_in_from_a_challenge_returns_to_it(center, challenge_factory, client, make_user):
    challenge = challenge_factory(center.org, center.manager)
    user = make_user()
    path = f"/challenges/{challenge.id}"
    login_page = client.get(f"/auth/login?next={path}").get_data(as_text=True)
    assert f'href="/auth/register?next=/challenges/{challenge.id}"' in login_page
    response = sign_in(client, user, next_path=path)
    assert response.status_code == 302 and response.headers["Location"] == path
    nav = client.get(f"{path}?lang=en").get_data(as_text=True)
    assert 'href="/me/dashboard">My dashboard</a>' in nav  # in the main menu once signed in


def test_the_menu_links_of_a_challenge_page_carry_it(center, challenge_factory, client):
    challenge = challenge_factory(center.org, center.manager)
    body = client.get(f"/challenges/{challenge.id}?lang=en").get_data(as_text=True)
    nav = body[body.index('class="main-nav"'):body.index("</nav>")]
    assert f"/auth/login?next=/challenges/{challenge.id}" in nav
    assert "My dashboard" not in nav  # visitors have none


@pytest.mark.parametrize("evil", EVIL_NEXTS)
def test_a_foreign_next_is_ignored_everywhere(app, client, make_user, evil):
    user = make_user()
    signed_in = sign_in(client, user, next_path=evil)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/me/dashboard"  # a solver: own work

    other = app.test_client()
    form = other.get("/auth/register", query_string={"next": evil})
    assert "evil.example" not in form.get_data(as_text=True).split('class="language-switcher"')[0]
    token = csrf_token_from(form)
    registered = other.post("/auth/register", query_string={"next": evil},
                            data={"display_name": "Eve", "email": "eve@example.org", "country": "GB", "locale": "en",
                                  "password": TEST_PASSWORD, "confirm": TEST_PASSWORD, "csrf_token": token})
    assert registered.status_code == 302 and registered.headers["Location"] == "/"
    mail = outbox(app)[-1]
    assert "evil" not in mail.body_text and "next=" not in link_in_mail(mail.body_text)
    confirm_path = urlsplit(link_in_mail(mail.body_text)).path
    confirmed = app.test_client().get(confirm_path, query_string={"next": evil})
    assert confirmed.status_code == 200
    assert "evil.example" not in confirmed.get_data(as_text=True).split('class="language-switcher"')[0]
    assert 'class="button" href="/"' in confirmed.get_data(as_text=True)  # "Continue" goes home


# --- the API says the same --------------------------------------------------------------------------------

def test_the_public_json_carries_the_public_facts(app, center, challenge_factory, client):
    challenge = challenge_factory(center.org, center.manager, target_trl=4)
    body = client.get(f"/api/v1/challenges/{challenge.id}?lang=en").get_json()
    assert body["title"] == TITLE and body["summary"] and body["award"] == {"amount": "413417.72", "currency": "CNY"}
    assert body["challenge_type"] == "rtp" and body["target_trl"] == 4 and body["ip_terms"] == "assignment"
    assert [(c["name"], c["weight"]) for c in body["criteria"]] == [("Noise performance", 60),
                                                                    ("Manufacturability", 40)]
    words = " ".join(body["eligibility"]["in_words"])
    assert "North Korea" in words and "sanctions list" in words
    assert "transfer the intellectual property" in body["ip_terms_text"]
    assert re.fullmatch(r"(29|30) days left", body["deadline_note"])
    assert body["seeker"]["name"] == "Shanghai IC Innovation Center"
    assert "description" not in body
    german = client.get(f"/api/v1/challenges/{challenge.id}", headers={"Accept-Language": "de"}).get_json()
    assert "Nordkorea" in " ".join(german["eligibility"]["in_words"])  # country names follow the language


def test_the_openapi_document_describes_the_public_facts(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    answer = spec["paths"]["/api/v1/challenges/{challenge_id}"]["get"]["responses"]["200"]
    ref = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = spec["components"]["schemas"][ref]["properties"]
    assert {"criteria", "eligibility", "ip_terms_text", "deadline_note", "closed_at", "decided_at",
            "seeker", "target_trl", "challenge_type"} <= set(properties)
    eligibility = properties["eligibility"]
    eligibility_ref = (eligibility.get("$ref") or eligibility["allOf"][0]["$ref"]).rsplit("/", 1)[-1]
    assert "in_words" in spec["components"]["schemas"][eligibility_ref]["properties"]
