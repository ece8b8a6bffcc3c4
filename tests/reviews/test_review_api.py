"""The review workflow through the API: pool, conflicts, assignment, blind scoring, clarifications, ranking."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from tests.factories import add_pool, assign, review_all, token
from tests.files.samples import pdf


@pytest.fixture
def world(build_world):
    return build_world()


def _manager(app, api_token, world):
    return token(app, api_token, world.manager_id)


# --- the pool ---------------------------------------------------------------------------------------

def test_pool_adds_reviewers_and_refuses_solvers_and_strangers(app, client, api_token, world, make_user):
    manager = _manager(app, api_token, world)
    url = f"/api/v1/challenges/{world.challenge_id}/reviewers"
    added = client.post(url, json={"user_ids": [world.reviewers["Grace Hopper"], world.reviewers["Hiro Sato"]]},
                        headers=manager)
    assert added.status_code == 201
    items = added.get_json()["items"]
    assert {i["user_id"] for i in items} == {world.reviewers["Grace Hopper"], world.reviewers["Hiro Sato"]}
    assert all(i["internal"] is False and i["agreement_accepted"] is False for i in items)

    solver = client.post(url, json={"user_ids": [world.solvers["gas"]]}, headers=manager)
    assert solver.status_code == 422 and "solver" in json.dumps(solver.get_json()["errors"])
    assert client.post(url, json={"user_ids": [987654]}, headers=manager).status_code == 422

    officer = token(app, api_token, world.officer_id)
    assert client.post(url, json={"user_ids": [world.reviewers["Karl Berg"]]}, headers=officer).status_code == 403
    stranger = api_token(make_user())
    assert client.post(url, json={"user_ids": [world.reviewers["Karl Berg"]]}, headers=stranger).status_code == 404
    listed = client.get(url, headers=officer).get_json()["items"]
    assert len(listed) == 2


def test_internal_reviewer_role_is_not_review_staff(app, client, api_token, world, make_user):
    from marketplace.accounts.models import Organization

    with app.app_context():
        org = db.session.get(Organization, world.org_id)
    internal = make_user(roles=[("reviewer", org)], name="Inge Intern")
    headers = api_token(internal)
    for path in ("ranking", "reviewers", "conflicts", "assignments", "identity-flags", "review-progress"):
        assert client.get(f"/api/v1/challenges/{world.challenge_id}/{path}", headers=headers).status_code == 404
    added = client.post(f"/api/v1/challenges/{world.challenge_id}/reviewers", json={"user_ids": [internal.id]},
                        headers=_manager(app, api_token, world))
    assert added.get_json()["items"][0]["internal"] is True


# --- conflicts and assignment --------------------------------------------------------------------------

def test_conflicts_carry_reason_codes_for_staff(app, client, api_token, world):
    add_pool(world)
    body = client.get(f"/api/v1/challenges/{world.challenge_id}/conflicts",
                      headers=token(app, api_token, world.officer_id)).get_json()
    pairs = {(i["proposal_id"], i["reviewer_id"]): i["reasons"] for i in body["items"]}
    rolf_anna = pairs[(world.proposals["readout"], world.reviewers["Rolf Weber"])]
    assert "same_email_domain" in rolf_anna and "same_organization" in rolf_anna
    assert all(label for i in body["items"] for label in i["reason_labels"])


def test_assignment_is_conflict_free_within_loads_and_moves_to_judging(app, client, api_token, world):
    add_pool(world, accept=False)  # the agreement is about seeing, not about being assigned
    response = client.post(f"/api/v1/challenges/{world.challenge_id}/assignments",
                           json={"per_proposal": 2, "max_per_reviewer": 3}, headers=_manager(app, api_token, world))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) >= {"assignments", "total_affinity", "load_spread", "worst_proposal_affinity"}
    assert set(body["assignments"][0]) == {"review_id", "proposal_id", "reviewer_id"}
    per_proposal, per_reviewer = {}, {}
    for a in body["assignments"]:
        per_proposal[a["proposal_id"]] = per_proposal.get(a["proposal_id"], 0) + 1
        per_reviewer[a["reviewer_id"]] = per_reviewer.get(a["reviewer_id"], 0) + 1
    assert per_proposal == {pid: 2 for pid in world.proposals.values()}
    assert max(per_reviewer.values()) <= 3 and body["load_spread"]["max"] <= 3
    rolf, anna = world.reviewers["Rolf Weber"], world.proposals["readout"]
    assert (anna, rolf) not in {(a["proposal_id"], a["reviewer_id"]) for a in body["assignments"]}
    # Expertise wins where it can: the thermal expert reviews the thermal proposal.
    assert (world.proposals["thermal"], world.reviewers["Hiro Sato"]) in {
        (a["proposal_id"], a["reviewer_id"]) for a in body["assignments"]}
    challenge = client.get(f"/api/v1/challenges/{world.challenge_id}", headers=_manager(app, api_token, world))
    assert challenge.get_json()["status"] == "judging"


def test_same_organization_from_profile_history_is_never_assigned(app, client, api_token, build_world):
    """Two reviewers only, one worked at the author's institution 6 months ago: k=2 cannot be met."""
    from tests.factories import save_profile

    world = build_world(topics=("readout",), reviewers={
        "Grace Hopper": ("grace@navy.example", "readout", "US"),
        "Ola Former": ("ola@elsewhere.example", "readout", "NO")})
    with world.ctx():
        import datetime as dt

        ended = (dt.date.today().replace(day=1) - dt.timedelta(days=150)).strftime("%Y-%m")
        save_profile(world.user(world.reviewers["Ola Former"]), "readout", history=[
            {"name": "Technical University of Munich", "domain": "tum.example", "start": "2015-01", "end": ended}])
        db.session.commit()
    add_pool(world)
    refused = client.post(f"/api/v1/challenges/{world.challenge_id}/assignments", json={"per_proposal": 2},
                          headers=_manager(app, api_token, world))
    assert refused.status_code == 409
    assert "conflict-free candidate" in refused.get_json()["detail"]
    one = client.post(f"/api/v1/challenges/{world.challenge_id}/assignments", json={"per_proposal": 1},
                      headers=_manager(app, api_token, world))
    assert one.status_code == 201
    assert [a["reviewer_id"] for a in one.get_json()["assignments"]] == [world.reviewers["Grace Hopper"]]


def test_infeasible_assignment_is_409_with_the_reason_and_writes_nothing(app, client, api_token, world):
    from marketplace.challenges.models import Challenge
    from marketplace.reviews.models import Review, ReviewSettings

    add_pool(world)
    response = client.post(f"/api/v1/challenges/{world.challenge_id}/assignments",
                           json={"per_proposal": 2, "max_per_reviewer": 1}, headers=_manager(app, api_token, world))
    assert response.status_code == 409
    problem = response.get_json()
    assert "capacity" in problem["detail"] and problem["errors"]["code"] == ["capacity"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Review.id))) == 0
        assert db.session.get(ReviewSettings, world.challenge_id) is None
        assert db.session.get(Challenge, world.challenge_id).status == "closed"


def test_assignment_needs_a_closed_challenge_and_valid_numbers(app, client, api_token, build_world):
    world = build_world(close=False)
    add_pool(world)
    url = f"/api/v1/challenges/{world.challenge_id}/assignments"
    manager = _manager(app, api_token, world)
    assert client.post(url, json={"per_proposal": 2}, headers=manager).status_code == 409
    assert client.post(url, json={"per_proposal": 0}, headers=manager).status_code == 422
    assert client.post(url, json={"per_proposal": 2, "min_per_reviewer": 5, "max_per_reviewer": 2},
                       headers=manager).status_code == 422
    from tests.helpers import rows

    assert rows(app, "reviews") == 0  # no refused request assigned anyone
    assert rows(app, "challenges", id=world.challenge_id, status="open") == 1


def test_withdrawn_and_late_proposals_are_not_reviewed(app, client, api_token, build_world):
    from datetime import timedelta

    from marketplace.challenges.models import Challenge
    from marketplace.proposals import services as proposals
    from marketplace.proposals.models import Proposal, ProposalVersion

    world = build_world(close=False)
    with world.ctx():
        proposals.withdraw(db.session.get(Proposal, world.proposals["gas"]), world.user(world.solvers["gas"]))
        late = db.session.scalar(db.select(ProposalVersion).where(
            ProposalVersion.proposal_id == world.proposals["humidity"]))
        late.submitted_at = db.session.get(Challenge, world.challenge_id).deadline + timedelta(minutes=1)
        from marketplace.challenges import services as challenges

        challenges.close(world.challenge(), world.user(world.manager_id))
        db.session.commit()
    add_pool(world)
    body = client.post(f"/api/v1/challenges/{world.challenge_id}/assignments", json={"per_proposal": 2},
                       headers=_manager(app, api_token, world)).get_json()
    assert {a["proposal_id"] for a in body["assignments"]} == {world.proposals["readout"], world.proposals["thermal"]}


def test_a_declared_conflict_releases_the_review_and_reassigns_it(app, client, api_token, world):
    from marketplace.reviews.models import ConflictOfInterest, Review

    add_pool(world)
    pairs = assign(world, per_proposal=2, max_per_reviewer=3)
    review_id, proposal_id, reviewer_id = next(p for p in pairs if p[1] == world.proposals["thermal"])
    headers = token(app, api_token, reviewer_id)
    declared = client.post(f"/api/v1/reviews/{review_id}/conflict", json={"note": "I know the author."},
                           headers=headers)
    assert declared.status_code == 201
    assert declared.get_json()["reassigned"] is True and "reviewer_id" not in declared.get_json()
    assert client.get(f"/api/v1/reviews/{review_id}", headers=headers).status_code == 404
    mine = client.get("/api/v1/me/reviews", headers=headers).get_json()["items"]
    assert review_id not in {i["id"] for i in mine}
    with app.app_context():
        active = db.session.scalars(db.select(Review).where(Review.proposal_id == proposal_id,
                                                            Review.status != "released")).all()
        assert len(active) == 2 and reviewer_id not in {r.reviewer_id for r in active}
        conflict = db.session.scalar(db.select(ConflictOfInterest))
        assert (conflict.reviewer_id, conflict.proposal_id, conflict.declared_by) == (reviewer_id, proposal_id,
                                                                                     "reviewer")
    # A second run keeps everything and never gives the proposal back to the reviewer who declared.
    again = client.post(f"/api/v1/challenges/{world.challenge_id}/assignments",
                        json={"per_proposal": 2, "max_per_reviewer": 3}, headers=_manager(app, api_token, world))
    assert again.status_code == 201 and again.get_json()["created"] == 0
    assert (proposal_id, reviewer_id) not in {(a["proposal_id"], a["reviewer_id"])
                                              for a in again.get_json()["assignments"]}


def test_solver_exclusions_at_most_three_and_only_before_assignment(app, client, api_token, build_world):
    world = build_world(close=False)
    anna = token(app, api_token, world.solvers["readout"])
    url = f"/api/v1/proposals/{world.proposals['readout']}/exclusions"
    for name in ("Grace Hopper", "Hiro Sato", "Ivan Petrov"):
        added = client.post(url, json={"user_id": world.reviewers[name], "reason": "competitor"}, headers=anna)
        assert added.status_code == 201
    fourth = client.post(url, json={"user_id": world.reviewers["Karl Berg"]}, headers=anna)
    assert fourth.status_code == 422
    assert client.post(url, json={"user_id": world.reviewers["Grace Hopper"]}, headers=anna).status_code == 409
    other = token(app, api_token, world.solvers["gas"])
    assert client.get(url, headers=other).status_code == 404
    with world.ctx():
        from marketplace.challenges import services as challenges

        challenges.close(world.challenge(), world.user(world.manager_id))
        db.session.commit()
    add_pool(world)
    body = client.post(f"/api/v1/challenges/{world.challenge_id}/assignments", json={"per_proposal": 2},
                       headers=_manager(app, api_token, world)).get_json()
    reviewers_of_anna = {a["reviewer_id"] for a in body["assignments"]
                         if a["proposal_id"] == world.proposals["readout"]}
    excluded = {world.reviewers[n] for n in ("Grace Hopper", "Hiro Sato", "Ivan Petrov")}
    assert not reviewers_of_anna & excluded and world.reviewers["Rolf Weber"] not in reviewers_of_anna
    late = client.post(url, json={"user_id": world.reviewers["Karl Berg"]}, headers=anna)
    assert late.status_code == 409


# --- blind review ------------------------------------------------------------------------------------

def _upload_pdf_before_close(app, client, api_token, world):
    anna = token(app, api_token, world.solvers["readout"])
    response = client.post(f"/api/v1/proposals/{world.proposals['readout']}/attachments", headers=anna,
                           data={"file": (io.BytesIO(pdf(author="Anna Schmidt")), "Schmidt-design.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    # An upload after the submission waits in the working copy; the resubmission is what reviewers get.
    resubmitted = client.post(f"/api/v1/proposals/{world.proposals['readout']}/submit", headers=anna)
    assert resubmitted.status_code == 200, resubmitted.get_json()


def test_reviewers_see_nothing_before_the_agreement_and_never_an_author(app, client, api_token, build_world):
    world = build_world(close=False)
    _upload_pdf_before_close(app, client, api_token, world)
    with world.ctx():
        from marketplace.challenges import services as challenges

        challenges.close(world.challenge(), world.user(world.manager_id))
        db.session.commit()
    add_pool(world, accept=False)
    pairs = assign(world, per_proposal=2, max_per_reviewer=3)
    review_id, _pid, reviewer_id = next(p for p in pairs if p[1] == world.proposals["readout"])
    headers = token(app, api_token, reviewer_id)

    before = client.get("/api/v1/me/reviews", headers=headers).get_json()["items"]
    assert before and all(item["proposal"] is None for item in before)
    assert client.get(f"/api/v1/reviews/{review_id}", headers=headers).status_code == 403

    agreement = client.get(f"/api/v1/challenges/{world.challenge_id}/reviewer-agreement", headers=headers).get_json()
    accepted = client.post(f"/api/v1/challenges/{world.challenge_id}/reviewer-agreement",
                           json={"version": agreement["version"], "accept": True}, headers=headers)
    assert accepted.status_code == 201

    listing = client.get("/api/v1/me/reviews", headers=headers)
    item = next(i for i in listing.get_json()["items"] if i["id"] == review_id)
    assert set(item) >= {"id", "challenge_id", "proposal_id", "status", "proposal"}
    assert set(item["proposal"]) == {"title", "abstract", "body"}
    detail = client.get(f"/api/v1/reviews/{review_id}", headers=headers)
    for text in (listing.get_data(as_text=True), detail.get_data(as_text=True)):
        for secret in ("Anna Schmidt", "anna.schmidt@tum.example", "Technical University of Munich",
                       "Schmidt-design"):
            assert secret not in text
    body = detail.get_json()
    assert "[…]" in body["proposal"]["body"] and "chopper" in body["proposal"]["body"]
    assert body["attachments"] == [{"index": 1, "name": "attachment-1.pdf", "size": body["attachments"][0]["size"],
                                    "blind_safe": True}]
    assert len(body["anchors"]) == 10 and {c["id"] for c in body["criteria"]} == set(world.criteria)

    download = client.get(f"/api/v1/reviews/{review_id}/attachments/1", headers=headers)
    assert download.status_code == 200
    assert "attachment-1.pdf" in download.headers["Content-Disposition"]
    assert b"Anna" not in download.data and b"Schmidt" not in download.data
    assert client.get(f"/api/v1/reviews/{review_id}/attachments/2", headers=headers).status_code == 404

    from marketplace.audit.models import AuditEntry

    with app.app_context():
        actions = [a for (a,) in db.session.execute(db.select(AuditEntry.action).where(
            AuditEntry.actor_id == reviewer_id))]
    assert {"review.agreement_accepted", "review.proposals_listed", "review.proposal_viewed",
            "review.attachment_downloaded"} <= set(actions)


def test_identity_flags_reach_staff_before_review(app, client, api_token, world):
    body = client.get(f"/api/v1/challenges/{world.challenge_id}/identity-flags",
                      headers=token(app, api_token, world.officer_id)).get_json()
    found = {(f["proposal_id"], f["kind"], f["found"]) for f in body["items"]}
    anna = world.proposals["readout"]
    assert (anna, "name", "Anna Schmidt") in found and (anna, "email", "anna.schmidt@tum.example") in found
    assert not [f for f in body["items"] if f["proposal_id"] != anna]


def test_a_file_whose_metadata_cannot_be_removed_is_refused(app, client, api_token, build_world):
    from marketplace.proposals.models import Attachment

    world = build_world(close=False)
    _upload_pdf_before_close(app, client, api_token, world)
    with world.ctx():
        from marketplace.challenges import services as challenges
        from marketplace.files.storage import LocalStorage, upload_root

        attachment = db.session.scalar(db.select(Attachment))
        path = LocalStorage(upload_root(app.config)).local_path(attachment.sha256)
        path.write_bytes(b"%PDF-1.4 truncated")  # the stored blob went bad
        challenges.close(world.challenge(), world.user(world.manager_id))
        db.session.commit()
    add_pool(world)
    pairs = assign(world, per_proposal=2, max_per_reviewer=3)
    review_id, _pid, reviewer_id = next(p for p in pairs if p[1] == world.proposals["readout"])
    response = client.get(f"/api/v1/reviews/{review_id}/attachments/1", headers=token(app, api_token, reviewer_id))
    assert response.status_code == 409 and b"%PDF" not in response.data


# --- scoring ---------------------------------------------------------------------------------------

def test_scores_are_validated_locked_after_submit_and_private_to_the_reviewer(app, client, api_token, world,
                                                                             challenge_factory, make_org, make_user):
    add_pool(world)
    pairs = assign(world, per_proposal=2, max_per_reviewer=3)
    review_id, _pid, reviewer_id = pairs[0]
    headers = token(app, api_token, reviewer_id)
    url = f"/api/v1/reviews/{review_id}"
    first, second = world.criteria

    assert client.put(url, json={"scores": {str(first): 11}}, headers=headers).status_code == 422
    assert client.put(url, json={"scores": {str(first): 0}}, headers=headers).status_code == 422
    assert client.put(url, json={"scores": {str(first): 7.5}}, headers=headers).status_code == 422
    other_org = make_org()
    other = challenge_factory(other_org, make_user(roles=[("center_manager", other_org)]), status="draft")
    with app.app_context():
        from marketplace.challenges.models import Challenge

        foreign = db.session.get(Challenge, other.id).criteria[0].id
    foreign_score = client.put(url, json={"scores": {str(foreign): 5}}, headers=headers)
    assert foreign_score.status_code == 422 and f"scores.{foreign}" in foreign_score.get_json()["errors"]
    assert client.put(url, json={"recommendation": "maybe"}, headers=headers).status_code == 422

    not_assigned = next(uid for uid in world.reviewers.values() if uid != reviewer_id)
    stranger = token(app, api_token, not_assigned)
    assert client.put(url, json={"scores": {str(first): 5}}, headers=stranger).status_code == 404
    assert client.post(f"{url}/submit", headers=stranger).status_code == 404

    draft = client.put(url, json={"scores": {str(first): 8}, "comment": "Solid noise analysis."}, headers=headers)
    assert draft.status_code == 200 and draft.get_json()["status"] == "draft"
    incomplete = client.post(f"{url}/submit", headers=headers)
    assert incomplete.status_code == 422
    assert set(incomplete.get_json()["errors"]) == {f"scores.{second}", "recommendation"}

    client.put(url, json={"scores": {str(second): 6}, "recommendation": "award"}, headers=headers)
    submitted = client.post(f"{url}/submit", headers=headers)
    assert submitted.status_code == 200 and submitted.get_json()["status"] == "submitted"
    assert submitted.get_json()["scores"] == {str(first): 8, str(second): 6}
    assert client.post(f"{url}/submit", headers=headers).status_code == 409
    assert client.put(url, json={"scores": {str(first): 2}}, headers=headers).status_code == 409


def test_other_reviews_are_hidden_until_ones_own_is_submitted(app, client, api_token, world):
    add_pool(world)
    pairs = assign(world, per_proposal=2, max_per_reviewer=3)
    (first_id, pid, first_reviewer), (second_id, _, second_reviewer) = [p for p in pairs
                                                                        if p[1] == world.proposals["gas"]]
    a, b = token(app, api_token, first_reviewer), token(app, api_token, second_reviewer)
    full = {"scores": {str(c): 9 for c in world.criteria}, "comment": "Excellent sensors.", "recommendation": "award"}
    client.put(f"/api/v1/reviews/{first_id}", json=full, headers=a)
    client.post(f"/api/v1/reviews/{first_id}/submit", headers=a)

    waiting = client.get(f"/api/v1/reviews/{second_id}", headers=b).get_json()
    assert waiting["other_reviews"] is None and "Excellent sensors." not in json.dumps(waiting)
    client.put(f"/api/v1/reviews/{second_id}", json={**full, "comment": "Convincing."}, headers=b)
    done = client.post(f"/api/v1/reviews/{second_id}/submit", headers=b).get_json()
    assert [o["comment"] for o in done["other_reviews"]] == ["Excellent sensors."]
    with app.app_context():
        from marketplace.accounts.models import User

        name = db.session.get(User, first_reviewer).display_name
    assert name not in json.dumps(done) and str(first_reviewer) not in json.dumps(done["other_reviews"])


# --- clarifications ---------------------------------------------------------------------------------------

def test_clarification_round_keeps_both_sides_anonymous(app, client, api_token, world):
    from tests.helpers import outbox

    add_pool(world)
    pairs = assign(world, per_proposal=2, max_per_reviewer=3)
    (asker_review, pid, asker), (other_review, _, other) = [p for p in pairs if p[1] == world.proposals["thermal"]]
    asked = client.post(f"/api/v1/reviews/{asker_review}/clarifications",
                        json={"question": "Which FE solver calibrated the network?"},
                        headers=token(app, api_token, asker))
    assert asked.status_code == 201
    author = token(app, api_token, world.solvers["thermal"])
    questions = client.get(f"/api/v1/proposals/{pid}/clarifications", headers=author)
    assert [q["question"] for q in questions.get_json()["items"]] == ["Which FE solver calibrated the network?"]
    with app.app_context():
        from marketplace.accounts.models import User

        asker_user = db.session.get(User, asker)
        asker_name, asker_email = asker_user.display_name, asker_user.email
    raw = questions.get_data(as_text=True)
    assert asker_name not in raw and asker_email not in raw
    # No field of a question points at its asker (a bare id could hide in a timestamp, so look at keys).
    for item in questions.get_json()["items"]:
        assert not {"reviewer_id", "asker_id", "user_id", "review_id"} & set(item)
    question_mail = [m for m in outbox(app) if m.template == "clarification_question"]
    assert question_mail
    assert asker_name not in question_mail[0].body_text and asker_email not in question_mail[0].body_text

    qid = asked.get_json()["id"]
    answered = client.post(f"/api/v1/clarifications/{qid}/answer", json={"answer": "COMSOL, 3 mesh levels."},
                           headers=author)
    assert answered.status_code == 200
    again = client.post(f"/api/v1/clarifications/{qid}/answer", json={"answer": "Again"}, headers=author)
    assert again.status_code == 409
    seen = client.get(f"/api/v1/reviews/{other_review}", headers=token(app, api_token, other)).get_json()
    assert seen["clarifications"][0]["answer"] == "COMSOL, 3 mesh levels."
    assert seen["clarifications"][0]["mine"] is False
    answer_mails = [m for m in outbox(app) if m.template == "clarification_answered"]
    assert len(answer_mails) == 2 and all("Bruno" not in m.body_text for m in answer_mails)
    stranger = token(app, api_token, world.solvers["gas"])
    refused = client.post(f"/api/v1/clarifications/{qid}/answer", json={"answer": "x"}, headers=stranger)
    assert refused.status_code == 404


# --- ranking, progress, reminders ------------------------------------------------------------------------

def test_ranking_has_the_contract_shape_and_flags_disagreement(app, client, api_token, world):
    add_pool(world)
    assign(world, per_proposal=2, max_per_reviewer=3)
    gas = world.proposals["gas"]
    seen: dict[int, int] = {}

    def disagree_on_gas(review):  # the two gas reviewers are 6 points apart
        if review.proposal_id != gas:
            return 5 + review.proposal_id % 3
        seen[gas] = seen.get(gas, 0) + 1
        return 9 if seen[gas] == 1 else 3

    review_all(world, {name: disagree_on_gas for name in world.reviewers})
    body = client.get(f"/api/v1/challenges/{world.challenge_id}/ranking",
                      headers=token(app, api_token, world.officer_id)).get_json()
    assert len(body["items"]) == 4 and "krippendorff_alpha" in body["reliability"]
    for item in body["items"]:
        assert set(item) >= {"proposal_id", "raw_score", "calibrated_score", "interval", "reviewers", "spread",
                             "disagreement", "expected_rank", "grey_zone", "flags"}
        assert item["interval"][0] <= item["calibrated_score"] <= item["interval"][1]
    by_id = {i["proposal_id"]: i for i in body["items"]}
    assert by_id[gas]["disagreement"] is True and by_id[gas]["spread"] == 6
    assert "few_reviews" in by_id[gas]["flags"]  # 2 reviews each
    assert {str(c) for c in world.criteria} == set(body["reliability"]["per_criterion"])
    assert body["reliability"]["explanation"] and body["reviewer_biases"]
    reviewer = token(app, api_token, world.reviewers["Karl Berg"])
    assert client.get(f"/api/v1/challenges/{world.challenge_id}/ranking", headers=reviewer).status_code == 404


def test_progress_and_reminders(app, client, api_token, world):
    from datetime import UTC, datetime, timedelta

    from tests.helpers import outbox

    add_pool(world)
    soon = datetime.now(UTC) + timedelta(days=2)
    assign(world, per_proposal=2, max_per_reviewer=3, due_at=soon)
    progress = client.get(f"/api/v1/challenges/{world.challenge_id}/review-progress",
                          headers=_manager(app, api_token, world)).get_json()["items"]
    assert sum(row["assigned"] for row in progress) == 8 and all(row["submitted"] == 0 for row in progress)

    manager = _manager(app, api_token, world)
    url = f"/api/v1/challenges/{world.challenge_id}/review-reminders"
    answer = client.post(url, headers=manager)
    assert answer.status_code == 200, answer.get_json()
    reminded = {m.recipient for m in outbox(app) if m.template == "review_reminder"}
    with app.app_context():
        from marketplace.accounts.models import User
        from marketplace.audit.models import AuditEntry

        assigned = {db.session.get(User, uid).email for uid in {row["reviewer_id"] for row in progress
                                                                if row["assigned"]}}
        assert db.session.scalar(select(func.count(AuditEntry.id)).filter_by(action="reviews.reminded")) == 1
    assert answer.get_json() == {"reminded": len(assigned)} and reminded == assigned
    assert client.post(url, headers=manager).get_json() == {"reminded": 0}  # once a day
    reviewer = token(app, api_token, world.reviewers["Karl Berg"])
    assert client.post(url, headers=reviewer).status_code in (403, 404)


def test_one_reviewer_per_institution_per_proposal(app, client, api_token, build_world):
    world = build_world(topics=("readout", "thermal"), reviewers={
        "Olga Ivanova": ("olga@kth.example", "readout", "SE"),
        "Per Nilsson": ("per@kth.example", "readout", "SE"),  # the same institution as Olga
        "Grace Hopper": ("grace@navy.example", "thermal", "US"),
        "Hiro Sato": ("hiro@kyoto.example", "thermal", "JP")})
    add_pool(world)
    url = f"/api/v1/challenges/{world.challenge_id}/assignments"
    body = client.post(url, json={"per_proposal": 2, "max_per_reviewer": 2, "one_per_institution": True},
                       headers=_manager(app, api_token, world)).get_json()
    kth = {world.reviewers["Olga Ivanova"], world.reviewers["Per Nilsson"]}
    for pid in world.proposals.values():
        assert len({a["reviewer_id"] for a in body["assignments"] if a["proposal_id"] == pid} & kth) <= 1
    settings = client.get(f"/api/v1/challenges/{world.challenge_id}/review-settings",
                          headers=_manager(app, api_token, world)).get_json()
    assert settings["one_per_institution"] is True and settings["per_proposal"] == 2


def test_a_file_kind_that_cannot_be_cleaned_is_served_with_a_warning(app, client, api_token, build_world):
    from tests.files.samples import zip_of

    world = build_world(close=False)
    anna = token(app, api_token, world.solvers["readout"])
    uploaded = client.post(f"/api/v1/proposals/{world.proposals['readout']}/attachments", headers=anna,
                           data={"file": (io.BytesIO(zip_of({"data.csv": "a,b\n1,2\n"})), "schmidt-data.zip")},
                           content_type="multipart/form-data")
    assert uploaded.status_code == 201, uploaded.get_json()
    assert client.post(f"/api/v1/proposals/{world.proposals['readout']}/submit", headers=anna).status_code == 200
    with world.ctx():
        from marketplace.challenges import services as challenges

        challenges.close(world.challenge(), world.user(world.manager_id))
        db.session.commit()
    flags = client.get(f"/api/v1/challenges/{world.challenge_id}/identity-flags",
                       headers=token(app, api_token, world.officer_id)).get_json()["items"]
    assert {"field": "attachment-1", "kind": "unclean_file"}.items() <= next(
        f for f in flags if f["kind"] == "unclean_file").items()
    add_pool(world)
    pairs = assign(world, per_proposal=2, max_per_reviewer=3)
    review_id, _pid, reviewer_id = next(p for p in pairs if p[1] == world.proposals["readout"])
    headers = token(app, api_token, reviewer_id)
    detail = client.get(f"/api/v1/reviews/{review_id}", headers=headers).get_json()
    assert detail["attachments"][0]["name"] == "attachment-1.zip" and detail["attachments"][0]["blind_safe"] is False
    download = client.get(f"/api/v1/reviews/{review_id}/attachments/1", headers=headers)
    assert download.status_code == 200 and download.headers["X-Blind-Review-Warning"] == "metadata-not-removed"
    assert "schmidt" not in download.headers["Content-Disposition"]


def test_settings_suggestions_and_removal_from_the_pool(app, client, api_token, world):
    manager = _manager(app, api_token, world)
    base = f"/api/v1/challenges/{world.challenge_id}"
    suggested = client.get(f"{base}/reviewer-suggestions?limit=5", headers=manager).get_json()["items"]
    assert suggested and len(suggested) <= 5
    assert not {s["user_id"] for s in suggested} & set(world.solvers.values())  # solvers are never suggested
    rolf = next(s for s in client.get(f"{base}/reviewer-suggestions?limit=50", headers=manager).get_json()["items"]
                if s["user_id"] == world.reviewers["Rolf Weber"])
    assert rolf["conflicts"] == {"same_email_domain": 1, "same_organization": 1}
    assert client.get(f"{base}/reviewer-suggestions",
                      headers=token(app, api_token, world.officer_id)).status_code == 403

    saved = client.put(f"{base}/review-settings", json={"exclude_same_country": True, "planned_awards": 2},
                       headers=manager)
    assert saved.status_code == 200 and saved.get_json()["planned_awards"] == 2
    assert client.put(f"{base}/review-settings", json={"review_due_at": "2001-01-01T00:00:00+00:00"},
                      headers=manager).status_code == 422
    add_pool(world, ["Rolf Weber", "Karl Berg"])
    conflicts = client.get(f"{base}/conflicts", headers=manager).get_json()["items"]
    rolf_anna = [c for c in conflicts if c["reviewer_id"] == world.reviewers["Rolf Weber"]
                 and c["proposal_id"] == world.proposals["readout"]][0]
    assert "same_country" in rolf_anna["reasons"]  # Rolf and Anna are both in DE, and the rule is on
    assert client.delete(f"{base}/reviewers/{world.reviewers['Karl Berg']}", headers=manager).status_code == 204
    assert client.delete(f"{base}/reviewers/{world.reviewers['Karl Berg']}", headers=manager).status_code == 404
    assert [m["user_id"] for m in client.get(f"{base}/reviewers", headers=manager).get_json()["items"]] == [
        world.reviewers["Rolf Weber"]]


def test_a_pool_member_who_turns_solver_reviews_nothing_of_the_challenge(app, client, api_token, build_world):
    from marketplace.challenges import agreements
    from marketplace.challenges import services as challenges
    from marketplace.challenges.agreement_models import AgreementAcceptance
    from marketplace.errors import Forbidden
    from marketplace.proposals.models import Proposal, ProposalMember

    world = build_world(close=False)
    add_pool(world)
    karl = world.reviewers["Karl Berg"]
    with world.ctx():
        challenge, user = world.challenge(), world.user(karl)
        with pytest.raises(Forbidden, match="Reviewers of this challenge cannot take part"):
            agreements.accept(challenge, user, version=challenge.agreement_version)
        # Rows written before that rule (or around it) still keep Karl away from every proposal.
        db.session.add(AgreementAcceptance(challenge_id=challenge.id, user_id=karl,
                                           version=challenge.agreement_version))
        draft = Proposal(challenge_id=challenge.id, lead_id=karl, title="A draft never submitted", locale="en")
        draft.members.append(ProposalMember(user_id=karl, email=user.email, role="lead", status="accepted"))
        db.session.add(draft)
        challenges.close(challenge, world.user(world.manager_id))
        db.session.commit()
    conflicts = client.get(f"/api/v1/challenges/{world.challenge_id}/conflicts",
                           headers=_manager(app, api_token, world)).get_json()["items"]
    assert {c["proposal_id"] for c in conflicts if c["reviewer_id"] == karl
            and "solver_in_challenge" in c["reasons"]} == set(world.proposals.values())
    body = client.post(f"/api/v1/challenges/{world.challenge_id}/assignments", json={"per_proposal": 2},
                       headers=_manager(app, api_token, world)).get_json()
    assert karl not in {a["reviewer_id"] for a in body["assignments"]}
