"""Where each proposal stands for its authors, on "My dashboard" and in GET /me/proposals."""

from __future__ import annotations

from marketplace.extensions import db
from tests.helpers import text_of


def _proposal(app, challenge, author, status="submitted") -> int:
    from marketplace.proposals.models import Proposal

    with app.app_context():
        proposal = Proposal(challenge_id=challenge.id, lead_id=author.id, status=status, title=f"{status} one",
                            locale="en", version=1)
        db.session.add(proposal)
        db.session.commit()
        return proposal.id


def _set_status(app, challenge, status: str) -> None:
    from marketplace.challenges.models import Challenge

    with app.app_context():
        db.session.get(Challenge, challenge.id).status = status
        db.session.commit()


def _journeys(world, user) -> dict[int, dict]:
    return {p["id"]: p["journey"] for p in world.get("/me/proposals", user).get_json()["items"]}


def test_each_proposal_says_where_it_stands(app, world, login):
    decided = world.challenge(status="cleared")
    world.fund_by_wire(decided)
    winner, other = world.solver("DE"), world.solver("FR")
    [award_id] = world.ready_award(decided, [([winner], "100")])
    lost = _proposal(app, decided, other)
    open_one = world.challenge(status="open")
    judging = world.challenge(status="open")
    draft = _proposal(app, open_one, other, status="draft")
    waiting = _proposal(app, judging, other)
    _set_status(app, judging, "judging")

    assert _journeys(world, other) == {lost: {"state": "not_awarded", "award": None},
                                      draft: {"state": "draft", "award": None},
                                      waiting: {"state": "under_review", "award": None}}
    [(won_id, won)] = _journeys(world, winner).items()
    assert won["state"] == "awarded" and won["award"]["currency"] == decided.award_currency

    assert world.post(f"/awards/{award_id}/release", world.finance_a).status_code == 200
    assert world.post(f"/awards/{award_id}/approve", world.finance_b).status_code == 200
    assert world.post(f"/awards/{award_id}/payout-confirmation", world.finance_a,
                      json={"reference": "BOC-1"}).status_code == 200
    assert _journeys(world, winner)[won_id]["state"] == "paid"

    page = login(other).get("/me/dashboard?lang=en")
    text = text_of(page)
    assert "Not awarded" in text and "Under review" in text and "Draft" in text
    assert f'/proposals/{lost}#feedback' in page.get_data(as_text=True)
