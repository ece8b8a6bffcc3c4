"""The challenge pages as a browser uses them: browse, detail, agreement, Q&A, authoring and the staff workflow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from marketplace.audit.models import AuditEntry
from marketplace.challenges.agreement_models import AgreementAcceptance, Amendment
from marketplace.challenges.models import Challenge, Question
from marketplace.extensions import db
from marketplace.payments.models import FundingReceipt
from tests.helpers import counting_queries, field_error, post_form, rows, structure_problems, text_of

TITLE = "Low-noise readout circuit for wafer defect sensors"
TITLE_ZH = "用于晶圆缺陷检测的低噪声读出电路"


@pytest.fixture
def center(make_org, make_user):
    org = make_org("sh-icc", name="Shanghai IC Innovation Center")
    return SimpleNamespace(org=org, manager=make_user(roles=[("center_manager", org)]))


@pytest.fixture
def other_center(make_org, make_user):
    org = make_org("sh-ssc", name="Shanghai Smart Sensor Center")
    return SimpleNamespace(org=org, manager=make_user(roles=[("center_manager", org)]))


def stored(app, challenge_id: int) -> Challenge:
    with app.app_context():
        return db.session.get(Challenge, challenge_id)


def audit_actions(app, challenge_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(AuditEntry.action).filter_by(
            entity_type="challenge", entity_id=challenge_id).order_by(AuditEntry.id)))


def set_columns(app, challenge_id: int, **values) -> None:
    with app.app_context():
        db.session.execute(db.update(Challenge).where(Challenge.id == challenge_id).values(**values))
        db.session.commit()


# --- browse -------------------------------------------------------------------------------------

def test_browse_shows_only_open_public_challenges(center, other_center, challenge_factory, client):
    factory = challenge_factory
    factory(center.org, center.manager, title={"en": "Open one"})
    factory(other_center.org, other_center.manager, title={"en": "Open elsewhere"}, seeker_anonymous=True)
    for status, title in (("draft", "Draft one"), ("in_clearance", "Waiting one"), ("cleared", "Cleared one"),
                          ("closed", "Closed one"), ("cancelled", "Cancelled one")):
        factory(center.org, center.manager, status=status, title={"en": title})
    factory(center.org, center.manager, title={"en": "Invited only"}, invite_only=True)

    response = client.get("/challenges?lang=en")
    assert response.status_code == 200
    page = text_of(response)
    assert "Open one" in page and "Open elsewhere" in page
    for hidden in ("Draft one", "Waiting one", "Cleared one", "Closed one", "Cancelled one", "Invited only"):
        assert hidden not in page
    assert "2 open challenges" in page
    assert "IP assigned to the center on award" in page  # IP terms up front
    assert "Anonymous seeker" in page and "Shanghai IC Innovation Center" in page
    assert "Shanghai Smart Sensor Center" not in page  # the anonymous one never names its seeker
    assert "days left" in page and "CN¥" in page


def test_browse_filters_by_field_type_and_minimum_award(center, challenge_factory, client):
    challenge_factory(center.org, center.manager, title={"en": "Sensor ideas"}, field="sensors",
                      challenge_type="ideation", target_trl=None)
    challenge_factory(center.org, center.manager, title={"en": "Chip practice"}, field="semiconductors")
    challenge_factory(center.org, center.manager, title={"en": "Dollar theory"}, award_currency="USD",
                      challenge_type="theoretical", target_trl=None)

    def titles(query: str) -> set[str]:
        page = text_of(client.get(f"/challenges?lang=en&{query}"))
        return {t for t in ("Sensor ideas", "Chip practice", "Dollar theory") if t in page}

    assert titles("field=sensors") == {"Sensor ideas"}
    assert titles("challenge_type=rtp") == {"Chip practice"}
    assert titles("currency=USD") == {"Dollar theory"}
    # The highest benchmark is GB's 40,000 GBP = 50,632.91 USD; plus 15 % gives 58,227.85 USD.
    assert titles("currency=USD&min_award=58227.85") == {"Dollar theory"}
    assert titles("currency=USD&min_award=58227.86") == set()
    assert titles("currency=CNY&min_award=400000&sort=award") == {"Sensor ideas", "Chip practice"}


@pytest.mark.parametrize("query", ["min_award=abc", "min_award=NaN", "min_award=-5", "field=unknown-field",
                                   "sort=sideways"])
def test_bad_filters_are_named_and_ignored(center, challenge_factory, client, query):
    challenge_factory(center.org, center.manager)
    response = client.get(f"/challenges?lang=en&{query}")
    assert response.status_code == 422
    name = query.split("=")[0]
    assert field_error(response, name)
    assert TITLE in text_of(response)  # the list is still shown, without the bad filter


def test_the_search_box_finds_open_challenges_in_chinese_and_english(center, challenge_factory, client):
    challenge_factory(center.org, center.manager)
    challenge_factory(center.org, center.manager, status="draft", title={"en": "Wafer readout draft"})
    challenge_factory(center.org, center.manager, title={"en": "Thermal model for chiplet interposers"},
                      summary={"en": "Predict hot spots within 3 K."}, description={"en": "Finite elements."})
    for query in ("readout", "晶圆缺陷"):
        page = text_of(client.get(f"/challenges?lang=en&q={query}"))
        assert TITLE in page and "1 open challenge" in page, query
        assert "Wafer readout draft" not in page and "Thermal model" not in page
    assert "0 open challenges" in text_of(client.get("/challenges?lang=en&q=photonics"))


def test_a_page_number_out_of_range_shows_the_first_page(center, challenge_factory, client):
    challenge_factory(center.org, center.manager)
    for page in ("0", "x", "99999"):
        response = client.get(f"/challenges?lang=en&page={page}")
        assert response.status_code == 422 and TITLE in text_of(response), page


def test_browse_marks_text_in_another_language(center, challenge_factory, client):
    challenge_factory(center.org, center.manager, default_locale="zh_Hans", title={"zh_Hans": "柔性压力传感器导电油墨"},
                      summary={"zh_Hans": "开发稳定的导电油墨。"}, description={"zh_Hans": "完整描述。"},
                      criteria=[{"name": {"zh_Hans": "稳定性"}, "weight": 100}])
    english = client.get("/challenges?lang=en").get_data(as_text=True)
    assert 'lang="zh-Hans">柔性压力传感器导电油墨' in english
    chinese = client.get("/challenges?lang=zh_Hans").get_data(as_text=True)
    assert ">柔性压力传感器导电油墨" in chinese and 'lang="zh-Hans">柔性压力传感器导电油墨' not in chinese


def test_list_page_query_count_does_not_grow_with_the_number_of_challenges(
        app, center, challenge_factory, client, make_org, make_user):
    def queries_for_list_page() -> int:
        with counting_queries(app) as statements:
            response = client.get("/challenges?lang=en")
        assert response.status_code == 200
        return len(statements)

    # Several seekers, so that loading each card's organization one by one would show too.
    centers = [(center.org, center.manager)]
    for n in range(5):
        org = make_org(f"center-q{n}", name=f"Center {n}")
        centers.append((org, make_user(roles=[("center_manager", org)])))
    for org, manager in centers[:2] * 2 + centers[:1]:
        challenge_factory(org, manager)
    with_five = queries_for_list_page()
    for org, manager in centers * 3 + centers[:2]:
        challenge_factory(org, manager)
    with_twenty_five = queries_for_list_page()
    assert text_of(client.get("/challenges?lang=en")).count(TITLE) == 20  # a full first page
    assert with_twenty_five == with_five
    assert with_five <= 6, with_five  # fields for the filter, count, page, texts, seekers (+ PRAGMA on SQLite)


# --- a challenge's page -----------------------------------------------------------------------------

def test_drafts_are_404_outside_the_organization_and_visible_to_its_staff(
        center, other_center, challenge_factory, browser, make_user):
    draft = challenge_factory(center.org, center.manager, status="draft")
    assert browser().get(f"/challenges/{draft.id}").status_code == 404
    assert browser(make_user()).get(f"/challenges/{draft.id}").status_code == 404
    assert browser(other_center.manager).get(f"/challenges/{draft.id}").status_code == 404
    staff_view = browser(center.manager).get(f"/challenges/{draft.id}?lang=en")
    assert staff_view.status_code == 200
    assert "The full challenge" in text_of(staff_view)


def test_detail_shows_award_deadline_eligibility_and_ip_terms_up_front(center, challenge_factory, browser, make_user):
    challenge = challenge_factory(center.org, center.manager, eligibility={"excluded_countries": ["US"]})
    solver = make_user(country="DE")
    page = text_of(browser(solver).get(f"/challenges/{challenge.id}?lang=en"))
    assert TITLE in page
    assert "CN¥413,417.72" in page  # the award in its currency (the API test computes the same figure)
    assert "About €53,569" in page  # approximately, in the viewer's currency
    assert "29 days left" in page or "30 days left" in page
    assert "United States" in page and "North Korea" in page  # excluded, and the sanctions list
    assert "IP assigned to the center on award" in page and "TRL" not in page.split("Languages")[0][-5:]
    assert "You are eligible" in page
    assert "The full technical description" not in page  # only after the agreement


def test_accepting_the_agreement_through_the_form_reveals_the_description(
        app, center, challenge_factory, browser, make_user):
    challenge = challenge_factory(center.org, center.manager)
    solver = browser(make_user(country="DE"))
    before = solver.get(f"/challenges/{challenge.id}?lang=en")
    assert "Scope of knowledge use" in text_of(before) and "Governing law" in text_of(before)
    # Criteria are public (contract v1.1); only the detailed description waits for the agreement.
    assert "Noise performance" in text_of(before) and "The full technical description" not in text_of(before)

    response = post_form(solver, f"/challenges/{challenge.id}/agreement",
                         {"version": "platform-1", "accept": "y"}, prefix="agreement",
                         page=f"/challenges/{challenge.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith("#full-challenge")
    after = text_of(solver.get(f"/challenges/{challenge.id}?lang=en"))
    assert "The full technical description" in after
    assert "Noise performance" in after and "60 %" in after
    assert "You accepted the agreement (version platform-1)" in after
    assert rows(app, AgreementAcceptance, challenge_id=challenge.id) == 1


def test_accepting_without_ticking_or_a_stale_version_is_refused(app, center, challenge_factory, browser, make_user):
    challenge = challenge_factory(center.org, center.manager)
    solver = browser(make_user())
    unticked = post_form(solver, f"/challenges/{challenge.id}/agreement", {"version": "platform-1"},
                         prefix="agreement", page=f"/challenges/{challenge.id}")
    assert unticked.status_code == 422
    assert "Tick the box" in field_error(unticked, "agreement-accept")
    stale = post_form(solver, f"/challenges/{challenge.id}/agreement", {"version": "platform-0", "accept": "y"},
                      prefix="agreement", page=f"/challenges/{challenge.id}")
    assert stale.status_code == 409
    assert "The agreement has changed" in text_of(stale)
    assert 'name="agreement-version" type="hidden" value="platform-1"' in stale.get_data(as_text=True)
    assert rows(app, AgreementAcceptance) == 0


@pytest.mark.parametrize(("country", "reason"), [("KP", "excluded by the center"), ("IR", "sanctions list")])
def test_an_ineligible_solver_is_told_first_and_cannot_accept(
        app, center, challenge_factory, browser, make_user, country, reason):
    challenge = challenge_factory(center.org, center.manager, eligibility={"excluded_countries": ["KP"]})
    solver = browser(make_user(country=country))
    response = solver.get(f"/challenges/{challenge.id}?lang=en")
    body = response.get_data(as_text=True)
    assert "You cannot take part in this challenge" in body
    assert body.index("You cannot take part") < body.index(f">{TITLE}<")  # before anything else
    assert reason in text_of(response)
    assert 'name="agreement-accept"' not in body
    refused = post_form(solver, f"/challenges/{challenge.id}/agreement", {"version": "platform-1", "accept": "y"},
                        prefix="agreement", page=f"/challenges/{challenge.id}")
    assert refused.status_code == 403
    assert rows(app, AgreementAcceptance) == 0


def test_a_challenge_past_its_deadline_reads_as_closed_until_close_due_closes_it(app, center, challenge_factory,
                                                                                 client):
    challenge = challenge_factory(center.org, center.manager)
    set_columns(app, challenge.id, deadline=datetime.now(UTC) - timedelta(minutes=1))
    page = text_of(client.get(f"/challenges/{challenge.id}?lang=en"))
    assert "Closed on" in page and "days left" not in page and "Deadline passed" not in page
    # Reads don't write: the scheduled command records the closing.
    assert stored(app, challenge.id).status == "open"
    assert "challenge.closed" not in audit_actions(app, challenge.id)
    assert app.test_cli_runner().invoke(args=["challenges", "close-due"]).exit_code == 0
    assert stored(app, challenge.id).status == "closed"
    assert "challenge.closed" in audit_actions(app, challenge.id)


def test_questions_are_asked_answered_and_then_public(app, center, challenge_factory, browser, make_user):
    challenge = challenge_factory(center.org, center.manager)
    solver = browser(make_user())
    asked = post_form(solver, f"/challenges/{challenge.id}/questions", {"text": "May we use a chopper amplifier?"},
                      prefix="question", page=f"/challenges/{challenge.id}")
    assert asked.status_code == 302
    assert "chopper" not in text_of(browser().get(f"/challenges/{challenge.id}"))  # unanswered: staff only
    with app.app_context():
        question_id = db.session.scalar(db.select(Question.id))
    answered = post_form(browser(center.manager), f"/staff/questions/{question_id}/answer",
                         {"answer": "Yes, **chopper stabilisation** is allowed."}, prefix=f"q{question_id}",
                         page=f"/staff/challenges/{challenge.id}")
    assert answered.status_code == 302
    public = browser().get(f"/challenges/{challenge.id}?lang=en").get_data(as_text=True)
    assert "May we use a chopper amplifier?" in public and "<strong>chopper stabilisation</strong>" in public


def test_an_empty_question_is_422(app, center, challenge_factory, browser, make_user):
    challenge = challenge_factory(center.org, center.manager)
    response = post_form(browser(make_user()), f"/challenges/{challenge.id}/questions", {"text": "  "},
                         prefix="question", page=f"/challenges/{challenge.id}")
    assert response.status_code == 422 and field_error(response, "question-text")
    assert rows(app, Question) == 0


# --- authoring ---------------------------------------------------------------------------------

def new_challenge_form(org_id: int, **changes) -> dict:
    data = {
        "organization": str(org_id), "program_id": "", "requirement_codes": "", "default_locale": "en",
        "title": "Wafer-level defect classifier", "summary": "Classify defects from optical images.",
        "description": "## Data\n\nTen thousand labelled images.", "challenge_type": "rtp", "field": "semiconductors",
        "deadline": (datetime.now(UTC) + timedelta(days=40)).strftime("%Y-%m-%dT%H:%M"), "award_currency": "CNY",
        "premium_pct": "15", "excluded_countries": ["KP", "US"], "ip_terms": "assignment", "target_trl": "4",
        "criteria-0-name": "Accuracy", "criteria-0-weight": "70",
        "criteria-1-name": "Speed", "criteria-1-weight": "30",
    }
    data.update(changes)
    return data


def test_create_through_the_form(app, center, pricing_rates, browser):
    with app.app_context():
        from marketplace.accounts.models import User

        db.session.get(User, center.manager.id).timezone = "Asia/Shanghai"
        db.session.commit()
    manager = browser(center.manager)
    form_page = manager.get("/staff/challenges/new?lang=en")
    assert form_page.status_code == 200 and "Asia/Shanghai" in text_of(form_page)
    response = post_form(manager, "/staff/challenges/new",
                         new_challenge_form(center.org.id, deadline="2030-06-01T18:00", seeker_anonymous="y"))
    assert response.status_code == 302, text_of(response)
    challenge_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    with app.app_context():
        challenge = db.session.get(Challenge, challenge_id)
        assert challenge.status == "draft" and challenge.seeker_anonymous
        assert challenge.deadline == datetime(2030, 6, 1, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai
        assert challenge.excluded_countries == ["KP", "US"]
        assert [(c.name, c.weight) for c in challenge.criteria] == [({"en": "Accuracy"}, 70), ({"en": "Speed"}, 30)]
        assert challenge.award.as_dict() == {"amount": "413417.72", "currency": "CNY"}
        assert challenge.text_map("description") == {"en": "## Data\n\nTen thousand labelled images."}
    manage = text_of(manager.get(f"/staff/challenges/{challenge_id}?lang=en"))
    assert "Request clearance" in manage and "CN¥413,417.72" in manage


@pytest.mark.parametrize(("changes", "field_id", "expected"), [
    ({"criteria-1-weight": "20"}, "criteria", "add up to 90"),
    ({"criteria-1-weight": ""}, "criteria", "Give each criterion a weight"),
    ({"deadline": "2020-01-01T10:00"}, "deadline", "must be in the future"),
    ({"deadline": "next tuesday"}, "deadline", "Not a valid datetime"),
    ({"title": "   "}, "title", "default language (en)"),
    ({"premium_pct": "25"}, "premium_pct", "between 10 and 20"),
    ({"premium_pct": "Infinity"}, "premium_pct", "Enter a number"),
    ({"excluded_countries": "XX"}, "excluded_countries", "Unknown country codes: XX"),
    ({"field": "basket-weaving"}, "field", "No benchmark rate"),
    ({"target_trl": "4", "challenge_type": "ideation"}, "target_trl", "reduction-to-practice"),
    ({"requirement_codes": "R1"}, "requirement_codes", "need a program"),
])
def test_bad_authoring_input_is_422_with_a_clear_message_and_writes_nothing(
        app, center, pricing_rates, browser, changes, field_id, expected):
    audit_before = rows(app, AuditEntry)
    response = post_form(browser(center.manager), "/staff/challenges/new?lang=en",
                         new_challenge_form(center.org.id, **changes))
    assert response.status_code == 422, text_of(response)
    message = field_error(response, field_id)
    assert message and expected in message, (message, text_of(response)[:2000])
    assert "Please correct the following" in text_of(response)
    assert rows(app, Challenge) == 0 and rows(app, AuditEntry) == audit_before


def test_html_in_challenge_text_is_shown_inert(app, center, pricing_rates, browser):
    manager = browser(center.manager)
    response = post_form(manager, "/staff/challenges/new", new_challenge_form(
        center.org.id, title="<script>alert(1)</script> sensors",
        description='<img src=x onerror="alert(2)"> [click](javascript:alert(3)) **bold**'))
    assert response.status_code == 302
    challenge_id = int(response.headers["Location"].split("/")[-1])
    for url in (f"/staff/challenges/{challenge_id}", f"/challenges/{challenge_id}"):
        body = manager.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)&lt;/script&gt; sensors" in body
    detail = manager.get(f"/challenges/{challenge_id}").get_data(as_text=True)
    assert "<img src=x" not in detail and "&lt;img src=x onerror=" in detail  # shown as text
    assert 'href="javascript' not in detail and "<strong>bold</strong>" in detail


def test_the_new_challenge_page_is_for_center_managers(center, browser, make_user, pricing_rates):
    officer = make_user(roles=[("security_officer", center.org)])
    assert browser(officer).get("/staff/challenges/new").status_code == 404
    assert browser(make_user()).get("/staff/challenges/new").status_code == 404
    assert browser().get("/staff/challenges/new").status_code == 302  # to the sign-in page


def test_editing_a_cleared_challenge_sends_it_back_to_clearance(app, center, challenge_factory, browser):
    challenge = challenge_factory(center.org, center.manager, status="cleared")
    manager = browser(center.manager)
    page = manager.get(f"/staff/challenges/{challenge.id}/edit?lang=en")
    assert page.status_code == 200 and "sends it back to the security officer" in text_of(page)
    form = new_challenge_form(
        center.org.id, title="Low-noise readout chain", summary="Design a readout chain below 2 nV/√Hz.",
        description="## Background\n\nThe full technical description.", excluded_countries=["KP"], target_trl="",
        deadline=challenge.deadline.strftime("%Y-%m-%dT%H:%M"),
        **{"criteria-0-name": "Noise performance", "criteria-0-weight": "60",
           "criteria-1-name": "Manufacturability", "criteria-1-weight": "40"})
    form.pop("organization")
    response = post_form(manager, f"/staff/challenges/{challenge.id}/edit", form)
    assert response.status_code == 302, text_of(response)
    with app.app_context():
        edited = db.session.get(Challenge, challenge.id)
        assert edited.status == "in_clearance"
        assert edited.text_map("title") == {"en": "Low-noise readout chain", "zh_Hans": TITLE_ZH}
        assert edited.criteria[0].name == {"en": "Noise performance", "zh_Hans": "噪声性能"}  # translation kept
        [edit] = db.session.scalars(db.select(AuditEntry).filter_by(action="challenge.edited")).all()
        assert edit.data["fields"] == ["title"]  # only what really changed
    assert audit_actions(app, challenge.id)[-1] == "challenge.clearance_revoked_by_edit"


def test_a_translation_is_added_and_an_unknown_locale_is_404(app, center, challenge_factory, browser):
    challenge = challenge_factory(center.org, center.manager, status="draft")
    manager = browser(center.manager)
    assert manager.get(f"/staff/challenges/{challenge.id}/texts/xx-YY").status_code == 404
    assert manager.get(f"/staff/challenges/{challenge.id}/texts/klingon").status_code == 404
    page = manager.get(f"/staff/challenges/{challenge.id}/texts/de?lang=en")
    assert page.status_code == 200 and 'lang="de"' in page.get_data(as_text=True)
    response = post_form(manager, f"/staff/challenges/{challenge.id}/texts/de", {
        "title": "Rauscharme Ausleseschaltung", "summary": "Eine Auslesekette unter 2 nV/√Hz.", "description": "",
        "criteria-0": "Rauschverhalten", "criteria-1": ""})
    assert response.status_code == 302, text_of(response)
    with app.app_context():
        challenge = db.session.get(Challenge, challenge.id)
        assert challenge.available_locales == ["de", "en", "zh_Hans"]
        assert challenge.criteria[0].name["de"] == "Rauschverhalten" and "de" not in challenge.criteria[1].name
    missing_title = post_form(manager, f"/staff/challenges/{challenge.id}/texts/fr",
                              {"title": "", "summary": "Résumé", "description": ""})
    assert missing_title.status_code == 422 and "missing for fr" in text_of(missing_title)


# --- the staff workflow ------------------------------------------------------------------------------

def test_clearance_by_the_author_is_refused_and_audited(app, center, challenge_factory, browser, make_user):
    challenge = challenge_factory(center.org, center.manager, status="in_clearance")
    with app.app_context():
        from marketplace.accounts import services
        from marketplace.accounts.models import Organization, User

        services.grant_role(db.session.get(User, center.manager.id), "security_officer",
                            db.session.get(Organization, center.org.id))
        db.session.commit()
    author = browser(center.manager)
    manage = text_of(author.get(f"/staff/challenges/{challenge.id}?lang=en"))
    assert "another security officer must clear it" in manage
    response = post_form(author, f"/staff/challenges/{challenge.id}/clearance", {"approve": "y", "note": "fine"},
                         prefix="clearance", page=f"/staff/challenges/{challenge.id}")
    assert response.status_code == 403
    assert "cannot clear it" in text_of(response)
    assert stored(app, challenge.id).status == "in_clearance"
    assert audit_actions(app, challenge.id)[-1] == "challenge.clearance_refused"


def test_clearance_funding_and_publication_through_the_pages(app, center, challenge_factory, browser):
    challenge = challenge_factory(center.org, center.manager, status="draft")
    officer, finance = challenge_factory.officers(center.org)
    manager = browser(center.manager)
    manage_url = f"/staff/challenges/{challenge.id}"

    requested = post_form(manager, f"{manage_url}/clearance-request", {}, page=manage_url)
    assert requested.status_code == 302 and stored(app, challenge.id).status == "in_clearance"

    officer_browser = browser(officer)
    queue = text_of(officer_browser.get("/staff/clearance?lang=en"))
    assert TITLE in queue
    approved = post_form(officer_browser, f"{manage_url}/clearance", {"approve": "y", "note": "Unclassified."},
                         prefix="clearance", page=manage_url)
    assert approved.status_code == 302 and stored(app, challenge.id).status == "cleared"
    assert TITLE not in text_of(officer_browser.get("/staff/clearance?lang=en"))

    refused = post_form(manager, f"{manage_url}/publish", {}, page=manage_url)
    assert refused.status_code == 409 and "not funded yet" in text_of(refused)
    assert "challenge.publication_refused" in audit_actions(app, challenge.id)

    finance_browser = browser(finance)
    assert TITLE in text_of(finance_browser.get("/staff/funding?lang=en"))
    short = post_form(finance_browser, f"{manage_url}/receipts",
                      {"reference": "BOC-1", "amount": "400000.00", "received_on": "2026-11-05"},
                      prefix="receipt", page=manage_url)
    assert short.status_code == 302 and not stored(app, challenge.id).funded
    duplicate = post_form(finance_browser, f"{manage_url}/receipts",
                          {"reference": "BOC-1", "amount": "13417.72", "received_on": "2026-11-06"},
                          prefix="receipt", page=manage_url)
    assert duplicate.status_code == 409 and "already recorded" in text_of(duplicate)
    too_precise = post_form(finance_browser, f"{manage_url}/receipts",
                            {"reference": "BOC-2", "amount": "13417.725", "received_on": "2026-11-06"},
                            prefix="receipt", page=manage_url)
    assert too_precise.status_code == 422 and "decimal places" in field_error(too_precise, "receipt-amount")
    rest = post_form(finance_browser, f"{manage_url}/receipts",
                     {"reference": "BOC-2", "amount": "13417.72", "received_on": "2026-11-06"},
                     prefix="receipt", page=manage_url)
    assert rest.status_code == 302 and stored(app, challenge.id).funded
    assert rows(app, FundingReceipt, challenge_id=challenge.id) == 2
    assert TITLE not in text_of(finance_browser.get("/staff/funding?lang=en"))

    published = post_form(manager, f"{manage_url}/publish", {}, page=manage_url)
    assert published.status_code == 302 and stored(app, challenge.id).status == "open"
    assert TITLE in text_of(browser().get("/challenges?lang=en"))
    history = text_of(manager.get(f"{manage_url}?lang=en"))
    for step in ("Draft created", "Clearance requested", "Cleared for publication", "Publication refused",
                 "Bank receipt recorded", "Award funded", "Published"):
        assert step in history


def test_a_rejection_needs_a_note_and_returns_the_draft_with_it(app, center, challenge_factory, browser):
    challenge = challenge_factory(center.org, center.manager, status="in_clearance")
    officer, _finance = challenge_factory.officers(center.org)
    officer_browser = browser(officer)
    url = f"/staff/challenges/{challenge.id}"
    no_note = post_form(officer_browser, f"{url}/clearance", {"reject": "y", "note": ""}, prefix="clearance", page=url)
    assert no_note.status_code == 422 and "Say why" in field_error(no_note, "clearance-note")
    assert audit_actions(app, challenge.id)[-1] == "challenge.clearance_refused"
    rejected = post_form(officer_browser, f"{url}/clearance", {"reject": "y", "note": "Names the fab line."},
                         prefix="clearance", page=url)
    assert rejected.status_code == 302 and stored(app, challenge.id).status == "draft"
    assert "Names the fab line." in text_of(browser(center.manager).get(f"{url}?lang=en"))


def test_a_clearance_request_with_a_marker_is_refused_naming_it_and_audited(app, center, challenge_factory, browser):
    challenge = challenge_factory(center.org, center.manager, status="draft",
                                  summary={"en": "Details are CONFIDENTIAL.", "zh_Hans": "本项目机密。"})
    manager = browser(center.manager)
    url = f"/staff/challenges/{challenge.id}"
    response = post_form(manager, f"{url}/clearance-request", {}, page=url)
    assert response.status_code == 422
    page = text_of(response)
    assert 'summary: Classification marker "CONFIDENTIAL" found (en)' in page
    assert 'summary: Classification marker "机密" found (zh_Hans)' in page
    assert stored(app, challenge.id).status == "draft"
    assert audit_actions(app, challenge.id)[-1] == "challenge.clearance_request_refused"


def test_amending_an_open_challenge_publishes_a_dated_change(app, center, challenge_factory, browser):
    challenge = challenge_factory(center.org, center.manager)
    manager = browser(center.manager)
    url = f"/staff/challenges/{challenge.id}"
    lower = post_form(manager, f"{url}/amend", {"award": "100", "note": "Lower."}, prefix="amend", page=url)
    assert lower.status_code == 422 and "only raise" in field_error(lower, "amend-award")
    raised = post_form(manager, f"{url}/amend", {"award": "500000.00", "note": "More money for better work."},
                       prefix="amend", page=url)
    assert raised.status_code == 302
    assert rows(app, Amendment, challenge_id=challenge.id) == 1
    public = text_of(browser().get(f"/challenges/{challenge.id}?lang=en"))
    assert "More money for better work." in public
    assert "Award raised from CN¥413,417.72 to CN¥500,000.00" in public


def test_close_and_cancel_from_the_manage_page(app, center, challenge_factory, browser):
    open_one = challenge_factory(center.org, center.manager)
    draft = challenge_factory(center.org, center.manager, status="draft")
    manager = browser(center.manager)
    html = manager.get(f"/staff/challenges/{open_one.id}?lang=en").get_data(as_text=True)
    panel = html[html.index('<details class="confirm-action">'):]
    panel = panel[:panel.index("</details>")]
    assert "Close now" in panel and "Yes, close it now" in panel and "Nobody can submit or change a proposal" in panel
    assert f'action="/staff/challenges/{open_one.id}/close"' in panel
    closed = post_form(manager, f"/staff/challenges/{open_one.id}/close", {}, page=f"/staff/challenges/{open_one.id}")
    assert closed.status_code == 302 and stored(app, open_one.id).status == "closed"
    again = post_form(manager, f"/staff/challenges/{open_one.id}/close", {}, page=f"/staff/challenges/{open_one.id}")
    assert again.status_code == 409
    no_reason = post_form(manager, f"/staff/challenges/{draft.id}/cancel", {"reason": ""}, prefix="cancel",
                          page=f"/staff/challenges/{draft.id}")
    assert no_reason.status_code == 422 and stored(app, draft.id).status == "draft"
    cancelled = post_form(manager, f"/staff/challenges/{draft.id}/cancel", {"reason": "Merged into #1."},
                          prefix="cancel", page=f"/staff/challenges/{draft.id}")
    assert cancelled.status_code == 302 and stored(app, draft.id).status == "cancelled"


def test_staff_pages_are_404_for_another_organization(app, center, other_center, challenge_factory, browser,
                                                      make_user):
    challenge = challenge_factory(center.org, center.manager, status="cleared")
    outsider = browser(other_center.manager)
    url = f"/staff/challenges/{challenge.id}"
    for path in (url, f"{url}/edit", f"{url}/texts/de"):
        assert outsider.get(path).status_code == 404, path
    for action in ("publish", "close", "clearance-request"):
        assert post_form(outsider, f"{url}/{action}", {}, page="/challenges").status_code == 404
    assert stored(app, challenge.id).status == "cleared"
    solver = browser(make_user())
    for path in (url, "/staff/challenges", "/staff/clearance", "/staff/funding"):
        assert solver.get(path).status_code == 404, path
    assert TITLE not in text_of(outsider.get("/staff/challenges"))


def test_a_security_officer_sees_the_manage_page_but_cannot_edit(center, challenge_factory, browser):
    challenge = challenge_factory(center.org, center.manager, status="draft")
    officer, _finance = challenge_factory.officers(center.org)
    officer_browser = browser(officer)
    assert officer_browser.get(f"/staff/challenges/{challenge.id}").status_code == 200
    assert officer_browser.get(f"/staff/challenges/{challenge.id}/edit").status_code == 403


def test_pages_have_unique_ids_and_an_orderly_outline(app, center, challenge_factory, browser, make_user):
    open_one = challenge_factory(center.org, center.manager)
    waiting = challenge_factory(center.org, center.manager, status="in_clearance")
    officer, finance = challenge_factory.officers(center.org)
    solver = browser(make_user())
    post_form(solver, f"/challenges/{open_one.id}/questions", {"text": "A question?"}, prefix="question",
              page=f"/challenges/{open_one.id}")
    manager = browser(center.manager)
    pages = {
        "browse": browser().get("/challenges?lang=en"),
        "detail, solver": solver.get(f"/challenges/{open_one.id}?lang=en"),
        "detail, visitor": browser().get(f"/challenges/{open_one.id}?lang=en"),
        "detail, ineligible": browser(make_user(country="KP")).get(f"/challenges/{open_one.id}?lang=en"),
        "manage, open": manager.get(f"/staff/challenges/{open_one.id}?lang=en"),
        "manage, officer": browser(officer).get(f"/staff/challenges/{waiting.id}?lang=en"),
        "manage, finance": browser(finance).get(f"/staff/challenges/{waiting.id}?lang=en"),
        "new": manager.get("/staff/challenges/new?lang=en"),
        "edit": manager.get(f"/staff/challenges/{challenge_factory(center.org, center.manager, status='draft').id}"
                            "/edit?lang=en"),
        "translate": manager.get(f"/staff/challenges/{waiting.id}/texts/ja?lang=en"),
        "list": manager.get("/staff/challenges?lang=en"),
        "clearance queue": browser(officer).get("/staff/clearance?lang=en"),
        "funding queue": browser(finance).get("/staff/funding?lang=en"),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        assert structure_problems(response) == [], name
