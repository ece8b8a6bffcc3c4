"""An internal reviewer (reviewer role in the center) never sees authors through the ordinary proposal
and challenge endpoints, nor the center's classified programs."""

from __future__ import annotations

from tests.factories import FX, RATES, Center
from tests.proposals.test_api_proposals import accept, create


def test_internal_reviewer_gets_404_on_proposals_and_programs(client, make_org, make_user, api_token):
    admin = api_token(make_user(roles=[("admin", None)]))
    client.put("/api/v1/benchmark-rates", json=RATES, headers=admin)
    client.put("/api/v1/fx-rates", json=FX, headers=admin)
    center = Center(client, make_org, make_user, api_token, "sh-icc")
    program = client.post("/api/v1/programs", headers=center.manager, json={
        "organization": "sh-icc", "title": "Classified module", "classification": "classified",
        "requirements": [{"code": "R1", "text": "Noise"}]}).get_json()["id"]
    challenge_id = center.open_challenge()
    solver = api_token(make_user(name="Ada Author"))
    accept(client, challenge_id, solver)
    proposal_id = create(client, challenge_id, solver).get_json()["id"]
    client.post(f"/api/v1/proposals/{proposal_id}/submit", headers=solver)
    reviewer = api_token(make_user(roles=[("reviewer", center.org)]))
    assert client.get(f"/api/v1/proposals/{proposal_id}", headers=reviewer).status_code == 404
    assert client.get(f"/api/v1/challenges/{challenge_id}/proposals", headers=reviewer).status_code == 404
    assert client.get(f"/api/v1/programs/{program}", headers=reviewer).status_code == 404
    seen = client.get(f"/api/v1/proposals/{proposal_id}", headers=center.manager)
    assert seen.status_code == 200 and seen.get_json()["id"] == proposal_id  # the center's staff do see it
    body = client.get(f"/api/v1/proposals/{proposal_id}", headers=reviewer).get_data(as_text=True)
    assert "Ada Author" not in body and "Classified module" not in body  # a 404 reveals neither author nor program
