"""The review pages: reviewer dashboard, agreement, the blind review form, staff pages, the proposal's section."""

from __future__ import annotations

import re

from marketplace.extensions import db
from tests.factories import accept_all, add_pool, assign, review_all
from tests.helpers import csrf_token_from


def _user(app, user_id):
    from marketplace.accounts.models import User

    with app.app_context():
        return db.session.get(User, user_id)


def test_reviewer_accepts_the_agreement_then_scores_blind(app, browser, build_world):
    world = build_world()
    add_pool(world, accept=False)
    pairs = assign(world, per_proposal=2, max_per_reviewer=3)
    review_id, _pid, reviewer_id = next(p for p in pairs if p[1] == world.proposals["readout"])
    page = browser(_user(app, reviewer_id))

    dashboard = page.get("/reviews")
    assert dashboard.status_code == 200 and b"Read the agreement" in dashboard.data
    assert page.get(f"/reviews/{review_id}").status_code == 302
    agreement = page.get(f"/reviews/agreement/{world.challenge_id}")
    assert b"Confidentiality" in agreement.data
    refused = page.post(f"/reviews/agreement/{world.challenge_id}", data={"csrf_token": csrf_token_from(agreement)})
    assert refused.status_code == 422
    accepted = page.post(f"/reviews/agreement/{world.challenge_id}",
                         data={"csrf_token": csrf_token_from(agreement), "accept": "y"})
    assert accepted.status_code == 302

    review = page.get(f"/reviews/{review_id}")
    html = review.get_data(as_text=True)
    assert review.status_code == 200 and "chopper" in html.lower()
    for secret in ("Anna Schmidt", "anna.schmidt@tum.example", "Technical University of Munich"):
        assert secret not in html
    assert "Exceptional: could not be better" in html  # the anchored scale is on the page
    assert "You can read the other reviews once you have submitted yours." in html

    first, second = world.criteria
    token = csrf_token_from(review)
    draft = page.post(f"/reviews/{review_id}", data={"csrf_token": token, f"score-{first}": "8",
                                                     "comment": "Good noise budget.", "save": "Save draft"})
    assert draft.status_code == 302
    incomplete = page.post(f"/reviews/{review_id}", data={"csrf_token": token, f"score-{first}": "8",
                                                          "comment": "Good noise budget.", "submit": "Submit review"})
    assert incomplete.status_code == 422 and b"The review is not complete yet." in incomplete.data
    done = page.post(f"/reviews/{review_id}", data={
        "csrf_token": token, f"score-{first}": "8", f"score-{second}": "7", "comment": "Good noise budget.",
        "recommendation": "award", "submit": "Submit review"})
    assert done.status_code == 302
    locked = page.get(f"/reviews/{review_id}").get_data(as_text=True)
    assert "Submitted" in locked and f'name="score-{first}" value="8" checked disabled' in locked


def test_manager_runs_the_review_from_the_staff_pages(app, browser, build_world):
    world = build_world()
    manager = browser(_user(app, world.manager_id))
    pool_page = manager.get(f"/staff/challenges/{world.challenge_id}/review/pool")
    assert pool_page.status_code == 200
    assert b"Suggested from the expert database" in pool_page.data and b"Rolf Weber" in pool_page.data
    emails = "\n".join(["rolf.weber@tum.example", "grace@navy.example", "hiro@kyoto.example", "ivan@kth.example",
                        "jana@cvut.example", "karl@lund.example"])
    added = manager.post(f"/staff/challenges/{world.challenge_id}/review/pool",
                         data={"csrf_token": csrf_token_from(pool_page), "people": emails})
    assert added.status_code == 302
    pool_page = manager.get(f"/staff/challenges/{world.challenge_id}/review/pool")
    assert "Same e-mail domain as an author" in pool_page.get_data(as_text=True)
    unknown = manager.post(f"/staff/challenges/{world.challenge_id}/review/pool",
                           data={"csrf_token": csrf_token_from(pool_page), "people": "nobody@nowhere.example"})
    assert unknown.status_code == 422 and b"nobody@nowhere.example" in unknown.data

    page = manager.get(f"/staff/challenges/{world.challenge_id}/review/assignment")
    assert b"Author identities found in proposals" in page.data  # Anna named herself
    places = re.findall(r'<tr><th scope="row">#\d+</th><td>([^<]*)</td>', page.get_data(as_text=True))
    assert places and set(places) <= {"Title", "Abstract", "Proposal"}  # where, in words, never `body`
    assigned = manager.post(f"/staff/challenges/{world.challenge_id}/review/assignment", data={
        "csrf_token": csrf_token_from(page), "per_proposal": "2", "max_per_reviewer": "3", "min_per_reviewer": "0"})
    assert assigned.status_code == 302
    page = manager.get(f"/staff/challenges/{world.challenge_id}/review/assignment")
    assert b"Total affinity" in page.data
    infeasible = manager.post(f"/staff/challenges/{world.challenge_id}/review/assignment", data={
        "csrf_token": csrf_token_from(page), "per_proposal": "7", "max_per_reviewer": "3", "min_per_reviewer": "0"})
    assert infeasible.status_code == 409 and b"No valid assignment exists" in infeasible.data

    progress = manager.get(f"/staff/challenges/{world.challenge_id}/review/progress")
    assert progress.status_code == 200 and b"0 of 8 reviews submitted" in progress.data
    assert b"flask " not in progress.data  # no developer command in the interface: a button instead
    reminded = manager.post(f"/staff/challenges/{world.challenge_id}/review/reminders",
                            data={"csrf_token": csrf_token_from(progress)})
    assert reminded.status_code == 303
    notice = manager.get(f"/staff/challenges/{world.challenge_id}/review/progress?lang=en").get_data(as_text=True)
    assert "A reminder was sent to" in notice

    accept_all(world)
    review_all(world, {name: (lambda review: 2 + review.proposal_id % 8) for name in world.reviewers})
    ranking = manager.get(f"/staff/challenges/{world.challenge_id}/review/ranking")
    html = ranking.get_data(as_text=True)
    assert ranking.status_code == 200 and '<svg role="img"' in html and "Krippendorff" in html
    assert re.search(r"<desc id=\"ranking-chart-desc\">Rank 1, proposal \d+", html)

    decision = manager.get(f"/staff/challenges/{world.challenge_id}/review/decision")
    assert decision.status_code == 200
    over = manager.post(f"/staff/challenges/{world.challenge_id}/review/decision", data={
        "csrf_token": csrf_token_from(decision), f"share_{world.proposals['thermal']}": "70",
        f"share_{world.proposals['gas']}": "40", "feedback_enabled": "y"})
    assert over.status_code == 422
    decided = manager.post(f"/staff/challenges/{world.challenge_id}/review/decision", data={
        "csrf_token": csrf_token_from(decision), f"share_{world.proposals['thermal']}": "70",
        f"share_{world.proposals['gas']}": "30", "feedback_enabled": "y"})
    assert decided.status_code == 302
    summary = manager.get(f"/staff/challenges/{world.challenge_id}/review/decision").get_data(as_text=True)
    assert "Split award" in summary and "70 %" in summary

    author = browser(_user(app, world.solvers["readout"]))
    proposal_page = author.get(f"/proposals/{world.proposals['readout']}").get_data(as_text=True)
    assert "Reviewers&#39; feedback" in proposal_page or "Reviewers' feedback" in proposal_page
    assert "Reviewer 1" in proposal_page and "Rank:" in proposal_page
    for name in world.reviewers:
        assert name not in proposal_page


def test_staff_pages_are_hidden_from_reviewers_and_outsiders(app, browser, build_world, make_user):
    from marketplace.accounts.models import Organization

    world = build_world()
    with app.app_context():
        org = db.session.get(Organization, world.org_id)
    internal_reviewer = make_user(roles=[("reviewer", org)])
    for user in (internal_reviewer, make_user(), _user(app, world.solvers["gas"])):
        page = browser(user)
        for tab in ("pool", "assignment", "progress", "ranking", "decision"):
            assert page.get(f"/staff/challenges/{world.challenge_id}/review/{tab}").status_code == 404
    officer = browser(_user(app, world.officer_id))
    assert officer.get(f"/staff/challenges/{world.challenge_id}/review/ranking").status_code == 200
    assert b"A center manager decides the awards." in officer.get(
        f"/staff/challenges/{world.challenge_id}/review/decision").data


def test_authors_exclude_people_and_answer_questions_on_their_proposal_page(app, browser, build_world):
    world = build_world(close=False)
    anna = browser(_user(app, world.solvers["readout"]))
    page = anna.get(f"/proposals/{world.proposals['readout']}")
    assert b"People who must not review this proposal" in page.data
    excluded = anna.post(f"/proposals/{world.proposals['readout']}/exclusions", data={
        "csrf_token": csrf_token_from(page), "email": "grace@navy.example", "reason": "Competitor"})
    assert excluded.status_code == 302
    assert b"Grace Hopper" in anna.get(f"/proposals/{world.proposals['readout']}").data

    from marketplace.challenges import services as challenges

    with world.ctx():
        challenges.close(world.challenge(), world.user(world.manager_id))
        db.session.commit()
    add_pool(world)
    pairs = assign(world, per_proposal=2, max_per_reviewer=3)
    review_id, _pid, reviewer_id = next(p for p in pairs if p[1] == world.proposals["readout"])
    assert reviewer_id != world.reviewers["Grace Hopper"]
    reviewer = browser(_user(app, reviewer_id))
    review = reviewer.get(f"/reviews/{review_id}")
    asked = reviewer.post(f"/reviews/{review_id}/clarifications", data={
        "csrf_token": csrf_token_from(review), "question": "What is the chopping frequency?"})
    assert asked.status_code == 302
    page = anna.get(f"/proposals/{world.proposals['readout']}")
    assert b"What is the chopping frequency?" in page.data
    from marketplace.reviews.models import Clarification

    with app.app_context():
        clarification_id = db.session.scalar(db.select(Clarification.id))
    answered = anna.post(f"/proposals/{world.proposals['readout']}/clarifications/{clarification_id}/answer",
                         data={"csrf_token": csrf_token_from(page), "answer": "200 kHz."})
    assert answered.status_code == 302
    assert b"200 kHz." in reviewer.get(f"/reviews/{review_id}").data
