"""The classification gate on open results and follow-on challenges (issue #10, defect 2).

A result's public text is screened when it is published and when a published result is edited;
a follow-on challenge is a draft that the clearance request screens, including the inherited
program's requirement codes.
"""

from __future__ import annotations

import pytest

from marketplace.audit.models import AuditEntry
from marketplace.extensions import db


@pytest.fixture
def awarded(world, app):
    """An awarded challenge of a classified program with requirement R1."""
    challenge = world.challenge(program_id=world.classified_program(), requirement_codes=["R1"])
    world.award(challenge, [(world.propose(challenge, world.solver("DE")), "100")])
    return challenge


def draft_result(client, headers, challenge_id: int, abstract: str) -> int:
    created = client.post(f"/api/v1/challenges/{challenge_id}/results", headers=headers, json={
        "title": {"en": "Chopper readout"}, "abstract": {"en": abstract}})
    assert created.status_code == 201, created.get_json()
    return created.get_json()["id"]


def public_abstract(client, result_id: int):
    response = client.get(f"/api/v1/results/{result_id}")
    return response.get_json()["abstract"] if response.status_code == 200 else None


@pytest.mark.parametrize(("abstract", "span"), [
    ("Reaches 1.8 nV/√Hz on the S.E.C.R.E.T line.", "S.E.C.R.E.T"),
    ("达到 1.8 nV/√Hz（机 密）。", "机 密"),
    ("Covers requirement R1 fully.", "R1"),
])
def test_a_result_summary_with_a_marker_or_code_is_not_published(client, world, api_token, awarded, abstract, span):
    manager = api_token(world.manager)
    result_id = draft_result(client, manager, awarded.id, abstract)
    refused = client.post(f"/api/v1/results/{result_id}/publish", headers=manager)
    assert refused.status_code == 422 and span in " ".join(refused.get_json()["errors"]["abstract"])
    assert public_abstract(client, result_id) is None  # still a draft, invisible to the public


def test_editing_a_published_result_is_screened_too(app, client, world, api_token, awarded):
    manager = api_token(world.manager)
    result_id = draft_result(client, manager, awarded.id, "Reaches 1.8 nV/√Hz.")
    assert client.post(f"/api/v1/results/{result_id}/publish", headers=manager).status_code == 200
    refused = client.patch(f"/api/v1/results/{result_id}", headers=manager,
                           json={"abstract": {"en": "Reaches 1.8 nV/√Hz; TOP SECRET details withheld."}})
    assert refused.status_code == 422
    assert public_abstract(client, result_id) == "Reaches 1.8 nV/√Hz."

    warned = client.patch(f"/api/v1/results/{result_id}", headers=manager,
                          json={"abstract": {"en": "Reaches 1.8 nV/√Hz; the trick is no secret."}})
    assert warned.status_code == 200
    assert public_abstract(client, result_id) == "Reaches 1.8 nV/√Hz; the trick is no secret."
    with app.app_context():
        entry = db.session.scalars(db.select(AuditEntry).filter_by(action="result.edited", entity_id=result_id)
                                   .order_by(AuditEntry.id.desc())).first()
        assert [w["span"] for w in entry.data["marker_warnings"]] == ["secret"]


def test_a_follow_on_is_screened_with_the_inherited_requirement_codes(client, world, api_token, awarded):
    manager = api_token(world.manager)
    result_id = draft_result(client, manager, awarded.id, "Reaches 1.8 nV/√Hz.")
    assert client.post(f"/api/v1/results/{result_id}/publish", headers=manager).status_code == 200
    started = client.post(f"/api/v1/results/{result_id}/follow-ons", headers=manager, json={
        "description": {"en": "Second round for requirement R1, see C.O.N.F.I.D.E.N.T.I.A.L annex."}})
    assert started.status_code == 201
    follow_on_id = started.get_json()["id"]
    refused = client.post(f"/api/v1/challenges/{follow_on_id}/clearance-request", headers=manager)
    assert refused.status_code == 422
    said = " ".join(refused.get_json()["errors"]["description"])
    assert "C.O.N.F.I.D.E.N.T.I.A.L" in said and "R1" in said
    assert client.get(f"/api/v1/challenges/{follow_on_id}", headers=manager).get_json()["status"] == "draft"
