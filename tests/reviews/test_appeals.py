"""Appeals of provisional scores: release, the solver's scores, appeals within the window, answers by the reviewer
(blind) or the manager, the decision blocked while an appeal is open, the ranking after a rescoring; API and pages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from marketplace.extensions import db
from tests.factories import add_pool, assign, review_all, token
from tests.helpers import csrf_token_from, outbox

WINDOW = {"appeals": {"window_days": 3}}


def _scores_by_topic(world, table: dict[str, int], default: int = 4):
    by_proposal = {world.proposals[t]: s for t, s in table.items()}
    return {name: (lambda review: by_proposal.get(review.proposal_id, default)) for name in world.reviewers}


@pytest.fixture
def judged(build_world):
    """Judging, two reviews per proposal, all submitted; thermal scored 5 everywhere, gas 6, the others 4."""
    world = build_world(challenge_overrides=WINDOW)
    add_pool(world)
    assign(world, per_proposal=2, max_per_reviewer=4)
    review_all(world, _scores_by_topic(world, {"thermal": 5, "gas": 6}))
    return world


def _api(client, app, api_token, user_id, method, url, **kwargs):
    return getattr(client, method)(url, headers=token(app, api_token, user_id), **kwargs)


def _release(client, app, api_token, world):
    return _api(client, app, api_token, world.manager_id, "post",
                f"/api/v1/challenges/{world.challenge_id}/provisional-scores")


@pytest.fixture
def released(judged, client, app, api_token):
    response = _release(client, app, api_token, judged)
    assert response.status_code == 201, response.get_json()
    return judged


def _reviews_of(app, proposal_id):
    from marketplace.reviews.score_release import numbered_reviews

    with app.app_context():
        return [(r.id, r.reviewer_id) for r in numbered_reviews(proposal_id)]


def _appeal(client, app, api_token, world, topic="thermal", *, criterion=0, review=1, reason="The noise figure "
            "was measured, see table 2.", user=None):
    return _api(client, app, api_token, user or world.solvers[topic], "post",
                f"/api/v1/proposals/{world.proposals[topic]}/appeals",
                json={"criterion_id": world.criteria[criterion], "reason": reason, "review": review})


def _appeal_rows(app):
    from marketplace.reviews.models import Appeal

    with app.app_context():
        return db.session.scalars(db.select(Appeal).order_by(Appeal.id)).all()


def _score(app, review_id, criterion_id):
    from marketplace.reviews.models import ReviewScore

    with app.app_context():
        return db.session.scalar(db.select(ReviewScore.score).where(ReviewScore.review_id == review_id,
                                                                    ReviewScore.criterion_id == criterion_id))


def _signed_in(app, user_id):
    """A fresh test client signed in as `user_id` through the real login form."""
    from marketplace.accounts.models import User
    from tests.factories import TEST_PASSWORD

    with app.app_context():
        email = db.session.get(User, user_id).email
    browser = app.test_client()
    page = browser.get("/auth/login")
    response = browser.post("/auth/login", data={"email": email, "password": TEST_PASSWORD,
                                                 "csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    return browser


def _decide(client, app, api_token, world):
    return _api(client, app, api_token, world.manager_id, "post", f"/api/v1/challenges/{world.challenge_id}/awards",
                json={"awards": [{"proposal_id": world.proposals["gas"], "share_pct": 100}]})


# --- the challenge's setting --------------------------------------------------------------------------------

def test_the_appeal_window_is_taken_on_create_and_update_and_shown(app, client, api_token, make_org, make_user,
                                                                   challenge_factory):
    org = make_org()
    manager = make_user(roles=[("center_manager", org)])
    with_window = challenge_factory(org, manager, status="draft", appeals={"window_days": 5})
    without = challenge_factory(org, manager, status="draft")
    headers = token(app, api_token, manager.id)
    assert client.get(f"/api/v1/challenges/{with_window.id}", headers=headers).get_json()["appeals"] == {
        "window_days": 5}
    assert client.get(f"/api/v1/challenges/{without.id}", headers=headers).get_json()["appeals"] is None

    response = client.patch(f"/api/v1/challenges/{without.id}", json={"appeals": {"window_days": 7}},
                            headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["appeals"] == {"window_days": 7}
    for bad in (0, 31, "3", True):
        response = client.patch(f"/api/v1/challenges/{without.id}", json={"appeals": {"window_days": bad}},
                                headers=headers)
        assert response.status_code == 422, bad
    assert client.get(f"/api/v1/challenges/{without.id}", headers=headers).get_json()["appeals"] == {
        "window_days": 7}
    response = client.patch(f"/api/v1/challenges/{without.id}", json={"appeals": None}, headers=headers)
    assert response.get_json()["appeals"] is None


def test_release_needs_a_window_and_a_manager_and_happens_once(app, client, api_token, build_world, make_user):
    world = build_world()  # no appeal window
    add_pool(world)
    assign(world, per_proposal=1, max_per_reviewer=4)
    review_all(world)
    assert _release(client, app, api_token, world).status_code == 409
    officer = _api(client, app, api_token, world.officer_id, "post",
                   f"/api/v1/challenges/{world.challenge_id}/provisional-scores")
    assert officer.status_code == 403
    stranger = make_user("stranger@example.com")
    assert _api(client, app, api_token, stranger.id, "post",
                f"/api/v1/challenges/{world.challenge_id}/provisional-scores").status_code == 404


def test_release_waits_for_every_review(app, client, api_token, build_world):
    world = build_world(challenge_overrides=WINDOW)
    add_pool(world)
    assign(world, per_proposal=1, max_per_reviewer=4)
    response = _release(client, app, api_token, world)
    assert response.status_code == 409
    solver = world.solvers["thermal"]
    assert _api(client, app, api_token, solver, "get",
                f"/api/v1/proposals/{world.proposals['thermal']}/scores").status_code == 409


# --- the happy path through the API -------------------------------------------------------------------------

def test_full_happy_path(app, client, api_token, released):
    from marketplace.audit.models import AuditEntry

    world = released
    pid = world.proposals["thermal"]
    again = _release(client, app, api_token, world)
    assert again.status_code == 409

    scores = _api(client, app, api_token, world.solvers["thermal"], "get", f"/api/v1/proposals/{pid}/scores")
    assert scores.status_code == 200, scores.get_json()
    body = scores.get_json()
    assert body["window_open"] is True and body["calibrated_score"] is not None
    assert [r["number"] for r in body["reviews"]] == [1, 2]
    assert all(s["score"] == 5 for c in body["criteria"] for s in c["scores"])
    assert "reviewer_id" not in str(body) and "Hiro" not in str(body)

    response = _appeal(client, app, api_token, world)
    assert response.status_code == 201, response.get_json()
    appeal = response.get_json()
    assert appeal["status"] == "open" and appeal["original_score"] == 5 and appeal["review"] == 1
    review_id, reviewer_id = _reviews_of(app, pid)[0]
    with app.app_context():
        from marketplace.accounts.models import User

        reviewer_email = db.session.get(User, reviewer_id).email
    told = [m for m in outbox(app) if m.template == "appeal_filed"]
    assert [m.recipient for m in told] == [reviewer_email]
    assert "/reviews/appeals" in told[0].body_text and "Bruno" not in told[0].body_text

    # The decision waits for the answer, and nothing of it is written.
    refused = _decide(client, app, api_token, world)
    assert refused.status_code == 409
    assert "appeal" in refused.get_json()["detail"]
    with app.app_context():
        from marketplace.awards.models import AwardDecision

        assert db.session.scalar(db.select(db.func.count(AwardDecision.id))) == 0

    answered = _api(client, app, api_token, reviewer_id, "post", f"/api/v1/appeals/{appeal['id']}/answer",
                    json={"outcome": "rescored", "score": 8, "response": "Table 2 convinced me."})
    assert answered.status_code == 200, answered.get_json()
    assert answered.get_json()["status"] == "rescored" and answered.get_json()["new_score"] == 8
    assert _score(app, review_id, world.criteria[0]) == 8

    mine = _api(client, app, api_token, world.solvers["thermal"], "get", f"/api/v1/proposals/{pid}/scores")
    shown = mine.get_json()["appeals"][0]
    assert shown["status"] == "rescored" and shown["new_score"] == 8 and shown["response"] == "Table 2 convinced me."
    mails = [m for m in outbox(app) if m.template == "appeal_answered"]
    assert [m.recipient for m in mails] == ["bruno.costa@usp.example"]
    assert f"/proposals/{pid}/scores" in mails[0].body_text
    with app.app_context():
        actions = set(db.session.scalars(db.select(AuditEntry.action)))
    assert {"appeals.scores_released", "appeal.filed", "appeal.answered", "review.rescored"} <= actions

    assert _decide(client, app, api_token, world).status_code == 201
    closed = _appeal(client, app, api_token, world, criterion=1)
    assert closed.status_code == 409  # decided: appeals are over


def test_the_window_closes(app, client, api_token, released):
    from marketplace.reviews.models import ScoreRelease

    with app.app_context():
        row = db.session.get(ScoreRelease, released.challenge_id)
        row.window_closes_at = row.released_at - timedelta(seconds=1)
        db.session.commit()
    response = _appeal(client, app, api_token, released)
    assert response.status_code == 409
    assert "closed" in response.get_json()["detail"]
    assert _appeal_rows(app) == []
    scores = _api(client, app, api_token, released.solvers["thermal"], "get",
                  f"/api/v1/proposals/{released.proposals['thermal']}/scores")
    assert scores.get_json()["window_open"] is False


def test_other_people_cannot_read_or_appeal(app, client, api_token, released, make_user):
    world = released
    pid = world.proposals["thermal"]
    other_solver = world.solvers["gas"]
    assert _api(client, app, api_token, other_solver, "get", f"/api/v1/proposals/{pid}/scores").status_code == 404
    assert _appeal(client, app, api_token, world, user=other_solver).status_code == 404
    _review_id, reviewer_id = _reviews_of(app, pid)[0]
    assert _api(client, app, api_token, reviewer_id, "get", f"/api/v1/proposals/{pid}/scores").status_code == 404
    assert client.get(f"/api/v1/proposals/{pid}/scores").status_code == 401
    assert _appeal_rows(app) == []


@pytest.mark.parametrize(("change", "field"), [
    ({"reason": ""}, "reason"),
    ({"reason": "   "}, "reason"),
    ({"reason": "x" * 2001}, "reason"),
    ({"review": 9}, "review"),
    ({"review": None}, "review"),  # two reviewers scored it: which one?
    ({"criterion": None}, "criterion_id"),
])
def test_bad_appeals_are_refused_whole(app, client, api_token, released, change, field):
    world = released
    body = {"criterion_id": world.criteria[0], "reason": "Please look again.", "review": 1}
    if "reason" in change:
        body["reason"] = change["reason"]
    if "review" in change:
        body["review"] = change["review"]
    if "criterion" in change:
        body["criterion_id"] = 999_999
    response = _api(client, app, api_token, world.solvers["thermal"], "post",
                    f"/api/v1/proposals/{world.proposals['thermal']}/appeals", json=body)
    assert response.status_code == 422, response.get_json()
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert field in response.get_json()["errors"]
    assert _appeal_rows(app) == []


def test_the_same_score_is_appealed_once(app, client, api_token, released):
    assert _appeal(client, app, api_token, released).status_code == 201
    assert _appeal(client, app, api_token, released).status_code == 409
    assert len(_appeal_rows(app)) == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"outcome": "rescored", "score": 11, "response": "Better."}, "score"),
    ({"outcome": "rescored", "score": 0, "response": "Better."}, "score"),
    ({"outcome": "rescored", "score": "9", "response": "Better."}, "score"),
    ({"outcome": "rescored", "response": "Better."}, "score"),
    ({"outcome": "rescored", "score": 5, "response": "Same."}, "score"),
    ({"outcome": "upheld", "response": "  "}, "response"),
    ({"outcome": "upheld", "score": 7, "response": "Stands."}, "score"),
])
def test_bad_answers_change_nothing(app, client, api_token, released, body, field):
    world = released
    appeal = _appeal(client, app, api_token, world).get_json()
    review_id, reviewer_id = _reviews_of(app, world.proposals["thermal"])[0]
    response = _api(client, app, api_token, reviewer_id, "post", f"/api/v1/appeals/{appeal['id']}/answer", json=body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert _score(app, review_id, world.criteria[0]) == 5
    assert _appeal_rows(app)[0].status == "open"


def test_the_manager_answers_when_the_reviewer_does_not(app, client, api_token, released, make_user):
    from marketplace.reviews.models import Appeal

    world = released
    appeal = _appeal(client, app, api_token, world).get_json()
    upheld = {"outcome": "upheld", "response": "The score stands."}
    url = f"/api/v1/appeals/{appeal['id']}/answer"
    early = _api(client, app, api_token, world.manager_id, "post", url, json=upheld)
    assert early.status_code == 409
    assert _api(client, app, api_token, world.officer_id, "post", url, json=upheld).status_code == 403
    stranger = make_user("nosy@example.com")
    assert _api(client, app, api_token, stranger.id, "post", url, json=upheld).status_code == 404
    other_reviewer = next(uid for uid in world.reviewers.values()
                          if uid not in {r for _i, r in _reviews_of(app, world.proposals["thermal"])})
    assert _api(client, app, api_token, other_reviewer, "post", url, json=upheld).status_code == 404
    with app.app_context():
        row = db.session.get(Appeal, appeal["id"])
        row.answer_due_at = row.created_at - timedelta(seconds=1)
        db.session.commit()
    late = _api(client, app, api_token, world.manager_id, "post", url, json=upheld)
    assert late.status_code == 200, late.get_json()
    assert late.get_json()["status"] == "upheld" and late.get_json()["answered_as"] == "manager"
    again = _api(client, app, api_token, world.manager_id, "post", url, json=upheld)
    assert again.status_code == 409


def test_staff_see_every_appeal_and_reviewers_only_their_own_blind(app, client, api_token, released, make_user):
    world = released
    _appeal(client, app, api_token, world, review=1)
    _appeal(client, app, api_token, world, review=2)
    (_r1, first), (_r2, second) = _reviews_of(app, world.proposals["thermal"])
    url = f"/api/v1/challenges/{world.challenge_id}/appeals"
    staff = _api(client, app, api_token, world.manager_id, "get", url).get_json()
    assert staff["total"] == 2 and {a["reviewer_id"] for a in staff["items"]} == {first, second}
    mine = _api(client, app, api_token, first, "get", url)
    assert mine.status_code == 200
    assert [a["review_id"] for a in mine.get_json()["items"]] == [_r1]
    text = mine.get_data(as_text=True)
    for identity in ("Bruno", "Costa", "bruno.costa@usp.example", "appellant_id", "reviewer_id"):
        assert identity not in text
    idle = next(uid for uid in world.reviewers.values() if uid not in (first, second))
    assert _api(client, app, api_token, idle, "get", url).get_json()["items"] == []
    stranger = make_user("outsider@example.com")
    assert _api(client, app, api_token, stranger.id, "get", url).status_code == 404


def test_a_reason_naming_the_author_is_masked_for_the_reviewer(app, client, api_token, released):
    world = released
    _appeal(client, app, api_token, world, reason="I, Bruno Costa, measured it again.")
    _r1, first = _reviews_of(app, world.proposals["thermal"])[0]
    body = _api(client, app, api_token, first, "get", f"/api/v1/challenges/{world.challenge_id}/appeals").get_json()
    assert "Bruno Costa" not in body["items"][0]["reason"]


def test_rescoring_changes_the_ranking(app, client, api_token, released):
    world = released
    ranking_url = f"/api/v1/challenges/{world.challenge_id}/ranking?bootstrap=0"

    def order():
        items = _api(client, app, api_token, world.manager_id, "get", ranking_url).get_json()["items"]
        return [item["proposal_id"] for item in sorted(items, key=lambda item: item["rank"])]

    thermal, gas = world.proposals["thermal"], world.proposals["gas"]
    before = order()
    assert before.index(gas) < before.index(thermal)
    for number, (_review_id, reviewer_id) in enumerate(_reviews_of(app, thermal), start=1):
        for criterion in (0, 1):
            appeal = _appeal(client, app, api_token, world, criterion=criterion, review=number).get_json()
            answered = _api(client, app, api_token, reviewer_id, "post", f"/api/v1/appeals/{appeal['id']}/answer",
                            json={"outcome": "rescored", "score": 10, "response": "Re-read; much better."})
            assert answered.status_code == 200, answered.get_json()
    after = order()
    assert after.index(thermal) < after.index(gas)
    assert after[0] == thermal


# --- pages --------------------------------------------------------------------------------------------------

def test_pages_release_appeal_answer_and_show_the_outcome(app, judged):
    world = judged
    pid = world.proposals["thermal"]
    _review_id, reviewer_id = _reviews_of(app, pid)[0]

    manager = _signed_in(app, world.manager_id)
    queue = manager.get(f"/staff/challenges/{world.challenge_id}/review/appeals")
    assert queue.status_code == 200 and b"Release the provisional scores" in queue.data
    released = manager.post(f"/staff/challenges/{world.challenge_id}/review/provisional-scores",
                            data={"csrf_token": csrf_token_from(queue)})
    assert released.status_code == 302
    assert [m.recipient for m in outbox(app) if m.template == "provisional_scores_released"].count(
        "bruno.costa@usp.example") == 1

    solver = _signed_in(app, world.solvers["thermal"])
    page = solver.get(f"/proposals/{pid}")
    assert page.status_code == 200
    assert b"Provisional scores" in page.data and b"Send the appeal" in page.data
    empty = solver.post(f"/proposals/{pid}/appeals", data={
        "csrf_token": csrf_token_from(page), "criterion_id": world.criteria[0], "review": "1", "reason": ""})
    assert empty.status_code == 422
    assert b"Say why the score should change." in empty.data
    assert _appeal_rows(app) == []
    sent = solver.post(f"/proposals/{pid}/appeals", data={
        "csrf_token": csrf_token_from(page), "criterion_id": world.criteria[0], "review": "1",
        "reason": "The measured noise is in table 2."})
    assert sent.status_code == 302
    assert len(_appeal_rows(app)) == 1

    queue = manager.get(f"/staff/challenges/{world.challenge_id}/review/appeals")
    assert b"The measured noise is in table 2." in queue.data
    decision = manager.get(f"/staff/challenges/{world.challenge_id}/review/decision")
    assert b"1 appeal of a provisional score is open. Answer it before deciding." in decision.data
    refused = manager.post(f"/staff/challenges/{world.challenge_id}/review/decision", data={
        "csrf_token": csrf_token_from(decision), f"share_{world.proposals['gas']}": "100", "feedback_enabled": "y"})
    assert refused.status_code == 409 and b"appeal" in refused.data

    reviewer = _signed_in(app, reviewer_id)
    mine = reviewer.get("/reviews/appeals")
    assert mine.status_code == 200
    assert b"The measured noise is in table 2." in mine.data
    for identity in (b"Bruno", b"Costa", b"bruno.costa"):
        assert identity not in mine.data
    appeal_id = _appeal_rows(app)[0].id
    bad = reviewer.post(f"/appeals/{appeal_id}/answer", data={
        "csrf_token": csrf_token_from(mine), "outcome": "rescored", "score": "", "response": "Fine."})
    assert bad.status_code == 422 and b"Give the new score." in bad.data
    assert _appeal_rows(app)[0].status == "open"
    good = reviewer.post(f"/appeals/{appeal_id}/answer", data={
        "csrf_token": csrf_token_from(mine), "outcome": "rescored", "score": "7", "response": "Table 2 helps."})
    assert good.status_code == 302

    shown = solver.get(f"/proposals/{pid}/scores")
    assert shown.status_code == 200
    assert b"Rescored" in shown.data and b"New score: 7 (was 5)." in shown.data and b"Table 2 helps." in shown.data


def test_scores_page_is_the_authors_only(app, released):
    other = _signed_in(app, released.solvers["gas"])
    assert other.get(f"/proposals/{released.proposals['thermal']}/scores").status_code == 404


def test_the_manager_sets_the_window_on_the_queue_page_until_the_release(app, client, api_token, build_world):
    from marketplace.challenges.models import Challenge

    world = build_world()  # created without appeals
    add_pool(world)
    assign(world, per_proposal=1, max_per_reviewer=4)
    review_all(world)
    url = f"/staff/challenges/{world.challenge_id}/review/appeal-window"

    officer = _signed_in(app, world.officer_id)
    page = officer.get(f"/staff/challenges/{world.challenge_id}/review/appeals")
    assert page.status_code == 200 and b"Save the appeal window" not in page.data
    assert officer.post(url, data={"csrf_token": csrf_token_from(page), "window_days": "5"}).status_code == 403

    manager = _signed_in(app, world.manager_id)
    page = manager.get(f"/staff/challenges/{world.challenge_id}/review/appeals")
    bad = manager.post(url, data={"csrf_token": csrf_token_from(page), "window_days": "45"})
    assert bad.status_code == 422 and b"The appeal window is a whole number of days from 1 to 30." in bad.data
    with app.app_context():
        assert db.session.get(Challenge, world.challenge_id).appeals_window_days is None
    assert manager.post(url, data={"csrf_token": csrf_token_from(page), "window_days": "5"}).status_code == 302
    with app.app_context():
        assert db.session.get(Challenge, world.challenge_id).appeals_window_days == 5

    assert _release(client, app, api_token, world).status_code == 201
    late = manager.post(url, data={"csrf_token": csrf_token_from(page), "window_days": "9"})
    assert late.status_code == 409
    with app.app_context():
        assert db.session.get(Challenge, world.challenge_id).appeals_window_days == 5


def test_the_appeal_window_is_in_each_authors_calendar_feed(app, client, api_token, released, make_user):
    from urllib.parse import urlparse

    def feed_of(user_id):
        url = _api(client, app, api_token, user_id, "get", "/api/v1/me/calendar-url").get_json()["url"]
        response = client.get(urlparse(url).path)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    mine = feed_of(released.solvers["gas"])
    assert f"challenge-{released.challenge_id}-appeals-{released.solvers['gas']}" in mine
    assert "Appeals close" in mine
    assert "-appeals-" not in feed_of(make_user().id)  # not an author: no appeal window
