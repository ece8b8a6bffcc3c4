"""Follow-on challenges: started from a published result, linked both ways, cleared like any other challenge."""

from __future__ import annotations

import pytest

from tests.helpers import rows


@pytest.fixture
def published(world, client, api_token, app):
    """A published result of a challenge that belongs to a classified program (requirement R1)."""
    program_id = world.classified_program()
    challenge = world.challenge(program_id=program_id, requirement_codes=["R1"])
    anna = world.solver("DE", name="Anna Schmidt")
    world.award(challenge, [(world.propose(challenge, anna), "100")])
    created = client.post(f"/api/v1/challenges/{challenge.id}/results", headers=api_token(world.manager), json={
        "title": {"en": "Chopper readout", "zh_Hans": "斩波读出"},
        "abstract": {"en": "Reaches 1.8 nV/√Hz.", "zh_Hans": "达到 1.8 nV/√Hz。"}})
    result_id = created.get_json()["id"]
    assert client.post(f"/api/v1/results/{result_id}/publish", headers=api_token(world.manager)).status_code == 200
    return {"challenge": challenge, "result_id": result_id, "program_id": program_id}


def test_a_follow_on_is_a_prefilled_draft_linked_both_ways(client, world, api_token, published):
    manager = api_token(world.manager)
    result_id = published["result_id"]
    started = client.post(f"/api/v1/results/{result_id}/follow-ons", json={}, headers=manager)
    assert started.status_code == 201, started.get_json()
    follow_on = started.get_json()
    assert follow_on["status"] == "draft"
    assert follow_on["follow_on_of"] == {"result_id": result_id, "challenge_id": published["challenge"].id}
    assert follow_on["texts"]["title"] == {"en": "Second round: Chopper readout", "zh_Hans": follow_on["texts"][
        "title"]["zh_Hans"]}
    assert "斩波读出" in follow_on["texts"]["title"]["zh_Hans"]
    assert f"http://localhost/results/{result_id}" in follow_on["texts"]["description"]["en"]
    assert follow_on["award"]["currency"] == published["challenge"].award_currency

    # It is a draft: not public, not publishable before clearance.
    assert client.get(f"/api/v1/challenges/{follow_on['id']}").status_code == 404
    publish = client.post(f"/api/v1/challenges/{follow_on['id']}/publish", headers=manager)
    assert publish.status_code == 409
    # The result lists it for its center, not for the public while it is a draft.
    assert [c["id"] for c in client.get(f"/api/v1/results/{result_id}", headers=manager).get_json()[
        "follow_ons"]] == [follow_on["id"]]
    assert client.get(f"/api/v1/results/{result_id}/follow-ons").get_json()["items"] == []

    # It inherits the classified program and its requirement: the composition view shows the chain.
    composition = client.get(f"/api/v1/programs/{published['program_id']}/composition", headers=manager).get_json()
    assert composition["follow_on_chain"] == [{"from_challenge_id": published["challenge"].id,
                                               "result_id": result_id, "to_challenge_id": follow_on["id"]}]
    [requirement] = composition["requirements"]
    assert [c["id"] for c in requirement["challenges"]] == [published["challenge"].id, follow_on["id"]]


def test_a_follow_on_goes_through_clearance_before_it_is_public(client, world, api_token, published):
    manager, officer = api_token(world.manager), api_token(world.officer)
    # A classification marker slipped into the prefilled text: clearance refuses it (422 naming the marker).
    started = client.post(f"/api/v1/results/{published['result_id']}/follow-ons", headers=manager, json={
        "description": {"en": "Integrate with the SECRET inspection line."}})
    follow_on_id = started.get_json()["id"]
    refused = client.post(f"/api/v1/challenges/{follow_on_id}/clearance-request", headers=manager)
    assert refused.status_code == 422 and "SECRET" in str(refused.get_json()["errors"])
    client.patch(f"/api/v1/challenges/{follow_on_id}", headers=manager,
                 json={"description": {"en": "Integrate with an inspection line."}})
    assert client.post(f"/api/v1/challenges/{follow_on_id}/clearance-request", headers=manager).status_code == 200
    cleared = client.post(f"/api/v1/challenges/{follow_on_id}/clearance", headers=officer,
                          json={"decision": "approve", "note": "Nothing classified."})
    assert cleared.get_json()["status"] == "cleared"


def test_only_managers_start_follow_ons_and_only_from_published_results(client, world, api_token, published, app):
    assert client.post(f"/api/v1/results/{published['result_id']}/follow-ons", json={},
                       headers=api_token(world.officer)).status_code == 403
    outsider = world.solver("DE")
    assert client.post(f"/api/v1/results/{published['result_id']}/follow-ons", json={},
                       headers=api_token(outsider)).status_code == 403
    client.post(f"/api/v1/results/{published['result_id']}/withdraw", json={"reason": "Embargo."},
                headers=api_token(world.manager))
    assert client.post(f"/api/v1/results/{published['result_id']}/follow-ons", json={},
                       headers=api_token(world.manager)).status_code == 409
    assert rows(app, "result_follow_ons") == 0


def test_the_follow_on_button_drafts_and_opens_the_editor(world, published, browser):
    from tests.helpers import csrf_token_from

    user_client = browser(world.manager)
    page = user_client.get(f"/results/{published['result_id']}")
    assert "Start a follow-on challenge" in page.get_data(as_text=True)
    response = user_client.post(f"/staff/results/{published['result_id']}/follow-on",
                            data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 302 and "/staff/challenges/" in response.headers["Location"]
    assert user_client.get(response.headers["Location"]).status_code == 200
