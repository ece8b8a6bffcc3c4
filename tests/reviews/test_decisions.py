"""The award decision and the feedback that follows it: exact splits, refusals, no award, feedback visibility."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from marketplace.extensions import db
from tests.factories import add_pool, assign, review_all, token


def _team_proposal(world, make_user, shares=("33.33", "33.33", "33.34")) -> int:
    """A proposal by a team of three with agreed shares, submitted while the challenge is open."""
    from marketplace.challenges import agreements
    from marketplace.proposals import services as proposals
    from marketplace.proposals import teams
    from tests.factories import save_profile

    lead, first, second = (make_user(f"team{i}@team.example", name=f"Team Member {i}") for i in range(3))
    with world.ctx():
        challenge = world.challenge()
        users = [world.user(u.id) for u in (lead, first, second)]
        for user in users:
            agreements.accept(challenge, user, version=challenge.agreement_version)
        save_profile(users[1], "general")
        proposal = proposals.create_proposal(challenge, users[0], {
            "title": "Team readout", "abstract": "A team's readout amplifier.", "body": "Chopper amplifier readout.",
            "locale": "en", "team_emails": [users[1].email, users[2].email]})
        for user in users[1:]:
            teams.respond_to_invitation(proposal, user, accept=True)
        teams.set_shares(proposal, users[0], {u.id: Decimal(s) for u, s in zip(users, shares, strict=True)})
        for user in users[1:]:
            teams.agree_to_shares(proposal, user)
        proposals.submit(proposal, users[0])
        db.session.commit()
        world.proposals["team"] = proposal.id
        world.solvers["team"] = users[0].id
        return proposal.id


def _close(world):
    from marketplace.challenges import services as challenges

    with world.ctx():
        challenges.close(world.challenge(), world.user(world.manager_id))
        db.session.commit()


@pytest.fixture
def judged(build_world, make_user):
    """A challenge in judging with a team proposal, every review submitted (scores differ per proposal)."""
    world = build_world(close=False)
    _team_proposal(world, make_user)
    _close(world)
    add_pool(world)
    assign(world, per_proposal=2, max_per_reviewer=4)
    review_all(world, {name: (lambda review: 3 + review.proposal_id % 6) for name in world.reviewers})
    return world


def _decide(client, app, api_token, world, body, **headers):
    return client.post(f"/api/v1/challenges/{world.challenge_id}/awards", json=body,
                       headers={**token(app, api_token, world.manager_id), **headers})


def test_split_award_adds_up_exactly_down_to_each_team_member(app, client, api_token, judged):
    from marketplace.awards.models import Award, AwardRecipient
    from marketplace.challenges.models import Challenge
    from marketplace.payments.models import LedgerTransaction
    from tests.helpers import outbox

    world = judged
    response = _decide(client, app, api_token, world, {"awards": [
        {"proposal_id": world.proposals["team"], "share_pct": 60},
        {"proposal_id": world.proposals["thermal"], "share_pct": "40"}]})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    with app.app_context():
        challenge = db.session.get(Challenge, world.challenge_id)
        total, currency = challenge.award_minor, challenge.award_currency
        assert challenge.status == "awarded"
        awards = db.session.scalars(db.select(Award).order_by(Award.id)).all()
        assert sum(a.amount_minor for a in awards) == total
        for award in awards:
            assert sum(r.amount_minor for r in award.recipients) == award.amount_minor
        team = next(a for a in awards if a.proposal_id == world.proposals["team"])
        assert len(team.recipients) == 3
        from marketplace.awards.money_split import split_award

        expected = split_award(team.amount_minor, [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")])
        assert [r.amount_minor for r in sorted(team.recipients, key=lambda r: r.user_id)] == expected
        assert sum(expected) == team.amount_minor
        allocations = db.session.scalars(db.select(LedgerTransaction).where(
            LedgerTransaction.kind == "allocation")).all()
        assert {t.award_id for t in allocations} == {a.id for a in awards}
        assert db.session.scalar(db.select(db.func.count(AwardRecipient.id))) == 4
    shown = {a["proposal_id"]: a for a in body["awards"]}
    assert shown[world.proposals["team"]]["share_pct"] == "60"
    assert shown[world.proposals["team"]]["amount"]["currency"] == currency
    assert set(shown[world.proposals["thermal"]]) >= {"id", "proposal_id", "share_pct", "amount", "status"}
    told = {m.recipient for m in outbox(app) if m.template == "award_decided"}
    assert {"team0@team.example", "team1@team.example", "team2@team.example", "bruno.costa@usp.example",
            "chen.yu@fudan.example"} <= told
    with app.app_context():  # and in the app: winners are told their next step, the others that they did not win
        from marketplace.accounts.models import User
        from marketplace.solvers import notifications
        from marketplace.solvers.models import Notification

        def told_in_app(email: str) -> list[str]:
            user = db.session.scalar(db.select(User).filter_by(email=email))
            return [notifications.text_of(n, "en")
                    for n in db.session.scalars(db.select(Notification).filter_by(user_id=user.id))]

        with app.test_request_context("/?lang=en"):
            assert any("won an award" in t and "IP assignment" in t for t in told_in_app("team1@team.example"))
            assert any("did not win this time" in t for t in told_in_app("chen.yu@fudan.example"))
    again = _decide(client, app, api_token, world, {"awards": [], "reason": "changed our minds"})
    assert again.status_code == 409


@pytest.mark.parametrize(("awards", "reason", "status"), [
    ([("team", "60"), ("thermal", "40.01")], "", 422),  # over 100
    ([("team", "0")], "", 422),
    ([("team", "100.001")], "", 422),
    ([("team", "50"), ("team", "50")], "", 422),  # the same proposal twice
    ([("team", "50")], "", 422),  # partial without a reason
    ([], "", 422),  # no award without a reason
])
def test_bad_decisions_are_refused_and_write_nothing(app, client, api_token, judged, awards, reason, status):
    from marketplace.awards.models import Award, AwardDecision
    from marketplace.challenges.models import Challenge

    world = judged
    body = {"awards": [{"proposal_id": world.proposals[key], "share_pct": pct} for key, pct in awards],
            "reason": reason}
    assert _decide(client, app, api_token, world, body).status_code == status
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(AwardDecision.id))) == 0
        assert db.session.scalar(db.select(db.func.count(Award.id))) == 0
        assert db.session.get(Challenge, world.challenge_id).status == "judging"


def test_withdrawn_late_and_foreign_proposals_cannot_be_awarded(app, client, api_token, build_world, make_user):
    from datetime import timedelta

    from marketplace.challenges.models import Challenge
    from marketplace.proposals import services as proposals
    from marketplace.proposals.models import Proposal, ProposalVersion

    world = build_world(close=False)
    with world.ctx():
        proposals.withdraw(db.session.get(Proposal, world.proposals["gas"]), world.user(world.solvers["gas"]))
        late = db.session.scalar(db.select(ProposalVersion).where(
            ProposalVersion.proposal_id == world.proposals["humidity"]))
        late.submitted_at = db.session.get(Challenge, world.challenge_id).deadline + timedelta(seconds=1)
        db.session.commit()
    _close(world)
    add_pool(world)
    assign(world, per_proposal=2, max_per_reviewer=4)
    review_all(world)
    for key in ("gas", "humidity"):
        refused = _decide(client, app, api_token, world, {"awards": [{"proposal_id": world.proposals[key],
                                                                      "share_pct": 100}]})
        assert refused.status_code == 422 and "awards.0.proposal_id" in refused.get_json()["errors"]
    assert _decide(client, app, api_token, world, {"awards": [{"proposal_id": 99999, "share_pct": 100}]}
                   ).status_code == 422
    officer = token(app, api_token, world.officer_id)
    assert client.post(f"/api/v1/challenges/{world.challenge_id}/awards", headers=officer,
                       json={"awards": [{"proposal_id": world.proposals["readout"], "share_pct": 100}]}
                       ).status_code == 403
    assert _decide(client, app, api_token, world, {"awards": [{"proposal_id": world.proposals["readout"],
                                                               "share_pct": 100}]}).status_code == 201


def test_no_award_needs_a_reason_and_schedules_the_refund(app, client, api_token, build_world):
    from marketplace.challenges.models import Challenge
    from marketplace.payments.models import Refund

    world = build_world()  # closed, never judged: no award is possible straight away, awards are not
    refused = _decide(client, app, api_token, world, {"awards": [
        {"proposal_id": world.proposals["readout"], "share_pct": 100}]})
    assert refused.status_code == 409
    decided = _decide(client, app, api_token, world, {"awards": [], "reason": "No proposal met the noise target."})
    assert decided.status_code == 201 and decided.get_json()["awards"] == []
    with app.app_context():
        challenge = db.session.get(Challenge, world.challenge_id)
        assert challenge.status == "no_award"
        refunds = db.session.scalars(db.select(Refund).where(Refund.challenge_id == world.challenge_id)).all()
        assert sum(r.amount_minor for r in refunds) == challenge.award_minor


def test_early_career_bonus_is_added_to_early_career_winners(app, client, api_token, build_world):
    from marketplace.accounts.models import User
    from marketplace.awards.models import Award
    from marketplace.challenges.models import Challenge
    from marketplace.money import Money
    from marketplace.payments import funding
    from marketplace.solvers import profiles

    world = build_world(close=False)
    with world.ctx():
        challenge = world.challenge()
        challenge.early_career_bonus_pct = Decimal("10")
        finance = db.session.scalar(db.select(User).join(User.roles).where(
            User.roles.any(role="finance_officer", organization_id=world.org_id)))
        funding.record_receipt(challenge, finance, reference="BONUS-RESERVE",
                               amount=Money(challenge.max_early_career_bonus_minor, challenge.award_currency),
                               received_on=date.today())
        anna = world.user(world.solvers["readout"])
        profiles.save_profile(anna, {"early_career": True}, actor=anna)
        db.session.commit()
    _close(world)
    add_pool(world)
    assign(world, per_proposal=2, max_per_reviewer=4)
    review_all(world)
    decided = _decide(client, app, api_token, world, {"awards": [
        {"proposal_id": world.proposals["readout"], "share_pct": 50},
        {"proposal_id": world.proposals["thermal"], "share_pct": 50}]})
    assert decided.status_code == 201, decided.get_json()
    with app.app_context():
        challenge = db.session.get(Challenge, world.challenge_id)
        half = challenge.award_minor // 2
        awards = {a.proposal_id: a for a in db.session.scalars(db.select(Award))}
        anna_award, bruno_award = awards[world.proposals["readout"]], awards[world.proposals["thermal"]]
        assert bruno_award.amount_minor in (half, challenge.award_minor - half)
        base = challenge.award_minor - bruno_award.amount_minor
        assert anna_award.amount_minor == base + base * 10 // 100


# --- feedback ----------------------------------------------------------------------------------------

def test_feedback_after_the_decision_shows_own_scores_band_and_anonymous_comments(app, client, api_token, judged):
    world = judged
    anna = token(app, api_token, world.solvers["readout"])
    url = f"/api/v1/proposals/{world.proposals['readout']}/feedback"
    assert client.get(url, headers=anna).status_code == 409
    _decide(client, app, api_token, world, {"awards": [{"proposal_id": world.proposals["thermal"], "share_pct": 100}]})
    response = client.get(url, headers=anna)
    assert response.status_code == 200
    body = response.get_json()
    assert body["reviews"] == 2 and body["awarded"] is False
    assert [c["criterion_id"] for c in body["criteria"]] == world.criteria
    assert all(len(c["scores"]) == 2 for c in body["criteria"])
    assert body["rank_band"] in ("top_10", "top_25", "top_50", "lower_50")
    assert [c["label"] for c in body["comments"]] == ["Reviewer 1", "Reviewer 2"]
    text = json.dumps(body)
    with app.app_context():
        from marketplace.accounts.models import User

        names = [db.session.get(User, uid).display_name for uid in world.reviewers.values()]
    assert not any(name in text for name in names)
    assert client.get(url, headers=token(app, api_token, world.solvers["gas"])).status_code == 404


def test_feedback_can_be_turned_off_by_the_center(app, client, api_token, judged):
    world = judged
    _decide(client, app, api_token, world, {"awards": [{"proposal_id": world.proposals["thermal"], "share_pct": 100}],
                                            "feedback_enabled": False})
    anna = token(app, api_token, world.solvers["readout"])
    assert client.get(f"/api/v1/proposals/{world.proposals['readout']}/feedback", headers=anna).status_code == 403


def test_accepted_solutions_for_the_program_view(app, client, api_token, judged):
    from marketplace.awards.decisions import accepted_solutions

    world = judged
    _decide(client, app, api_token, world, {"awards": [{"proposal_id": world.proposals["gas"], "share_pct": 100}]})
    with app.app_context():
        found = accepted_solutions([world.challenge_id])
    assert [s["proposal_id"] for s in found[world.challenge_id]] == [world.proposals["gas"]]


def test_a_winners_public_page_lists_the_award_unless_kept_private(app, client, api_token, judged):
    from marketplace.solvers.models import ExpertProfile

    world = judged
    assert _decide(client, app, api_token, world, {"awards": [
        {"proposal_id": world.proposals["thermal"], "share_pct": 100}]}).status_code == 201
    winner = world.solvers["thermal"]
    with app.app_context():
        if db.session.scalar(db.select(ExpertProfile).filter_by(user_id=winner)) is None:
            db.session.add(ExpertProfile(user_id=winner, headline="Thermal modelling"))
            db.session.commit()
    public = client.get(f"/api/v1/solvers/{winner}").get_json()
    assert [a["challenge_id"] for a in public["awards"]] == [world.challenge_id]
    assert public["awards"][0]["amount"]["currency"]
    page = client.get(f"/solvers/{winner}").get_data(as_text=True)
    assert public["awards"][0]["title"] in page
    with app.app_context():
        profile = db.session.scalar(db.select(ExpertProfile).filter_by(user_id=winner))
        profile.visibility = {**(profile.visibility or {}), "awards": "private"}
        db.session.commit()
    assert "awards" not in client.get(f"/api/v1/solvers/{winner}").get_json()


# --- issue #10: no decision before the reviews are in (unless explained), never to an insider -------------

@pytest.fixture
def unreviewed(build_world):
    """A challenge in judging whose assigned reviews are all still outstanding."""
    world = build_world()
    add_pool(world)
    assign(world, per_proposal=2, max_per_reviewer=4)
    return world


def _count_decisions(app) -> int:
    from marketplace.awards.models import Award, AwardDecision

    with app.app_context():
        return (db.session.scalar(db.select(db.func.count(AwardDecision.id)))
                + db.session.scalar(db.select(db.func.count(Award.id))))


def test_deciding_with_reviews_outstanding_needs_a_written_reason(app, client, api_token, unreviewed):
    from marketplace.audit.models import AuditEntry
    from marketplace.challenges.models import Challenge

    world = unreviewed
    body = {"awards": [{"proposal_id": world.proposals["readout"], "share_pct": 100}]}
    refused = _decide(client, app, api_token, world, body)
    assert refused.status_code == 409
    assert "reviews are outstanding" in refused.get_json()["detail"]
    assert "override_reason" in refused.get_json()["errors"]
    assert _decide(client, app, api_token, world, {**body, "override_reason": "   "}).status_code == 409
    assert _count_decisions(app) == 0
    with app.app_context():
        assert db.session.get(Challenge, world.challenge_id).status == "judging"

    why = "Two reviewers fell ill; the panel chair read every proposal."
    decided = _decide(client, app, api_token, world, {**body, "override_reason": why})
    assert decided.status_code == 201, decided.get_json()
    assert decided.get_json()["override_reason"] == why
    shown = client.get(f"/api/v1/challenges/{world.challenge_id}/awards",
                       headers=token(app, api_token, world.manager_id))
    assert shown.get_json()["override_reason"] == why
    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "award.decision"))
        assert entry.data["override_reason"] == why and entry.data["outstanding_reviews"] > 0


def test_a_decision_after_every_review_stores_no_override(app, client, api_token, judged):
    body = {"awards": [{"proposal_id": judged.proposals["thermal"], "share_pct": 100}],
            "override_reason": "not needed"}
    decided = _decide(client, app, api_token, judged, body)
    assert decided.status_code == 201 and decided.get_json()["override_reason"] is None


def test_the_decision_page_asks_for_and_shows_the_override_reason(app, unreviewed, browser):
    from marketplace.challenges.models import Challenge
    from tests.helpers import csrf_token_from

    world = unreviewed
    with app.app_context():
        manager = world.user(world.manager_id)
    pages = browser(manager)
    url = f"/staff/challenges/{world.challenge_id}/review/decision"
    page = pages.get(url)
    assert "not submitted yet" in page.get_data(as_text=True)
    form = {"csrf_token": csrf_token_from(page), f"share_{world.proposals['readout']}": "100", "reason": "",
            "feedback_enabled": "y"}
    refused = pages.post(url, data=form)
    assert refused.status_code == 409 and "reviews are outstanding" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Challenge, world.challenge_id).status == "judging"
    why = "The review deadline passed a month ago."
    assert pages.post(url, data={**form, "override_reason": why}).status_code == 302
    html = pages.get(url).get_data(as_text=True)
    assert why in html and "Decided before every review was in" in html
    assert "<td>Awarded, waiting for release</td>" in html and "<td>awarded</td>" not in html  # states in words


def test_a_proposal_with_an_insider_among_its_authors_cannot_be_awarded(app, client, api_token, judged):
    from marketplace.accounts import services as accounts

    world = judged
    with world.ctx():  # a winner who has since become the center's finance officer
        from marketplace.accounts.models import Organization

        accounts.grant_role(world.user(world.solvers["readout"]), "finance_officer",
                            db.session.get(Organization, world.org_id))
        db.session.commit()
    body = {"awards": [{"proposal_id": world.proposals["readout"], "share_pct": 100}],
            "override_reason": "insiders are never excused"}
    refused = _decide(client, app, api_token, world, body)
    assert refused.status_code == 409
    assert refused.get_json()["detail"] == "Staff of the center that posted this challenge cannot take part in it."
    assert "awards.0.proposal_id" in refused.get_json()["errors"]
    assert _count_decisions(app) == 0
