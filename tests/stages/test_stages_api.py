"""Multi-stage challenges through the API: authoring, down-selection with milestone awards, finalist-only later
stages, the final decision on the last stage, and every bad input answered with a clear 4xx and nothing written."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from marketplace.extensions import db
from tests.factories import token
from tests.helpers import rows
from tests.stages.conftest import in_days, stage_ids, three_stages


def _api(client, app, api_token, user_id, method, url, **kwargs):
    return getattr(client, method)(url, headers=token(app, api_token, user_id), **kwargs)


def _body(**changes) -> dict:
    from tests.factories import challenge_body

    stages = [{**s, "deadline": s["deadline"].isoformat()} for s in three_stages()]
    body = challenge_body("org", stages=stages)
    body.pop("deadline"), body.pop("criteria")
    body.update(changes)
    return body


def _advance(client, app, api_token, world, stage_id, **body):
    return _api(client, app, api_token, world.manager_id, "post",
                f"/api/v1/challenges/{world.challenge_id}/stages/{stage_id}/advance", json=body)


# --- authoring ---------------------------------------------------------------------------------------------

def test_a_three_stage_challenge_is_created_with_its_stages_and_the_whole_sum_to_fund(app, client, api_token,
                                                                                     make_org, make_user,
                                                                                     pricing_rates):
    org = make_org("org")
    manager = make_user(roles=[("center_manager", org)])
    response = client.post("/api/v1/challenges", json=_body(organization=org.slug),
                           headers=token(app, api_token, manager.id))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    stages = body["stages"]
    assert [s["position"] for s in stages] == [1, 2, 3]
    assert [s["name"] for s in stages] == ["Concept", "Prototype", "Pilot"]
    assert [s["advance"] for s in stages] == [2, 1, None]
    assert [s["status"] for s in stages] == ["upcoming"] * 3  # a draft: nothing open yet
    assert body["current_stage_id"] == stages[0]["id"]
    assert body["deadline"][:16] == stages[0]["deadline"][:16]  # the current stage's deadline
    assert [c["name"] for c in stages[1]["criteria"]] == ["Measured noise"]
    assert [c["name"] for c in body["criteria"]] == ["Novelty", "Feasibility"]  # the current stage's
    # What must be funded: the milestone pool of stage 1 plus the final award (on the last stage).
    assert stages[0]["award"] == {"amount": "3000.00", "currency": "CNY"}
    final = stages[2]["award"]
    assert final["currency"] == "CNY"
    assert float(body["award"]["amount"]) == float(final["amount"]) + 3000
    listed = client.get(f"/api/v1/challenges/{body['id']}/stages", headers=token(app, api_token, manager.id))
    assert listed.status_code == 200
    assert [s["id"] for s in listed.get_json()["items"]] == [s["id"] for s in stages]


def test_a_challenge_without_stages_has_one_stage_made_of_its_deadline_and_criteria(app, client, api_token,
                                                                                   make_org, make_user,
                                                                                   pricing_rates):
    from tests.factories import challenge_body

    org = make_org("solo")
    manager = make_user(roles=[("center_manager", org)])
    response = client.post("/api/v1/challenges", json=challenge_body(org.slug),
                           headers=token(app, api_token, manager.id))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    (stage,) = body["stages"]
    assert stage["id"] == body["current_stage_id"] and stage["advance"] is None and stage["final"] is True
    assert stage["award"] == body["award"]  # one stage: its award is the whole award
    assert [c["id"] for c in stage["criteria"]] == [c["id"] for c in body["criteria"]]


def test_bad_stage_plans_are_refused_with_the_field_named_and_nothing_written(app, client, api_token, make_org,
                                                                             make_user, pricing_rates):
    from marketplace.challenges.models import Challenge
    from marketplace.stages.models import ChallengeStage

    org = make_org("org")
    manager = make_user(roles=[("center_manager", org)])
    headers = token(app, api_token, manager.id)
    good = _body(organization=org.slug)
    out_of_order = [dict(s) for s in good["stages"]]
    out_of_order[1]["deadline"] = in_days(10).isoformat()
    last_advances = [dict(s) for s in good["stages"]]
    last_advances[2]["advance"] = 1
    no_advance = [dict(s) for s in good["stages"]]
    no_advance[0]["advance"] = None
    other_currency = [dict(s) for s in good["stages"]]
    other_currency[0]["award"] = {"amount": "100.00", "currency": "USD"}
    final_award = [dict(s) for s in good["stages"]]
    final_award[2]["award"] = {"amount": "100.00", "currency": "CNY"}
    bad_weights = [dict(s) for s in good["stages"]]
    bad_weights[1]["criteria"] = [{"name": {"en": "Only"}, "weight": 60}]
    cases = {"stages.1.deadline": out_of_order, "stages.2.advance": last_advances, "stages.0.advance": no_advance,
             "stages.0.award": other_currency, "stages.2.award": final_award, "stages.1.criteria": bad_weights}
    for field, stages in cases.items():
        response = client.post("/api/v1/challenges", json={**good, "stages": stages}, headers=headers)
        assert response.status_code == 422, (field, response.get_json())
        problem = response.get_json()
        assert field in problem["errors"], (field, problem)
        assert response.headers["Content-Type"].startswith("application/problem+json")
    assert rows(app, Challenge) == 0 and rows(app, ChallengeStage) == 0


# --- advancing ----------------------------------------------------------------------------------------------

def test_advancing_picks_finalists_splits_the_milestone_pool_and_opens_the_next_stage(app, client, api_token,
                                                                                      staged):
    from marketplace.awards.models import Award
    from marketplace.challenges.models import Challenge
    from marketplace.mail.models import OutboxMail
    from marketplace.solvers.models import Notification

    world = staged
    first, second, _third = stage_ids(app, world.challenge_id)
    thermal, gas = world.proposals["thermal"], world.proposals["gas"]
    response = _advance(client, app, api_token, world, first, finalists=[thermal, gas],
                        awards=[{"proposal_id": thermal, "share_pct": "60"}, {"proposal_id": gas, "share_pct": "40"}])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["finalists"] == [thermal, gas]
    assert body["stage"]["status"] == "decided" and body["next_stage"]["status"] == "open"
    assert body["next_stage"]["id"] == second
    amounts = {a["proposal_id"]: a["amount"] for a in body["awards"]}
    assert amounts == {thermal: {"amount": "1800.00", "currency": "CNY"}, gas: {"amount": "1200.00", "currency": "CNY"}}

    with app.app_context():
        challenge = db.session.get(Challenge, world.challenge_id)
        assert challenge.status == "open" and challenge.current_stage_id == second
        assert challenge.deadline == challenge.current_stage.deadline
        awards = db.session.scalars(select(Award).where(Award.challenge_id == world.challenge_id)).all()
        assert {a.stage_id for a in awards} == {first} and all(a.decision_id is None for a in awards)
        kinds = {(n.user_id, n.kind) for n in db.session.scalars(select(Notification))}
        mails = [m.template for m in db.session.scalars(select(OutboxMail))]
    assert (world.solvers["thermal"], "stage_advanced") in kinds
    assert (world.solvers["readout"], "stage_not_advanced") in kinds
    assert mails.count("stage_advanced") == 2 and mails.count("stage_not_advanced") == 2

    # The stage is decided: it cannot advance again, and its proposals are read-only.
    again = _advance(client, app, api_token, world, first, finalists=[thermal])
    assert again.status_code == 409
    edit = _api(client, app, api_token, world.solvers["readout"], "patch",
                f"/api/v1/proposals/{world.proposals['readout']}", json={"title": "Changed after the stage"})
    assert edit.status_code == 409
    # Those who did not advance get their feedback now.
    feedback = _api(client, app, api_token, world.solvers["readout"], "get",
                    f"/api/v1/proposals/{world.proposals['readout']}/feedback")
    assert feedback.status_code == 200, feedback.get_json()
    assert [c["name"]["en"] for c in feedback.get_json()["criteria"]] == ["Novelty", "Feasibility"]


def test_bad_advances_are_refused_and_nothing_moves(app, client, api_token, staged):
    from marketplace.awards.models import Award
    from marketplace.challenges.models import Challenge

    world = staged
    first, second, third = stage_ids(app, world.challenge_id)
    thermal, gas, readout = (world.proposals[t] for t in ("thermal", "gas", "readout"))
    cases = [
        (dict(finalists=[thermal, gas, readout]), 422),  # more than the stage's two
        (dict(finalists=[]), 422),
        (dict(finalists=[thermal, thermal]), 422),
        (dict(finalists=[999999]), 422),
        (dict(finalists=[thermal, gas], awards=[{"proposal_id": thermal, "share_pct": "60"},
                                                {"proposal_id": gas, "share_pct": "30"}]), 422),  # 90 %
        (dict(finalists=[thermal], awards=[{"proposal_id": gas, "share_pct": "100"}]), 422),  # not a finalist
    ]
    for body, status in cases:
        response = _advance(client, app, api_token, world, first, **body)
        assert response.status_code == status, (body, response.get_json())
        assert response.get_json()["detail"]
    assert _advance(client, app, api_token, world, second, finalists=[thermal]).status_code == 409  # not current
    assert _advance(client, app, api_token, world, third, finalists=[thermal]).status_code == 409
    solver = _api(client, app, api_token, world.solvers["thermal"], "post",
                  f"/api/v1/challenges/{world.challenge_id}/stages/{first}/advance", json={"finalists": [thermal]})
    assert solver.status_code in (403, 404)
    with app.app_context():
        challenge = db.session.get(Challenge, world.challenge_id)
        assert challenge.current_stage_id == first and challenge.status in ("closed", "judging")
        assert db.session.scalar(select(func.count()).select_from(Award)) == 0


def test_an_open_appeal_blocks_the_advance(app, client, api_token, build_world):
    from tests.factories import add_pool, assign, review_all
    from tests.stages.conftest import three_stages

    world = build_world(challenge_overrides={"stages": three_stages(), "appeals": {"window_days": 3}})
    add_pool(world)
    assign(world, per_proposal=2, max_per_reviewer=4)
    review_all(world)
    first = stage_ids(app, world.challenge_id)[0]
    released = _api(client, app, api_token, world.manager_id, "post",
                    f"/api/v1/challenges/{world.challenge_id}/provisional-scores")
    assert released.status_code == 201, released.get_json()
    appeal = _api(client, app, api_token, world.solvers["gas"], "post",
                  f"/api/v1/proposals/{world.proposals['gas']}/appeals",
                  json={"criterion_id": world.criteria[0], "reason": "Table 2 shows it.", "review": 1})
    assert appeal.status_code == 201, appeal.get_json()
    response = _advance(client, app, api_token, world, first, finalists=[world.proposals["gas"]])
    assert response.status_code == 409
    assert "appeal" in response.get_json()["detail"].lower()


# --- later stages -------------------------------------------------------------------------------------------

def _review_current_stage(world, score_of):
    """Every active review of the current stage scored on the current stage's criteria and submitted."""
    from marketplace.reviews import scoring
    from marketplace.reviews.models import Review

    with world.ctx():
        challenge = world.challenge()
        criteria = [c.id for c in challenge.criteria]
        for review in db.session.scalars(select(Review).where(Review.challenge_id == world.challenge_id,
                                                              Review.status.in_(("assigned", "draft")))).all():
            user = world.user(review.reviewer_id)
            score = score_of(review.proposal_id)
            scoring.save_draft(review, user, {"scores": {str(c): score for c in criteria}, "comment": "Fine.",
                                              "recommendation": "consider"})
            scoring.submit(review, user)
        db.session.commit()


def _next_stage_proposal(client, app, api_token, world, topic, **extra):
    return _api(client, app, api_token, world.solvers[topic], "post",
                f"/api/v1/challenges/{world.challenge_id}/proposals",
                json={"title": f"{topic} for the next stage", "from_proposal_id": world.proposals[topic], **extra})


def test_only_finalists_take_part_later_and_the_last_stage_ends_with_the_award_decision(app, client, api_token,
                                                                                        staged):
    from marketplace.awards.models import Award
    from marketplace.challenges import services as challenges
    from marketplace.challenges.models import Challenge
    from marketplace.proposals.models import Proposal
    from tests.factories import assign

    world = staged
    first, second, third = stage_ids(app, world.challenge_id)
    thermal, gas = world.proposals["thermal"], world.proposals["gas"]
    assert _advance(client, app, api_token, world, first, finalists=[thermal, gas],
                    awards=[{"proposal_id": thermal, "share_pct": "50"},
                            {"proposal_id": gas, "share_pct": "50"}]).status_code == 201

    # Someone who did not advance is refused with the reason; so is starting from someone else's proposal.
    refused = _api(client, app, api_token, world.solvers["readout"], "post",
                   f"/api/v1/challenges/{world.challenge_id}/proposals", json={"title": "Let me in"})
    assert refused.status_code == 403
    assert "finalist" in refused.get_json()["detail"].lower()
    stolen = _api(client, app, api_token, world.solvers["gas"], "post",
                  f"/api/v1/challenges/{world.challenge_id}/proposals",
                  json={"title": "Borrowed", "from_proposal_id": thermal})
    assert stolen.status_code == 422

    created = {}
    for topic in ("thermal", "gas"):
        response = _next_stage_proposal(client, app, api_token, world, topic)
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        assert body["stage_id"] == second and body["previous_proposal_id"] == world.proposals[topic]
        assert body["body"]  # the earlier text carried over
        created[topic] = body["id"]
        submitted = _api(client, app, api_token, world.solvers[topic], "post",
                         f"/api/v1/proposals/{body['id']}/submit")
        assert submitted.status_code in (200, 201), submitted.get_json()

    with world.ctx():
        challenges.close(world.challenge(), world.user(world.manager_id))
        db.session.commit()
    assign(world, per_proposal=2, max_per_reviewer=4)
    _review_current_stage(world, lambda pid: 9 if pid == created["gas"] else 5)
    ranking = _api(client, app, api_token, world.manager_id, "get",
                   f"/api/v1/challenges/{world.challenge_id}/ranking")
    assert ranking.status_code == 200
    assert [i["proposal_id"] for i in ranking.get_json()["items"]] == [created["gas"], created["thermal"]]
    older = _api(client, app, api_token, world.manager_id, "get",
                 f"/api/v1/challenges/{world.challenge_id}/ranking?stage_id={first}")
    assert {i["proposal_id"] for i in older.get_json()["items"]} == set(world.proposals.values())

    assert _advance(client, app, api_token, world, second, finalists=[created["gas"]]).status_code == 201
    final = _next_stage_proposal(client, app, api_token, world, "gas", from_proposal_id=created["gas"])
    assert final.status_code == 201, final.get_json()
    final_id = final.get_json()["id"]
    assert _api(client, app, api_token, world.solvers["gas"], "post",
                f"/api/v1/proposals/{final_id}/submit").status_code in (200, 201)
    with world.ctx():
        challenges.close(world.challenge(), world.user(world.manager_id))
        db.session.commit()
    assign(world, per_proposal=2, max_per_reviewer=4)
    _review_current_stage(world, lambda pid: 8)

    # An earlier stage's proposal cannot win the final award; the last stage's proposal can.
    decide = lambda pid: _api(client, app, api_token, world.manager_id, "post",  # noqa: E731
                              f"/api/v1/challenges/{world.challenge_id}/awards",
                              json={"awards": [{"proposal_id": pid, "share_pct": 100}]})
    assert decide(created["gas"]).status_code == 422
    decided = decide(final_id)
    assert decided.status_code == 201, decided.get_json()
    with app.app_context():
        challenge = db.session.get(Challenge, world.challenge_id)
        final_award = db.session.scalar(select(Award).where(Award.proposal_id == final_id))
        assert final_award.amount_minor == challenge.final_award_minor
        assert challenge.status == "awarded" and challenge.current_stage_id == third
        stages_of = dict(db.session.execute(select(Proposal.id, Proposal.stage_id).where(
            Proposal.challenge_id == world.challenge_id)).all())
    assert stages_of[final_id] == third and stages_of[created["gas"]] == second
    shown = client.get(f"/api/v1/challenges/{world.challenge_id}").get_json()
    assert [s["status"] for s in shown["stages"]] == ["decided", "decided", "decided"]
    assert [s["advanced"] for s in shown["stages"][:2]] == [2, 1]


def test_a_draft_is_replanned_with_stages_and_priced_again(app, client, api_token, make_org, make_user,
                                                           pricing_rates):
    from tests.factories import challenge_body

    org = make_org("plan")
    manager = make_user(roles=[("center_manager", org)])
    headers = token(app, api_token, manager.id)
    created = client.post("/api/v1/challenges", json=challenge_body(org.slug), headers=headers).get_json()
    stages = [{**s, "deadline": s["deadline"].isoformat()} for s in three_stages()]
    response = client.put(f"/api/v1/challenges/{created['id']}/stages", json={"stages": stages}, headers=headers)
    assert response.status_code == 200, response.get_json()
    items = response.get_json()["items"]
    assert [s["name"] for s in items] == ["Concept", "Prototype", "Pilot"]
    shown = client.get(f"/api/v1/challenges/{created['id']}", headers=headers).get_json()
    assert float(shown["award"]["amount"]) == float(created["award"]["amount"]) + 3000
    bad = [dict(s) for s in stages]
    bad[2]["deadline"] = in_days(1).isoformat()
    refused = client.put(f"/api/v1/challenges/{created['id']}/stages", json={"stages": bad}, headers=headers)
    assert refused.status_code == 422 and "stages.2.deadline" in refused.get_json()["errors"]
    after = client.get(f"/api/v1/challenges/{created['id']}", headers=headers).get_json()
    assert [s["id"] for s in after["stages"]] == [s["id"] for s in items]  # nothing half-written
    outsider = make_user(roles=[("center_manager", make_org("other"))])
    assert client.put(f"/api/v1/challenges/{created['id']}/stages", json={"stages": stages},
                      headers=token(app, api_token, outsider.id)).status_code == 404


def test_later_stage_reminders_and_calendars_reach_only_the_finalists(app, client, api_token, staged):
    from marketplace.challenges.models import Challenge
    from marketplace.mail.models import OutboxMail
    from marketplace.reminders import services as reminders
    from marketplace.reminders.models import SentReminder

    world = staged
    first, second, _third = stage_ids(app, world.challenge_id)
    thermal, gas = world.proposals["thermal"], world.proposals["gas"]
    assert _advance(client, app, api_token, world, first, finalists=[thermal, gas]).status_code == 201
    with app.app_context():
        deadline = db.session.get(Challenge, world.challenge_id).deadline
    with app.test_request_context():
        report = reminders.send_due_reminders(deadline - timedelta(days=6, hours=20))  # stage 2's 7-day window
        db.session.commit()
        again = reminders.send_due_reminders(deadline - timedelta(days=6))
        db.session.commit()
    assert report.sent == 2 and again.sent == 0
    with app.app_context():
        reminded = set(db.session.scalars(select(SentReminder.user_id).where(SentReminder.kind == "stage_deadline")))
        mails = db.session.scalars(select(OutboxMail).where(OutboxMail.template == "deadline_reminder")).all()
    assert reminded == {world.solvers["thermal"], world.solvers["gas"]}
    assert all(f"/challenges/{world.challenge_id}" in m.body_text for m in mails)
    ics = client.get(f"/challenges/{world.challenge_id}/calendar.ics")
    assert ics.status_code == 200
    text = ics.get_data(as_text=True)
    assert "stage-2-deadline" in text and "stage-3-deadline" in text and "stage-1-deadline" not in text


def test_a_milestone_award_follows_the_ip_and_payout_flow_of_final_awards(app, client, api_token, staged,
                                                                          make_user):
    from marketplace.accounts.models import Organization
    from marketplace.awards.models import Award

    world = staged
    first = stage_ids(app, world.challenge_id)[0]
    thermal, gas = world.proposals["thermal"], world.proposals["gas"]
    assert _advance(client, app, api_token, world, first, finalists=[thermal, gas],
                    awards=[{"proposal_id": thermal, "share_pct": "100"}]).status_code == 201
    with app.app_context():
        award_id = db.session.scalar(select(Award.id).where(Award.proposal_id == thermal))
        org = db.session.get(Organization, world.org_id)
    finance_a, finance_b = (make_user(roles=[("finance_officer", org)]) for _ in range(2))
    bruno = world.solvers["thermal"]
    call = lambda who, method, url, **kw: _api(client, app, api_token, who, method, f"/api/v1{url}", **kw)  # noqa: E731
    assert call(bruno, "post", f"/awards/{award_id}/ip-assignment", json={"accept": True}).status_code in (200, 201)
    payee = call(bruno, "put", "/me/payee", json={
        "legal_name": "Bruno Costa", "residence_country": "BR", "date_of_birth": "1990-02-01",
        "tax_form": "W-8BEN", "bank_account": {"account_number": "BR1500000000000010932840814P2",
                                               "swift_bic": "BRASBRRJXXX", "bank_name": "Banco Example"}})
    assert payee.status_code == 200, payee.get_json()
    assert call(finance_a.id, "post", f"/awards/{award_id}/release").status_code == 200
    approved = call(finance_b.id, "post", f"/awards/{award_id}/approve")
    assert approved.status_code == 200, approved.get_json()
    confirmed = call(finance_a.id, "post", f"/awards/{award_id}/payout-confirmation", json={"reference": "WIRE-9"})
    assert confirmed.status_code == 200, confirmed.get_json()
    with app.app_context():
        award = db.session.get(Award, award_id)
        assert award.status == "paid" and award.is_milestone and award.amount_minor == 300_000
