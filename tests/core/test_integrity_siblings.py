"""Issue #10 (defects 1 and 11): the siblings of the participation and privacy rules ask the rules' homes.

- `Proposal.shared_with_staff`: exports and analytics shown to a center's staff leave drafts out.
- `Challenge.conflict_of_interest` (its set form `conflicted_user_ids`): new-challenge alerts do not invite
  staff of the posting center or reviewers in its pool, who could not take part.
- `profiles.may_see_private`: the staff's expert search, reviewer suggestions and exports neither match nor
  show fields a solver made private.
"""

from __future__ import annotations

import csv
import io

import pytest

from marketplace.extensions import db
from tests.helpers import outbox


def _csv(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


# --- drafts stay their authors' --------------------------------------------------------------------------

def test_the_proposals_export_leaves_drafts_out(client, world, api_token):  # noqa: F811
    challenge = world.challenge()
    submitted = world.propose(challenge, world.solver("DE", name="Anna Submitted"))
    draft = world.propose(challenge, world.solver("JP", name="Kenji Drafting"), submit=False)
    headers = api_token(world.manager)

    for fmt in ("csv", None):
        query = {"format": fmt} if fmt else {}
        rows = _csv(client.get(f"/api/v1/exports/challenges/{challenge.id}/proposals", query_string=query,
                               headers=headers))
        assert [int(row["proposal_id"]) for row in rows] == [submitted.id]
        assert "Kenji Drafting" not in str(rows) and draft.title not in str(rows)

    from openpyxl import load_workbook

    xlsx = client.get(f"/api/v1/exports/challenges/{challenge.id}/proposals?format=xlsx", headers=headers)
    workbook = load_workbook(io.BytesIO(xlsx.get_data()), read_only=True)
    assert [row[0] for row in list(workbook["proposals"].values)[1:]] == [submitted.id]
    workbook.close()


def test_analytics_count_no_drafts(client, world, api_token):  # noqa: F811
    challenge = world.challenge()
    world.propose(challenge, world.solver("DE"))
    world.propose(challenge, world.solver("JP"), submit=False)
    rows = _csv(client.get(f"/api/v1/exports/challenges/{challenge.id}/analytics", headers=api_token(world.manager)))
    summary = {row["key"]: row["value"] for row in rows if row["section"] == "summary"}
    assert summary["proposals_submitted"] == "1"
    assert "proposals_draft" not in summary

    page = client.get(f"/api/v1/analytics/challenges/{challenge.id}", headers=api_token(world.manager))
    if page.status_code == 200:  # the JSON twin of the page, where it exists
        assert "draft" not in page.get_json()["proposals"]["by_status"]


def test_the_proposals_export_keeps_a_private_early_career_flag_private(app, client, world, api_token):  # noqa: F811
    from marketplace.solvers.models import ExpertProfile

    challenge = world.challenge()
    private = world.solver("DE", early_career=True, name="Private Early")
    public = world.solver("JP", early_career=True, name="Public Early")
    with app.app_context():
        profile = db.session.scalar(db.select(ExpertProfile).where(ExpertProfile.user_id == private.id))
        profile.visibility = {"early_career": "private"}
        db.session.commit()
    world.propose(challenge, private)
    world.propose(challenge, public)
    rows = _csv(client.get(f"/api/v1/exports/challenges/{challenge.id}/proposals", headers=api_token(world.manager)))
    by_name = {row["lead_name"]: row for row in rows}
    assert by_name["Private Early"]["lead_early_career"] == ""
    assert by_name["Public Early"]["lead_early_career"] == "true"


# --- alerts invite only people who may take part -------------------------------------------------------------

SENSOR_TEXTS = {"title": {"en": "Readout circuit for MEMS gyroscopes"},
                "summary": {"en": "A low-noise readout chain for inertial sensors."},
                "description": {"en": "Full description."}}


def _alerted(app, user) -> bool:
    from marketplace.solvers.models import Notification

    with app.app_context():
        noted = db.session.scalar(db.select(db.func.count()).select_from(Notification)
                                  .where(Notification.user_id == user.id))
    mailed = [m for m in outbox(app) if m.recipient == user.email and m.template == "challenge_alert"]
    return bool(noted or mailed)


def test_alerts_skip_the_centers_staff_and_its_reviewers(app, make_org, make_user, challenge_factory):  # noqa: F811
    from marketplace.accounts.models import User
    from marketplace.challenges import services
    from marketplace.challenges.models import Challenge
    from marketplace.reviews import pool
    from marketplace.solvers import alerts

    org = make_org("sh-sensors")
    manager = make_user(roles=[("center_manager", org)])
    finance = make_user(roles=[("finance_officer", org)])  # staff of the posting center
    own_reviewer = make_user(roles=[("reviewer", org)])
    pooled = make_user(roles=[("reviewer", make_org())])  # another center's reviewer, put in this pool
    other_staff = make_user(roles=[("center_manager", make_org())])  # staff elsewhere may take part
    solver = make_user(country="FR")
    people = (manager, finance, own_reviewer, pooled, other_staff, solver)
    with app.test_request_context():
        for person in people:
            row = db.session.get(User, person.id)
            alerts.follow(row, "tag", "mems", actor=row)
        db.session.commit()

    challenge = challenge_factory(org, manager, status="funded", field="sensors", **SENSOR_TEXTS)
    with app.test_request_context():
        row, author = db.session.get(Challenge, challenge.id), db.session.get(User, manager.id)
        pool.add_reviewers(row, author, [pooled.id])
        services.publish(row, author)
        db.session.commit()

    assert {p.id for p in people if _alerted(app, p)} == {other_staff.id, solver.id}


def test_the_set_form_of_the_conflict_rule_agrees_with_the_rule(app, make_org, make_user,
                                                                challenge_factory):  # noqa: F811
    from marketplace.accounts.models import User
    from marketplace.challenges.models import Challenge
    from marketplace.reviews import pool

    org = make_org("sh-rule")
    manager = make_user(roles=[("center_manager", org)])
    people = [manager, make_user(roles=[("security_officer", org)]), make_user(roles=[("reviewer", make_org())]),
              make_user(roles=[("center_manager", make_org())]), make_user(), make_user(roles=[("admin", None)])]
    challenge = challenge_factory(org, manager)
    with app.test_request_context():
        row = db.session.get(Challenge, challenge.id)
        pool.add_reviewers(row, db.session.get(User, manager.id), [people[2].id])
        db.session.commit()
        conflicted = set(db.session.scalars(row.conflicted_user_ids()))
        by_rule = {p.id for p in people if row.conflict_of_interest(db.session.get(User, p.id))}
    assert conflicted & {p.id for p in people} == by_rule == {people[0].id, people[1].id, people[2].id}


# --- private profile fields are never matched for other centers' staff ---------------------------------------

@pytest.fixture
def hidden(make_user, profile_factory):  # noqa: F811
    """A solver whose expertise, early-career flag and research are private."""
    return profile_factory(make_user(name="Hidden Expert", country="DE"), headline="Process engineer",
                           expertise=["photonics"], early_career=True,
                           research_history=[{"year": 2024, "kind": "patent", "title": "Waveguide couplers"}],
                           visibility={"expertise": "private", "early_career": "private",
                                       "research_history": "private"})


def _experts(client, headers, **args) -> list[str]:
    response = client.get("/api/v1/experts", query_string=args, headers=headers)
    assert response.status_code == 200, response.get_json()
    return [item["display_name"] for item in response.get_json()["items"]]


def test_expert_search_matches_private_fields_for_admins_only(client, make_org, make_user, api_token, hidden):
    staff = api_token(make_user(roles=[("center_manager", make_org())]))
    admin = api_token(make_user(roles=[("admin", None)]))
    for args in ({"expertise": "photonics"}, {"q": "photonics"}, {"q": "waveguide"}, {"early_career": "true"}):
        assert _experts(client, staff, **args) == [], args
        assert _experts(client, admin, **args) == ["Hidden Expert"], args
    assert _experts(client, staff, q="process engineer") == ["Hidden Expert"]  # public fields still match


def test_the_staff_page_does_not_find_experts_by_private_fields(client, login, make_org, make_user, hidden):
    login(make_user(roles=[("reviewer", make_org())]))
    html = client.get("/staff/experts", query_string={"q": "waveguide"}).get_data(as_text=True)
    assert "Hidden Expert" not in html
    html = client.get("/staff/experts", query_string={"q": "process"}).get_data(as_text=True)
    assert "Hidden Expert" in html


def test_reviewer_suggestions_use_and_show_public_fields_only(app, client, make_org, make_user, api_token,
                                                              profile_factory, challenge_factory):  # noqa: F811
    org = make_org("sh-suggest")
    manager = make_user(roles=[("center_manager", org)])
    challenge = challenge_factory(org, manager)  # "Low-noise readout circuit for wafer defect sensors"
    secret = profile_factory(make_user(name="Secret Sam"), headline="Gardener",
                             bio="Low-noise readout circuits for wafer defect sensors.", visibility={"bio": "private"})
    open_ = profile_factory(make_user(name="Open Olga"), headline="Readout noise lead at Hidden Lab",
                            bio="Low-noise readout circuits for wafer defect sensors.", affiliation="Hidden Lab",
                            visibility={"headline": "private", "affiliation": "private"})
    response = client.get(f"/api/v1/challenges/{challenge.id}/reviewer-suggestions?limit=50",
                          headers=api_token(manager))
    assert response.status_code == 200, response.get_json()
    rows = {row["user_id"]: row for row in response.get_json()["items"]}
    assert secret.id not in rows  # matched only through a private bio
    assert open_.id in rows
    assert rows[open_.id]["headline"] == "" and rows[open_.id]["affiliation"] == ""
    assert "Hidden Lab" not in response.get_data(as_text=True)


def test_reviewer_suggestions_count_no_conflicts_with_drafts(client, world, api_token, profile_factory):  # noqa: F811
    challenge = world.challenge()
    world.propose(challenge, world.make_user("sub@alpha-lab.example", country="DE", name="Alpha Author"))
    world.propose(challenge, world.make_user("drafter@beta-lab.example", country="JP", name="Beta Drafter"),
                  submit=False)
    bio = "A careful approach to proposal details."
    near_author = profile_factory(world.make_user("cand@alpha-lab.example", name="Alpha Colleague"), bio=bio)
    near_drafter = profile_factory(world.make_user("cand@beta-lab.example", name="Beta Colleague"), bio=bio)
    response = client.get(f"/api/v1/challenges/{challenge.id}/reviewer-suggestions?limit=50",
                          headers=api_token(world.manager))
    assert response.status_code == 200, response.get_json()
    rows = {row["user_id"]: row for row in response.get_json()["items"]}
    assert rows[near_author.id]["conflicts"].get("same_email_domain") == 1  # the submitted proposal's author
    assert rows[near_drafter.id]["conflicts"] == {}  # the draft is its author's alone: no hint of it


def test_the_security_officers_audit_trail_holds_no_draft(client, world, api_token, make_user):  # noqa: F811
    challenge = world.challenge()
    submitted = world.propose(challenge, world.solver("DE"))
    draft = world.propose(challenge, world.solver("JP"), submit=False)

    def actions(headers, proposal) -> list[str]:
        response = client.get("/api/v1/audit", query_string={"entity": f"proposal:{proposal.id}", "per_page": 100},
                              headers=headers)
        assert response.status_code == 200, response.get_json()
        return [item["action"] for item in response.get_json()["items"]]

    officer = api_token(world.officer)
    assert actions(officer, draft) == []
    assert "proposal.submitted" in actions(officer, submitted)
    assert "proposal.created" in actions(api_token(make_user(roles=[("admin", None)])), draft)  # admins read all
