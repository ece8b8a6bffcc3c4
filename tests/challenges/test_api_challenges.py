"""The challenge lifecycle through the public API: every transition and every refusal."""

from __future__ import annotations

import pytest

from marketplace.audit.models import AuditEntry
from marketplace.extensions import db
from tests.factories import FX, RATES, Center, challenge_body, iso_in_days
from tests.helpers import outbox, rows, value_of


@pytest.fixture
def admin(make_user, api_token):
    return api_token(make_user(roles=[("admin", None)]))


@pytest.fixture
def center(client, make_org, make_user, api_token, admin):
    assert client.put("/api/v1/benchmark-rates", json=RATES, headers=admin).status_code == 200
    assert client.put("/api/v1/fx-rates", json=FX, headers=admin).status_code == 200
    return Center(client, make_org, make_user, api_token, "sh-icc")


@pytest.fixture
def other_center(client, make_org, make_user, api_token, center):
    return Center(client, make_org, make_user, api_token, "sh-ssc")


@pytest.fixture
def solver(make_user, api_token):
    return api_token(make_user(country="DE"))


def audit_actions(app, challenge_id):
    with app.app_context():
        return [
            e.action
            for e in db.session.scalars(
                db.select(AuditEntry).filter_by(entity_type="challenge", entity_id=challenge_id).order_by(AuditEntry.id)
            )
        ]


# --- creation ---------------------------------------------------------------------------------


def test_create_returns_draft_with_computed_award(center):
    response = center.create()
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "draft" and body["funded"] is False
    assert body["award"] == {"amount": "413417.72", "currency": "CNY"}
    assert body["available_locales"] == ["en", "zh_Hans"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"criteria": [{"name": {"en": "A"}, "weight": 60}, {"name": {"en": "B"}, "weight": 30}]}, "criteria"),
        ({"deadline": iso_in_days(-1)}, "deadline"),
        ({"default_locale": "xx"}, "default_locale"),
        ({"title": {"en": "", "zh_Hans": "标题"}}, "title"),
        ({"title": {"zh-CN": "标题", "en": "Title"}}, "title"),
        ({"premium_pct": "25"}, "premium_pct"),
        ({"premium_pct": "5"}, "premium_pct"),
        ({"award_currency": "ABC"}, "award_currency"),
        ({"eligibility": {"excluded_countries": ["ZZ"]}}, "eligibility"),
        ({"challenge_type": "lottery"}, "challenge_type"),
        ({"target_trl": 12}, "target_trl"),
        ({"challenge_type": "ideation", "target_trl": 4}, "target_trl"),
        ({"field": "photonics"}, "field"),  # no benchmark rate: never a guess
    ],
)
def test_bad_challenge_input_is_422_and_nothing_is_written(app, center, changes, field):
    from marketplace.challenges.models import Challenge

    response = center.create(**changes)
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"], response.get_json()
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Challenge.id))) == 0


def test_html_in_text_is_stored_as_text(center, client):
    created = center.create(title={"en": "<script>alert(1)</script> sensor", "zh_Hans": "传感器"}).get_json()
    assert created["title"] == "<script>alert(1)</script> sensor"


def test_only_managers_of_the_organization_create(app, center, other_center, solver, client):
    assert (
        client.post("/api/v1/challenges", json=challenge_body("sh-icc"), headers=other_center.manager).status_code
        == 404
    )
    assert client.post("/api/v1/challenges", json=challenge_body("sh-icc"), headers=solver).status_code == 404
    assert client.post("/api/v1/challenges", json=challenge_body("sh-icc"), headers=center.finance).status_code == 403
    assert client.post("/api/v1/challenges", json=challenge_body("sh-icc")).status_code == 401
    assert rows(app, "challenges") == 0


# --- the state machine ----------------------------------------------------------------------------


def test_full_workflow_and_its_audit_trail(app, center, client):
    challenge_id = center.create().get_json()["id"]
    assert center.drive(challenge_id, "in_clearance")["status"] == "in_clearance"
    cleared = center.post(f"/challenges/{challenge_id}/clearance", center.officer, json={"decision": "approve"})
    assert cleared.get_json()["status"] == "cleared"
    assert center.post(f"/challenges/{challenge_id}/publish", center.manager).status_code == 409  # not funded
    funding = center.post(f"/challenges/{challenge_id}/funding", center.finance)
    assert funding.status_code == 201 and funding.get_json()["provider"] == "manual"
    assert funding.get_json()["status"] == "pending"
    assert center.fund(challenge_id).get_json()["challenge_funded"] is True
    opened = center.post(f"/challenges/{challenge_id}/publish", center.manager)
    assert opened.status_code == 200 and opened.get_json()["status"] == "open"
    closed = center.post(f"/challenges/{challenge_id}/close", center.manager)
    assert closed.get_json()["status"] == "closed"
    assert audit_actions(app, challenge_id) == [
        "challenge.created",
        "challenge.clearance_requested",
        "challenge.cleared",
        "challenge.publication_refused",
        "funding.requested",
        "funding.receipt_recorded",
        "challenge.funded",
        "challenge.published",
        "challenge.closed",
    ]


@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/publish", "manager"),
        ("/close", "manager"),
        ("/clearance", "officer"),
    ],
)
def test_transitions_from_the_wrong_state_are_409(center, path, who):
    challenge_id = center.create().get_json()["id"]
    kwargs = {"json": {"decision": "approve"}} if path == "/clearance" else {}
    response = center.post(f"/challenges/{challenge_id}{path}", getattr(center, who), **kwargs)
    assert response.status_code == 409 and response.mimetype == "application/problem+json"


def test_patch_only_while_draft_or_cleared(app, center, client):
    challenge_id = center.open_challenge()
    response = client.patch(f"/api/v1/challenges/{challenge_id}", json={"field": "sensors"}, headers=center.manager)
    assert response.status_code == 409
    assert value_of(app, "challenges", challenge_id, "field") == "semiconductors"


def test_edit_after_clearance_goes_back_through_clearance(center, client):
    challenge_id = center.create().get_json()["id"]
    center.drive(challenge_id, "cleared")
    edited = client.patch(
        f"/api/v1/challenges/{challenge_id}", json={"summary": {"en": "A sharper summary"}}, headers=center.manager
    )
    assert edited.status_code == 200 and edited.get_json()["status"] == "in_clearance"


def test_patch_recomputes_the_award(center, client):
    challenge_id = center.create().get_json()["id"]
    patched = client.patch(
        f"/api/v1/challenges/{challenge_id}", json={"premium_pct": 10, "award_currency": "USD"}, headers=center.manager
    ).get_json()
    # reference GB: 40000 / 0.79 = 50632.91 USD; x 1.10 = 55696.20
    assert patched["award"] == {"amount": "55696.20", "currency": "USD"}


def test_cancel_needs_a_reason_and_is_final(center, client):
    challenge_id = center.create().get_json()["id"]
    assert center.post(f"/challenges/{challenge_id}/cancel", center.manager, json={"reason": ""}).status_code == 422
    assert (
        center.post(
            f"/challenges/{challenge_id}/cancel", center.manager, json={"reason": "merged into another"}
        ).get_json()["status"]
        == "cancelled"
    )
    assert center.post(f"/challenges/{challenge_id}/clearance-request", center.manager).status_code == 409


# --- clearance gate -----------------------------------------------------------------------------


def test_classification_markers_block_the_request_naming_marker_and_field(app, center):
    challenge_id = center.create(
        description={"en": "Derived from a TOP SECRET program", "zh_Hans": "源自機密项目"}
    ).get_json()["id"]
    response = center.post(f"/challenges/{challenge_id}/clearance-request", center.manager)
    assert response.status_code == 422
    messages = " ".join(response.get_json()["errors"]["description"])
    assert "TOP SECRET" in messages and "机密" in messages and "zh_Hans" in messages
    assert "challenge.clearance_request_refused" in audit_actions(app, challenge_id)


def test_the_author_cannot_clear_even_as_security_officer(app, center, client, make_user, api_token):
    both = make_user(roles=[("center_manager", center.org), ("security_officer", center.org)])
    headers = api_token(both)
    challenge_id = client.post("/api/v1/challenges", json=challenge_body("sh-icc"), headers=headers).get_json()["id"]
    assert client.post(f"/api/v1/challenges/{challenge_id}/clearance-request", headers=headers).status_code == 200
    refused = client.post(f"/api/v1/challenges/{challenge_id}/clearance", json={"decision": "approve"}, headers=headers)
    assert refused.status_code == 403
    assert "challenge.clearance_refused" in audit_actions(app, challenge_id)
    assert client.get(f"/api/v1/challenges/{challenge_id}", headers=headers).get_json()["status"] == "in_clearance"


def test_officer_of_another_organization_cannot_clear(app, center, other_center):
    challenge_id = center.create().get_json()["id"]
    center.drive(challenge_id, "in_clearance")
    response = other_center.post(
        f"/challenges/{challenge_id}/clearance", other_center.officer, json={"decision": "approve"}
    )
    assert response.status_code == 404
    assert value_of(app, "challenges", challenge_id, "status") == "in_clearance"


def test_reject_needs_a_note_and_returns_to_draft(center):
    challenge_id = center.create().get_json()["id"]
    center.drive(challenge_id, "in_clearance")
    assert (
        center.post(f"/challenges/{challenge_id}/clearance", center.officer, json={"decision": "reject"}).status_code
        == 422
    )
    rejected = center.post(
        f"/challenges/{challenge_id}/clearance",
        center.officer,
        json={"decision": "reject", "note": "Too close to program P-7"},
    )
    assert rejected.get_json()["status"] == "draft"
    staff_view = center.client.get(f"/api/v1/challenges/{challenge_id}", headers=center.manager).get_json()
    assert staff_view["clearance_note"] == "Too close to program P-7"


def test_refused_publication_is_audited(app, center):
    challenge_id = center.create().get_json()["id"]
    center.drive(challenge_id, "cleared")
    assert center.post(f"/challenges/{challenge_id}/publish", center.manager).status_code == 409
    assert "challenge.publication_refused" in audit_actions(app, challenge_id)


# --- funding -----------------------------------------------------------------------------------


def test_receipts_must_cover_the_award_in_its_currency(center):
    challenge_id = center.create().get_json()["id"]
    half = {"amount": "200000.00", "currency": "CNY"}
    first = center.post(
        f"/challenges/{challenge_id}/funding/receipts",
        center.finance,
        json={"reference": "BOC-A", "amount": half, "received_on": "2026-11-05"},
    )
    assert first.status_code == 201 and first.get_json()["challenge_funded"] is False
    wrong_currency = center.post(
        f"/challenges/{challenge_id}/funding/receipts",
        center.finance,
        json={"reference": "BOC-B", "amount": {"amount": "30000.00", "currency": "USD"}, "received_on": "2026-11-05"},
    )
    assert wrong_currency.status_code == 422
    duplicate = center.post(
        f"/challenges/{challenge_id}/funding/receipts",
        center.finance,
        json={"reference": "BOC-A", "amount": half, "received_on": "2026-11-05"},
    )
    assert duplicate.status_code == 409
    rest = center.post(
        f"/challenges/{challenge_id}/funding/receipts",
        center.finance,
        json={"reference": "BOC-C", "amount": {"amount": "213417.72", "currency": "CNY"}, "received_on": "2026-11-06"},
    )
    assert rest.get_json()["challenge_funded"] is True


def test_only_finance_officers_record_receipts(app, center):
    challenge_id = center.create().get_json()["id"]
    body = {"reference": "X", "amount": {"amount": "1.00", "currency": "CNY"}, "received_on": "2026-11-05"}
    assert center.post(f"/challenges/{challenge_id}/funding/receipts", center.manager, json=body).status_code == 403
    assert rows(app, "funding_receipts", challenge_id=challenge_id) == 0


# --- visibility ----------------------------------------------------------------------------------


def test_drafts_are_invisible_outside_the_organization(center, other_center, solver, client):
    challenge_id = center.create().get_json()["id"]
    for headers in ({}, solver, other_center.manager):
        response = client.get(f"/api/v1/challenges/{challenge_id}", headers=headers)
        assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert client.get(f"/api/v1/challenges/{challenge_id}", headers=center.officer).status_code == 200


def test_public_list_shows_only_open_challenges_in_the_requested_locale(center, client):
    open_id = center.open_challenge()
    center.create()  # a draft that must not show
    body = client.get("/api/v1/challenges?locale=zh_Hans").get_json()
    assert [item["id"] for item in body["items"]] == [open_id] and body["total"] == 1
    assert body["items"][0]["title"] == "用于晶圆缺陷检测的低噪声读出电路"
    assert body["items"][0]["available_locales"] == ["en", "zh_Hans"]
    fallback = client.get("/api/v1/challenges?locale=de").get_json()["items"][0]
    assert fallback["locale"] == "en" and fallback["title"].startswith("Low-noise")


def test_list_filters(center, client):
    semis = center.open_challenge()
    sensors = center.open_challenge(field="sensors", challenge_type="ideation")
    assert [i["id"] for i in client.get("/api/v1/challenges?field=sensors").get_json()["items"]] == [sensors]
    assert [i["id"] for i in client.get("/api/v1/challenges?challenge_type=rtp").get_json()["items"]] == [semis]
    assert client.get("/api/v1/challenges?min_award=500000&currency=CNY").get_json()["total"] == 0
    assert client.get("/api/v1/challenges?min_award=400000&currency=CNY").get_json()["total"] == 2
    assert client.get("/api/v1/challenges?sort=sideways").status_code == 422


def test_description_and_criteria_only_after_the_agreement(center, solver, client):
    challenge_id = center.open_challenge()
    public = client.get(f"/api/v1/challenges/{challenge_id}", headers=solver).get_json()
    assert "description" not in public  # criteria are public since v1.1
    assert [(c["name"], c["weight"]) for c in public["criteria"]] == [("Noise performance", 60),
                                                                      ("Manufacturability", 40)]
    assert "program_id" not in public
    agreement = client.get(f"/api/v1/challenges/{challenge_id}/agreement").get_json()
    assert set(agreement["text"]) >= {"en", "zh_Hans"} and agreement["version"]
    accepted = client.post(
        f"/api/v1/challenges/{challenge_id}/agreement",
        headers=solver,
        json={"version": agreement["version"], "accept": True},
    )
    assert accepted.status_code == 201
    full = client.get(f"/api/v1/challenges/{challenge_id}", headers=solver).get_json()
    assert full["description"] == "Full technical description."
    assert [(c["name"], c["weight"]) for c in full["criteria"]] == [
        ("Noise performance", 60),
        ("Manufacturability", 40),
    ]


def test_anonymous_seeker_is_never_shown(center, solver, client):
    challenge_id = center.open_challenge(seeker_anonymous=True)
    assert client.get(f"/api/v1/challenges/{challenge_id}", headers=solver).get_json()["seeker"] is None
    assert client.get("/api/v1/challenges").get_json()["items"][0]["seeker"] is None


def test_excluded_country_is_told_before_accepting(center, client, make_user, api_token):
    excluded = api_token(make_user(country="KP"))
    challenge_id = center.open_challenge()
    version = client.get(f"/api/v1/challenges/{challenge_id}/agreement").get_json()["version"]
    response = client.post(
        f"/api/v1/challenges/{challenge_id}/agreement", headers=excluded, json={"version": version, "accept": True}
    )
    assert response.status_code == 403 and "KP" in response.get_json()["detail"]
    detail = client.get(f"/api/v1/challenges/{challenge_id}").get_json()
    assert "KP" in detail["eligibility"]["excluded_countries"]
    assert "KP" in detail["eligibility"]["sanctioned_countries"]


def test_stale_agreement_version_is_409(app, center, solver, client):
    challenge_id = center.open_challenge()
    response = client.post(
        f"/api/v1/challenges/{challenge_id}/agreement", headers=solver, json={"version": "0-old", "accept": True}
    )
    assert response.status_code == 409
    assert rows(app, "agreement_acceptances", challenge_id=challenge_id) == 0


# --- amendments ------------------------------------------------------------------------------


def test_amendments_only_raise_the_award_and_extend_the_deadline(center, client):
    challenge_id = center.open_challenge()
    lower = center.post(
        f"/challenges/{challenge_id}/amendments",
        center.manager,
        json={"note": {"en": "less"}, "award": {"amount": "1000.00", "currency": "CNY"}},
    )
    assert lower.status_code == 422
    earlier = center.post(
        f"/challenges/{challenge_id}/amendments",
        center.manager,
        json={"note": {"en": "sooner"}, "deadline": iso_in_days(2)},
    )
    assert earlier.status_code == 422
    later = center.post(
        f"/challenges/{challenge_id}/amendments",
        center.manager,
        json={"note": {"en": "two more weeks"}, "deadline": iso_in_days(44)},
    )
    assert later.status_code == 201 and later.get_json()["requires_reacceptance"] is False
    log = client.get(f"/api/v1/challenges/{challenge_id}/amendments").get_json()["items"]
    assert [a["note"]["en"] for a in log] == ["two more weeks"]


def test_criteria_amendment_requires_acceptance_again_and_mails_solvers(app, center, solver, client):
    challenge_id = center.open_challenge()
    version = client.get(f"/api/v1/challenges/{challenge_id}/agreement").get_json()["version"]
    client.post(
        f"/api/v1/challenges/{challenge_id}/agreement", headers=solver, json={"version": version, "accept": True}
    )
    amended = center.post(
        f"/challenges/{challenge_id}/amendments",
        center.manager,
        json={
            "note": {"en": "Power consumption now counts."},
            "criteria": [{"name": {"en": "Noise"}, "weight": 50}, {"name": {"en": "Power"}, "weight": 50}],
        },
    )
    assert amended.status_code == 201 and amended.get_json()["requires_reacceptance"] is True
    after = client.get(f"/api/v1/challenges/{challenge_id}", headers=solver).get_json()
    assert after["agreement_accepted"] is False and "description" not in after
    assert [c["name"] for c in after["criteria"]] == ["Noise", "Power"]  # public, already amended
    assert any("Power consumption now counts." in m.body_text for m in outbox(app))
    notes = client.get("/api/v1/me/notifications", headers=solver).get_json()["items"]
    assert notes[0]["kind"] == "challenge_amended" and "accept its agreement again" in notes[0]["text"]
    new_version = client.get(f"/api/v1/challenges/{challenge_id}/agreement").get_json()["version"]
    assert new_version != version
    client.post(
        f"/api/v1/challenges/{challenge_id}/agreement", headers=solver, json={"version": new_version, "accept": True}
    )
    assert [
        c["name"] for c in client.get(f"/api/v1/challenges/{challenge_id}", headers=solver).get_json()["criteria"]
    ] == ["Noise", "Power"]


# --- deadlines -------------------------------------------------------------------------------


def test_deadline_closes_lazily_on_read_and_by_command(app, center, client):
    from datetime import UTC, datetime, timedelta

    from marketplace.challenges.models import Challenge

    first, second = center.open_challenge(), center.open_challenge()
    with app.app_context():
        for challenge in db.session.scalars(db.select(Challenge)):
            challenge.deadline = datetime.now(UTC) - timedelta(minutes=1)
        db.session.commit()
    assert client.get(f"/api/v1/challenges/{first}").get_json()["status"] == "closed"
    result = app.test_cli_runner().invoke(args=["challenges", "close-due"])
    assert result.exit_code == 0 and f"{second}" in result.output
    assert client.get(f"/api/v1/challenges/{second}").get_json()["status"] == "closed"
    assert client.get("/api/v1/challenges").get_json()["total"] == 0


def test_deadline_without_offset_is_read_in_the_authors_time_zone(app, center, client):
    from marketplace.accounts.models import User

    with app.app_context():
        user = db.session.get(User, center.manager_user.id)
        user.timezone = "Asia/Shanghai"
        db.session.commit()
    created = center.create(deadline="2031-03-01T18:00:00").get_json()
    assert created["deadline"] == "2031-03-01T10:00:00+00:00"


# --- Q&A -----------------------------------------------------------------------------------------


def test_questions_are_public_once_answered(app, center, solver, client, make_user, api_token):
    challenge_id = center.open_challenge()
    asked = client.post(
        f"/api/v1/challenges/{challenge_id}/questions", headers=solver, json={"text": "Which process node?"}
    )
    assert asked.status_code == 201
    assert client.get(f"/api/v1/challenges/{challenge_id}/questions").get_json()["total"] == 0
    assert client.get(f"/api/v1/challenges/{challenge_id}/questions", headers=center.manager).get_json()["total"] == 1
    other = api_token(make_user())
    question_id = asked.get_json()["id"]
    assert (
        client.post(f"/api/v1/questions/{question_id}/answer", headers=other, json={"answer": "x"}).status_code == 404
    )
    answered = client.post(f"/api/v1/questions/{question_id}/answer", headers=center.manager, json={"answer": "28 nm"})
    assert answered.status_code == 200
    items = client.get(f"/api/v1/challenges/{challenge_id}/questions").get_json()["items"]
    assert [(q["text"], q["answer"]) for q in items] == [("Which process node?", "28 nm")]
    assert any("28 nm" in mail.body_text for mail in outbox(app))
    inbox = client.get("/api/v1/me/notifications", headers=solver).get_json()["items"]
    assert [(n["kind"], n["link"]) for n in inbox] == [("question_answered", f"/challenges/{challenge_id}#questions")]
    assert "clarification" in inbox[0]["text"]


# --- programs ----------------------------------------------------------------------------------


def test_program_composition_and_its_privacy(center, other_center, solver, client):
    program = client.post(
        "/api/v1/programs",
        headers=center.manager,
        json={
            "organization": "sh-icc",
            "title": "Classified sensor module",
            "objective": "...",
            "classification": "classified",
            "requirements": [
                {"code": "R1", "text": "Readout noise"},
                {"code": "R2", "text": "Packaging"},
                {"code": "R3", "text": "Calibration"},
            ],
        },
    )
    assert program.status_code == 201
    program_id = program.get_json()["id"]
    first = center.create(program_id=program_id, requirement_codes=["R1"]).get_json()["id"]
    center.create(program_id=program_id, requirement_codes=["R1", "R2"])
    composition = client.get(f"/api/v1/programs/{program_id}/composition", headers=center.manager).get_json()
    by_code = {item["requirement"]["code"]: item for item in composition["requirements"]}
    assert [c["id"] for c in by_code["R1"]["challenges"]][0] == first
    assert len(by_code["R1"]["challenges"]) == 2 and by_code["R3"]["uncovered"] is True
    assert composition["complete"] is False
    for headers in (solver, other_center.manager, {}):
        assert client.get(f"/api/v1/programs/{program_id}", headers=headers).status_code in (401, 404)
        assert client.get(f"/api/v1/programs/{program_id}/composition", headers=headers).status_code in (401, 404)
    unknown = center.create(program_id=program_id, requirement_codes=["R9"])
    assert unknown.status_code == 422


def test_program_input_is_validated(app, center, client):
    duplicate = client.post(
        "/api/v1/programs",
        headers=center.manager,
        json={
            "organization": "sh-icc",
            "title": "P",
            "classification": "unclassified",
            "requirements": [{"code": "R1", "text": "a"}, {"code": "R1", "text": "b"}],
        },
    )
    assert duplicate.status_code == 422
    bad_class = client.post(
        "/api/v1/programs",
        headers=center.manager,
        json={"organization": "sh-icc", "title": "P", "classification": "top"},
    )
    assert bad_class.status_code == 422
    assert rows(app, "programs") == 0 and rows(app, "program_requirements") == 0


def test_a_challenge_past_its_deadline_leaves_the_list_before_it_is_closed(app, center, client):
    from datetime import UTC, datetime, timedelta

    from marketplace.challenges.models import Challenge

    expired, current = center.open_challenge(), center.open_challenge()
    with app.app_context():
        db.session.get(Challenge, expired).deadline = datetime.now(UTC) - timedelta(minutes=1)
        db.session.commit()
    assert [i["id"] for i in client.get("/api/v1/challenges").get_json()["items"]] == [current]
    assert [i["id"] for i in client.get("/api/v1/challenges?q=readout").get_json()["items"]] == [current]
