"""The classification gate on every path that makes a challenge's text public (issue #10, defect 2).

Each side path that used to publish unscreened text is refused with 422 naming marker, field and span,
and nothing is published; warnings reach the clearing officer, who must acknowledge them.
"""

from __future__ import annotations

import pytest

from marketplace.audit.models import AuditEntry
from marketplace.extensions import db
from tests.helpers import post_form, text_of


def audit_data(app, action: str, challenge_id: int) -> list[dict]:
    with app.app_context():
        return [e.data for e in db.session.scalars(db.select(AuditEntry).filter_by(
            entity_type="challenge", entity_id=challenge_id, action=action).order_by(AuditEntry.id))]


def messages(response, field: str) -> str:
    return " ".join(response.get_json()["errors"][field])


def detail(center, challenge_id: int) -> dict:
    return center.client.get(f"/api/v1/challenges/{challenge_id}", headers=center.manager).get_json()


# --- the clearance request ---------------------------------------------------------------------------

@pytest.mark.parametrize(("title", "span"), [
    ("Readout for the 机 密 line", "机 密"),
    ("Readout for the 机\u200b密 line", "机\u200b密"),
    ("Readout for the S E C R E T line", "S E C R E T"),
    ("Readout, C.O.N.F.I.D.E.N.T.I.A.L", "C.O.N.F.I.D.E.N.T.I.A.L"),
])
def test_spaced_and_hidden_markers_block_the_request_naming_the_span(center, title, span):
    challenge_id = center.create(title={"en": title, "zh_Hans": "读出电路"}).get_json()["id"]
    refused = center.post(f"/challenges/{challenge_id}/clearance-request", center.manager)
    assert refused.status_code == 422
    assert span in messages(refused, "title") and "(en)" in messages(refused, "title")
    assert detail(center, challenge_id)["status"] == "draft"


def test_a_warning_must_be_acknowledged_by_the_clearing_officer(app, center):
    challenge_id = center.create(summary={"en": "Participation is restricted to EU residents.",
                                          "zh_Hans": "仅限欧盟居民。"}).get_json()["id"]
    requested = center.post(f"/challenges/{challenge_id}/clearance-request", center.manager)
    assert requested.status_code == 200
    [warning] = requested.get_json()["clearance_warnings"]
    assert (warning["marker"], warning["field"], warning["span"], warning["severity"]) == (
        "RESTRICTED", "summary", "restricted", "warn")

    unacknowledged = center.post(f"/challenges/{challenge_id}/clearance", center.officer,
                                 json={"decision": "approve", "note": "fine"})
    assert unacknowledged.status_code == 422
    assert "restricted" in messages(unacknowledged, "acknowledge_warnings")
    assert detail(center, challenge_id)["status"] == "in_clearance"

    cleared = center.post(f"/challenges/{challenge_id}/clearance", center.officer,
                          json={"decision": "approve", "note": "EU eligibility, not a marking.",
                                "acknowledge_warnings": True})
    assert cleared.status_code == 200 and cleared.get_json()["status"] == "cleared"
    [entry] = audit_data(app, "challenge.cleared", challenge_id)
    assert [w["span"] for w in entry["acknowledged_warnings"]] == ["restricted"]


# --- requirement codes of the program ---------------------------------------------------------------

def test_requirement_codes_stay_internal_unless_the_manager_publishes_them(center):
    program = center.post("/programs", center.manager, json={
        "organization": "sh-icc", "title": "PRJ-2027-14", "objective": "Inspection module.",
        "classification": "classified", "requirements": [{"code": "R1", "text": "Readout noise"}]})
    assert program.status_code == 201, program.get_json()
    criteria = [{"name": {"en": "Meets requirement R1"}, "weight": 100}]
    challenge_id = center.create(program_id=program.get_json()["id"],
                                 requirement_codes=["R1"], criteria=criteria).get_json()["id"]
    refused = center.post(f"/challenges/{challenge_id}/clearance-request", center.manager)
    assert refused.status_code == 422 and "R1" in messages(refused, "criteria")
    assert detail(center, challenge_id)["status"] == "draft"

    chosen = center.client.patch(f"/api/v1/challenges/{challenge_id}", headers=center.manager,
                                 json={"requirement_codes_public": True})
    assert chosen.status_code == 200 and chosen.get_json()["requirement_codes_public"] is True
    assert center.post(f"/challenges/{challenge_id}/clearance-request", center.manager).status_code == 200


# --- after publication: amendments and answers ----------------------------------------------------------

def test_an_amended_criterion_with_a_marker_is_refused_and_nothing_changes(center):
    challenge_id = center.open_challenge()
    refused = center.post(f"/challenges/{challenge_id}/amendments", center.manager, json={
        "note": {"en": "New criteria."},
        "criteria": [{"name": {"en": "TOP SECRET process fit"}, "weight": 100}]})
    assert refused.status_code == 422 and "TOP SECRET" in messages(refused, "criteria")
    assert [c["name"] for c in detail(center, challenge_id)["criteria"]] == ["Noise performance", "Manufacturability"]
    assert center.client.get(f"/api/v1/challenges/{challenge_id}/amendments").get_json()["total"] == 0


def test_an_amendment_note_with_a_marker_is_refused(center):
    challenge_id = center.open_challenge()
    before = detail(center, challenge_id)["award"]
    refused = center.post(f"/challenges/{challenge_id}/amendments", center.manager, json={
        "note": {"en": "Raised after the CONFIDENTIAL review."}, "award": {**before, "amount": "500000.00"}})
    assert refused.status_code == 422 and "CONFIDENTIAL" in messages(refused, "note")
    assert detail(center, challenge_id)["award"] == before
    assert center.client.get(f"/api/v1/challenges/{challenge_id}/amendments").get_json()["total"] == 0


def test_an_amendment_with_a_warning_is_published_and_the_warning_audited(app, center):
    challenge_id = center.open_challenge()
    award = detail(center, challenge_id)["award"]
    done = center.post(f"/challenges/{challenge_id}/amendments", center.manager, json={
        "note": {"en": "Our secret ingredient: a bigger award."}, "award": {**award, "amount": "500000.00"}})
    assert done.status_code == 201
    [entry] = audit_data(app, "challenge.amended", challenge_id)
    assert [(w["marker"], w["field"], w["span"]) for w in entry["marker_warnings"]] == [("SECRET", "note", "secret")]


def test_an_answer_with_a_marker_is_refused_and_stays_unpublished(app, center, client, make_user, api_token):
    challenge_id = center.open_challenge()
    solver = api_token(make_user(country="DE"))
    question_id = client.post(f"/api/v1/challenges/{challenge_id}/questions", headers=solver,
                              json={"text": "Which process node?"}).get_json()["id"]
    refused = client.post(f"/api/v1/questions/{question_id}/answer", headers=center.manager,
                          json={"answer": "The SECRET line runs 28 nm."})
    assert refused.status_code == 422 and "SECRET" in messages(refused, "answer")
    assert client.get(f"/api/v1/challenges/{challenge_id}/questions").get_json()["items"] == []

    answered = client.post(f"/api/v1/questions/{question_id}/answer", headers=center.manager,
                           json={"answer": "28 nm; the process is no secret."})
    assert answered.status_code == 200
    items = client.get(f"/api/v1/challenges/{challenge_id}/questions").get_json()["items"]
    assert [q["answer"] for q in items] == ["28 nm; the process is no secret."]
    [entry] = audit_data(app, "question.answered", challenge_id)
    assert [w["span"] for w in entry["marker_warnings"]] == ["secret"]


def test_the_pages_keep_requirement_codes_out_of_public_text(app, center, browser):
    program_id = center.post("/programs", center.manager, json={
        "organization": "sh-icc", "title": "PRJ-2027-14", "objective": "Inspection module.",
        "classification": "classified", "requirements": [{"code": "R1", "text": "Readout noise"}]}).get_json()["id"]
    manager = browser(center.manager_user)
    # Starting a challenge from the program's composition view no longer writes the code into a criterion.
    new = manager.get(f"/staff/challenges/new?program_id={program_id}&requirement=R1&lang=en")
    assert new.status_code == 200 and "Meets requirement R1" not in new.get_data(as_text=True)

    criteria = [{"name": {"en": "Covers R1"}, "weight": 100}]
    challenge_id = center.create(program_id=program_id, requirement_codes=["R1"], criteria=criteria).get_json()["id"]
    manage_url = f"/staff/challenges/{challenge_id}"
    refused = post_form(manager, f"{manage_url}/clearance-request", {}, page=manage_url)
    assert refused.status_code == 422 and "Internal requirement code \"R1\"" in text_of(refused)
    assert detail(center, challenge_id)["status"] == "draft"
