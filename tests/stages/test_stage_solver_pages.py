"""What solvers, reviewers and the public see of stages: the timeline on the challenge page, the finalist's
"start from" button and the non-finalist's reason, the stage on proposal pages, the earlier stage shown blind to
reviewers (page and API), and how far each open result went (page and API)."""

from __future__ import annotations

import re

from sqlalchemy import select

from marketplace.extensions import db
from tests.factories import sign_in, token
from tests.helpers import csrf_token_from
from tests.stages.conftest import in_days, stage_ids


def _api(client, app, api_token, user_id, method, url, **kwargs):
    return getattr(client, method)(url, headers=token(app, api_token, user_id), **kwargs)


def _advance_first(client, app, api_token, world):
    """Stage 1 decided: thermal and gas go on, sharing the milestone pool."""
    first = stage_ids(app, world.challenge_id)[0]
    thermal, gas = world.proposals["thermal"], world.proposals["gas"]
    response = _api(client, app, api_token, world.manager_id, "post",
                    f"/api/v1/challenges/{world.challenge_id}/stages/{first}/advance",
                    json={"finalists": [thermal, gas], "awards": [{"proposal_id": thermal, "share_pct": "60"},
                                                                 {"proposal_id": gas, "share_pct": "40"}]})
    assert response.status_code == 201, response.get_json()


def _sign_in(client, app, user_id):
    """The world keeps ids: sign in by the user's id."""
    from marketplace.accounts.models import User

    with app.app_context():
        email = db.session.get(User, user_id).email
    response = sign_in(client, email)
    assert response.status_code == 302, response.data
    return client


def _proposals_in(app, challenge_id: int, stage_id: int) -> list:
    from marketplace.proposals.models import Proposal

    with app.app_context():
        return db.session.execute(select(Proposal.id, Proposal.lead_id, Proposal.previous_proposal_id).where(
            Proposal.challenge_id == challenge_id, Proposal.stage_id == stage_id)).all()


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


# --- the public timeline ---------------------------------------------------------------------------------

def test_the_challenge_page_shows_the_stages_as_an_ordered_timeline_with_the_finalists_note(app, client,
                                                                                          api_token, staged):
    world = staged
    _advance_first(client, app, api_token, world)
    page = client.get(f"/challenges/{world.challenge_id}")
    assert page.status_code == 200
    html = _text(page)
    timeline = html[html.index('<ol class="st-timeline">'):]
    timeline = timeline[:timeline.index("</ol>")]
    # Three stages in order, with the status word, deadlines, how many go on and the awards.
    assert [timeline.index(n) for n in ("Concept", "Prototype", "Pilot")] == sorted(
        timeline.index(n) for n in ("Concept", "Prototype", "Pilot"))
    assert timeline.count("<li ") == 3
    assert "Finished" in timeline and "Open for proposals" in timeline and "Upcoming" in timeline
    assert timeline.count('aria-current="step"') == 1
    assert "2 proposals advanced" in timeline and "Up to 1 proposal" in timeline
    assert "Milestone award" in timeline and "Final award" in timeline
    assert "3,000.00" in timeline  # the stage 1 pool, in the viewer's number format
    assert "A working prototype with data." in timeline
    assert timeline.count("<time datetime=") == 3
    assert "Stage 2 of 3: only the finalists of stage 1 can take part." in html

    # In Chinese the stage names and the status words are translated too.
    chinese = _text(client.get(f"/challenges/{world.challenge_id}?lang=zh_Hans"))
    assert "概念" in chinese and "原型" in chinese


def test_a_one_stage_challenge_has_no_timeline(app, client, build_world):
    world = build_world(close=False)
    html = _text(client.get(f"/challenges/{world.challenge_id}"))
    assert "st-timeline" not in html and "only the finalists" not in html


# --- finalists and the others ----------------------------------------------------------------------------

def test_a_finalist_starts_the_next_stage_from_the_proposal_that_advanced(app, client, api_token, staged):
    from marketplace.audit.models import AuditEntry

    world = staged
    _advance_first(client, app, api_token, world)
    second = stage_ids(app, world.challenge_id)[1]
    thermal = world.proposals["thermal"]
    _sign_in(client, app, world.solvers["thermal"])

    page = client.get(f"/challenges/{world.challenge_id}")
    html = _text(page)
    assert "Start your stage 2 proposal from your stage 1 proposal" in html
    assert f'name="from_proposal_id" value="{thermal}"' in html
    assert "You cannot take part" not in html
    # The same button on the dashboard and on the proposal that advanced, which says it advanced.
    assert "Start your stage 2 proposal" in _text(client.get("/me/dashboard"))
    earlier_page = _text(client.get(f"/proposals/{thermal}"))
    assert "Stage 1 of 3:" in earlier_page and "Advanced to stage 2" in earlier_page
    assert "Start your stage 2 proposal" in earlier_page

    response = client.post(f"/challenges/{world.challenge_id}/proposals/new",
                           data={"csrf_token": csrf_token_from(page), "from_proposal_id": thermal})
    assert response.status_code == 302, response.data
    (created,) = _proposals_in(app, world.challenge_id, second)
    assert created.lead_id == world.solvers["thermal"] and created.previous_proposal_id == thermal
    assert response.headers["Location"].endswith(f"/proposals/{created.id}")
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "proposal.created",
                                                           AuditEntry.entity_id == created.id))
        assert entry.actor_id == world.solvers["thermal"] and entry.data["from_proposal"] == thermal

    new_page = _text(client.get(f"/proposals/{created.id}"))
    assert "Stage 2 of 3:" in new_page and "Prototype" in new_page and "Advanced to stage" not in new_page
    assert f'href="/proposals/{thermal}">Started from your stage 1 proposal' in new_page
    # Once started, the button gives way to the proposal itself.
    after = _text(client.get(f"/challenges/{world.challenge_id}"))
    assert "Start your stage 2 proposal" not in after and "Open my proposal" in after
    assert "Start your stage 2 proposal" not in _text(client.get("/me/dashboard"))

    # Pressing the button twice makes no second proposal: a clear refusal, not a 500.
    again = client.post(f"/challenges/{world.challenge_id}/proposals/new",
                        data={"csrf_token": csrf_token_from(page), "from_proposal_id": thermal})
    assert again.status_code == 409
    assert len(_proposals_in(app, world.challenge_id, second)) == 1


def test_a_non_finalist_sees_why_and_cannot_start_from_any_proposal(app, client, api_token, staged):
    world = staged
    _advance_first(client, app, api_token, world)
    second = stage_ids(app, world.challenge_id)[1]
    _sign_in(client, app, world.solvers["readout"])
    page = client.get(f"/challenges/{world.challenge_id}")
    html = _text(page)
    assert "Only the finalists of the previous stage can take part in this stage." in html
    assert "Start your stage 2 proposal" not in html and "Write a proposal" not in html
    assert "Advanced to stage" not in _text(client.get(f"/proposals/{world.proposals['readout']}"))

    for earlier in (world.proposals["readout"], world.proposals["thermal"]):
        refused = client.post(f"/challenges/{world.challenge_id}/proposals/new",
                              data={"csrf_token": csrf_token_from(page), "from_proposal_id": earlier})
        assert refused.status_code == 403
        assert "Only the finalists" in _text(refused)
    assert _proposals_in(app, world.challenge_id, second) == []


def test_a_finalist_cannot_start_from_someone_elses_proposal(app, client, api_token, staged):
    world = staged
    _advance_first(client, app, api_token, world)
    second = stage_ids(app, world.challenge_id)[1]
    _sign_in(client, app, world.solvers["gas"])
    page = client.get(f"/challenges/{world.challenge_id}")
    for bad in (world.proposals["thermal"], "not-a-number", "", 10**9, 10**30):
        refused = client.post(f"/challenges/{world.challenge_id}/proposals/new",
                              data={"csrf_token": csrf_token_from(page), "from_proposal_id": bad})
        assert refused.status_code == 422, bad
        assert "Start from your own proposal that advanced from the previous stage." in _text(refused)
    assert _proposals_in(app, world.challenge_id, second) == []


# --- reviewers of a later stage ----------------------------------------------------------------------------

def _second_stage_under_review(client, app, api_token, world):
    """Both finalists carry on and submit; stage 2 closes and is assigned. Returns {topic: proposal id}."""
    from marketplace.challenges import services as challenges
    from tests.factories import assign

    _advance_first(client, app, api_token, world)
    created = {}
    for topic in ("thermal", "gas"):
        response = _api(client, app, api_token, world.solvers[topic], "post",
                        f"/api/v1/challenges/{world.challenge_id}/proposals",
                        json={"title": f"{topic} prototype", "from_proposal_id": world.proposals[topic]})
        assert response.status_code == 201, response.get_json()
        created[topic] = response.get_json()["id"]
        assert _api(client, app, api_token, world.solvers[topic], "post",
                    f"/api/v1/proposals/{created[topic]}/submit").status_code in (200, 201)
    with world.ctx():
        challenges.close(world.challenge(), world.user(world.manager_id))
        db.session.commit()
    assign(world, per_proposal=2, max_per_reviewer=4)
    return created


def _a_review_of(app, proposal_id: int):
    from marketplace.reviews.models import Review

    with app.app_context():
        review = db.session.scalars(select(Review).where(Review.proposal_id == proposal_id,
                                                         Review.status != "released")).first()
        return review.id, review.reviewer_id


def test_reviewers_of_a_later_stage_see_the_earlier_proposal_and_its_mean_scores_blind(app, client, api_token,
                                                                                      staged):
    world = staged
    created = _second_stage_under_review(client, app, api_token, world)
    review_id, reviewer_id = _a_review_of(app, created["thermal"])

    detail = _api(client, app, api_token, reviewer_id, "get", f"/api/v1/reviews/{review_id}")
    assert detail.status_code == 200, detail.get_json()
    earlier = detail.get_json()["earlier_stage"]
    assert earlier["stage"] == {"position": 1, "name": "Concept"}
    assert [(c["name"], c["mean"]) for c in earlier["criteria"]] == [("Novelty", 8.0), ("Feasibility", 8.0)]
    assert earlier["score"] == 8.0 and earlier["reviews"] >= 1
    assert earlier["proposal"]["title"]
    flat = str(earlier)
    assert "Bruno" not in flat and "usp.example" not in flat and "proposal_id" not in flat

    _sign_in(client, app, reviewer_id)
    html = _text(client.get(f"/reviews/{review_id}"))
    assert "The same authors&#39; proposal in stage 1 (Concept)" in html or \
        "The same authors' proposal in stage 1 (Concept)" in html
    assert "Mean scores in stage 1" in html and "8.0" in html
    assert "Bruno Costa" not in html and "bruno.costa@usp.example" not in html


def test_a_first_stage_review_has_no_earlier_stage(app, client, api_token, staged):
    world = staged
    review_id, reviewer_id = _a_review_of(app, world.proposals["thermal"])
    detail = _api(client, app, api_token, reviewer_id, "get", f"/api/v1/reviews/{review_id}")
    assert detail.status_code == 200 and detail.get_json()["earlier_stage"] is None


# --- open results ----------------------------------------------------------------------------------------

def _two_stages():
    criterion = {"name": {"en": "Merit"}, "weight": 100}
    return [{"name": {"en": "Concept"}, "deadline": in_days(30), "advance": 2, "criteria": [criterion],
             "award": {"amount": "1000.00", "currency": "CNY"}},
            {"name": {"en": "Prototype"}, "deadline": in_days(60), "criteria": [criterion]}]


def test_open_results_say_which_stage_their_winners_reached(app, client, api_token, build_world):
    from marketplace.results.models import ResultRecord, WinnerConsent
    from marketplace.stages.readers import stages_reached
    from tests.factories import add_pool, assign, review_all

    world = build_world(challenge_overrides={"stages": _two_stages()})
    add_pool(world)
    assign(world, per_proposal=2, max_per_reviewer=4)
    by_proposal = {world.proposals["thermal"]: 8, world.proposals["gas"]: 7}
    review_all(world, {name: (lambda r: by_proposal.get(r.proposal_id, 4)) for name in world.reviewers})
    created = _second_stage_under_review(client, app, api_token, world)
    from tests.stages.test_stages_api import _review_current_stage

    _review_current_stage(world, lambda pid: 9)
    decided = _api(client, app, api_token, world.manager_id, "post", f"/api/v1/challenges/{world.challenge_id}/awards",
                   json={"awards": [{"proposal_id": created["gas"], "share_pct": 100}]})
    assert decided.status_code == 201, decided.get_json()
    result = _api(client, app, api_token, world.manager_id, "post", f"/api/v1/challenges/{world.challenge_id}/results",
                  json={"title": {"en": "A staged result"}, "abstract": {"en": "What the finalists built."}})
    assert result.status_code == 201, result.get_json()
    result_id = result.get_json()["id"]
    assert _api(client, app, api_token, world.manager_id, "post",
                f"/api/v1/results/{result_id}/publish").status_code == 200

    final = {"position": 2, "of": 2, "final": True, "label": "Final award"}
    assert client.get(f"/api/v1/results/{result_id}").get_json()["stage_reached"] == final
    listed = client.get("/api/v1/results").get_json()["items"]
    assert next(i for i in listed if i["id"] == result_id)["stage_reached"] == final
    assert "Final award" in _text(client.get(f"/results/{result_id}"))

    # Winners who only took a milestone award went as far as the stage their proposal reached.
    with app.app_context():
        record = db.session.get(ResultRecord, result_id)
        for winner in db.session.scalars(select(WinnerConsent).where(WinnerConsent.result_id == result_id)):
            if winner.user_id == world.solvers["gas"]:
                db.session.delete(winner)
        db.session.flush()
        with app.test_request_context():
            reached = stages_reached([record])[result_id]
        db.session.rollback()
    assert reached == {"position": 2, "of": 2, "final": False, "label": "Reached stage 2 of 2"}


def test_a_one_stage_result_has_no_stage_reached(app, build_world):
    from types import SimpleNamespace

    from marketplace.stages.readers import stages_reached

    world = build_world()
    with world.ctx():
        assert stages_reached([SimpleNamespace(id=7, challenge_id=world.challenge_id)]) == {7: None}
