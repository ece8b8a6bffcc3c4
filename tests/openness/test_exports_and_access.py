"""Exports (CSV content, XLSX that opens), analytics pages and their access rules: staff only, 404 to others."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from marketplace.extensions import db


@pytest.fixture
def contest(world):
    challenge = world.challenge()
    anna = world.solver("DE", early_career=True, name="=HYPERLINK(\"http://evil.example\")")
    kenji = world.solver("JP", name="Kenji Tanaka")
    p1 = world.propose(challenge, anna)
    p2 = world.propose(challenge, kenji)
    return {"challenge": challenge, "anna": anna, "kenji": kenji, "proposals": (p1, p2)}


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_proposals_export_as_csv_and_xlsx(client, world, api_token, contest):
    challenge = contest["challenge"]
    response = client.get(f"/api/v1/exports/challenges/{challenge.id}/proposals", headers=api_token(world.manager))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    assert response.headers["Content-Disposition"] == f'attachment; filename="challenge-{challenge.id}-proposals.csv"'
    rows = _csv(response)
    assert rows[0][:4] == ["proposal_id", "status", "version", "title"]
    by_id = {int(row[0]): dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    p1, p2 = contest["proposals"]
    assert set(by_id) == {p1.id, p2.id}
    assert by_id[p2.id]["lead_name"] == "Kenji Tanaka" and by_id[p2.id]["lead_country"] == "JP"
    assert by_id[p1.id]["lead_early_career"] == "true" and by_id[p2.id]["lead_early_career"] == "false"
    assert by_id[p1.id]["status"] == "submitted" and by_id[p1.id]["team_size"] == "1"
    # A name that looks like a formula is made inert.
    assert by_id[p1.id]["lead_name"].startswith("'=HYPERLINK")

    xlsx = client.get(f"/api/v1/exports/challenges/{challenge.id}/proposals", query_string={"format": "xlsx"},
                      headers=api_token(world.manager))
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(xlsx.get_data()), read_only=True)
    sheet = workbook["proposals"]
    values = list(sheet.values)
    assert values[0][0] == "proposal_id" and len(values) == 3
    assert {row[0] for row in values[1:]} == {p1.id, p2.id}
    workbook.close()


def test_analytics_and_payout_exports(client, world, api_token, contest):
    challenge = contest["challenge"]
    analytics = client.get(f"/api/v1/exports/challenges/{challenge.id}/analytics", headers=api_token(world.officer))
    assert analytics.status_code == 200
    rows = _csv(analytics)
    assert rows[0] == ["section", "key", "measure", "value"]
    assert ["summary", "proposals_submitted", "value", "2"] in rows
    assert ["countries", "DE", "solvers", "1"] in rows and ["countries", "JP", "early_career", "0"] in rows
    xlsx = client.get(f"/api/v1/exports/challenges/{challenge.id}/analytics?format=xlsx",
                      headers=api_token(world.manager))
    workbook = load_workbook(io.BytesIO(xlsx.get_data()), read_only=True)
    assert workbook.sheetnames[:3] == ["summary", "views", "acceptances"] and "money" in workbook.sheetnames
    workbook.close()
    payouts = client.get(f"/api/v1/exports/challenges/{challenge.id}/payouts", headers=api_token(world.finance))
    assert payouts.status_code == 200 and _csv(payouts)[0][0] == "award_id"


def test_non_staff_get_404_for_every_export_and_analytics_page(client, world, api_token, contest, make_user, app):
    challenge = contest["challenge"]
    other_org_manager = make_user(roles=[("center_manager", _other_org(app))])
    kinds = ("proposals", "ranking", "payouts", "analytics")
    for who in (contest["anna"], other_org_manager, world.reviewer):
        headers = api_token(who)
        for kind in kinds:
            assert client.get(f"/api/v1/exports/challenges/{challenge.id}/{kind}", headers=headers).status_code == 404
        assert client.get(f"/api/v1/analytics/challenges/{challenge.id}", headers=headers).status_code == 404
        assert client.get("/api/v1/analytics/platform", headers=headers).status_code == 404
        assert client.get("/api/v1/exports/platform/analytics", headers=headers).status_code == 404
    # Finance officers take payouts and figures, not the proposals (they name solvers) nor the ranking.
    finance = api_token(world.finance)
    assert client.get(f"/api/v1/exports/challenges/{challenge.id}/proposals", headers=finance).status_code == 404
    assert client.get(f"/api/v1/exports/challenges/{challenge.id}/ranking", headers=finance).status_code == 404
    assert client.get(f"/api/v1/exports/challenges/{challenge.id}/payouts", headers=finance).status_code == 200
    # No token at all: 401; an unknown challenge looks the same as a forbidden one.
    assert client.get(f"/api/v1/exports/challenges/{challenge.id}/proposals").status_code == 401
    unknown = client.get("/api/v1/exports/challenges/999999/proposals", headers=api_token(world.manager))
    assert unknown.status_code == 404


def test_staff_pages_404_for_others(world, contest, browser, make_user, app):
    challenge = contest["challenge"]
    pages = [f"/staff/analytics/challenges/{challenge.id}", f"/staff/exports/challenges/{challenge.id}/proposals.csv",
             "/staff/analytics/platform", "/staff/exports/platform/analytics.xlsx"]
    for who in (contest["kenji"], world.reviewer, make_user(roles=[("center_manager", _other_org(app))])):
        user_client = browser(who)
        for path in pages:
            assert user_client.get(path).status_code == 404, (who.email, path)
    manager = browser(world.manager)
    page = manager.get(f"/staff/analytics/challenges/{challenge.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('role="img"') >= 4 and "<desc" in html and "Show the figures as a table" in html
    assert manager.get(f"/staff/exports/challenges/{challenge.id}/proposals.csv").status_code == 200
    assert manager.get("/staff/analytics/platform").status_code == 404  # a manager is not an admin
    admin = browser(make_user(roles=[("admin", None)]))
    assert admin.get("/staff/analytics/platform").status_code == 200
    assert admin.get(f"/staff/analytics/challenges/{challenge.id}").status_code == 200


def test_analytics_api_shapes(client, world, api_token, contest, make_user):
    challenge = contest["challenge"]
    body = client.get(f"/api/v1/analytics/challenges/{challenge.id}", headers=api_token(world.manager)).get_json()
    assert body["proposals"]["submitted"] == 2 and body["solvers"]["early_career_share"] == "50.0"
    assert body["early_career_bonus_pct"] == "0"
    admin = api_token(make_user(roles=[("admin", None)]))
    assert client.get("/api/v1/analytics/platform", headers=admin).get_json()["solvers"]["total"] == 2
    stats = client.get("/api/v1/stats").get_json()
    assert stats["challenges_posted"] == 1 and stats["countries"] == 2 and stats["solvers_by_country"][0][
        "solvers"] == 1


def test_views_are_counted_on_the_public_page_and_api_but_not_for_staff(client, world, api_token, contest, app):
    from marketplace.analytics.models import ChallengeView

    challenge = contest["challenge"]
    assert client.get(f"/challenges/{challenge.id}").status_code == 200
    assert client.get(f"/api/v1/challenges/{challenge.id}").status_code == 200
    client.get(f"/api/v1/challenges/{challenge.id}", headers=api_token(contest["kenji"]))
    client.get(f"/api/v1/challenges/{challenge.id}", headers=api_token(world.manager))  # staff: not counted
    with app.app_context():
        assert db.session.scalar(db.select(db.func.sum(ChallengeView.views)).where(
            ChallengeView.challenge_id == challenge.id)) == 3


def test_the_public_stats_page_in_chinese(client, contest):
    page = client.get("/stats", query_string={"lang": "zh_Hans"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'role="img"' in html and "德国" in html and "日本" in html  # country names in Chinese


def test_the_early_career_bonus_can_change_only_before_publication(client, world, api_token, contest, app):
    manager = api_token(world.manager)
    published = client.put(f"/api/v1/challenges/{contest['challenge'].id}/early-career-bonus", json={"pct": "10"},
                           headers=manager)
    assert published.status_code == 409
    from marketplace.accounts.models import Organization, User
    from marketplace.challenges import services
    from tests.factories import challenge_data

    with app.test_request_context():
        draft = services.create_challenge(db.session.get(Organization, world.org.id),
                                          db.session.get(User, world.manager.id), challenge_data())
        db.session.commit()
        draft_id, award_minor = draft.id, draft.award_minor
    too_much = client.put(f"/api/v1/challenges/{draft_id}/early-career-bonus", json={"pct": "75"}, headers=manager)
    assert too_much.status_code == 422
    saved = client.put(f"/api/v1/challenges/{draft_id}/early-career-bonus", json={"pct": "12.5"}, headers=manager)
    assert saved.status_code == 200
    body = saved.get_json()
    expected_bonus = -(-award_minor * 125 // 1000)  # rounded up to the minor unit
    assert body["pct"] == "12.5" and body["funding_target"]["amount"] == _amount(award_minor + expected_bonus)
    assert client.get(f"/api/v1/challenges/{draft_id}", headers=manager).get_json()["early_career_bonus_pct"] == "12.5"
    assert client.put(f"/api/v1/challenges/{draft_id}/early-career-bonus", json={"pct": "5"},
                      headers=api_token(world.finance)).status_code == 403


def _amount(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def _other_org(app):
    from marketplace.accounts import services

    with app.test_request_context():
        org = services.create_organization(slug="sh-ssc", name="Sensors", country="CN")
        db.session.commit()
        return db.session.get(type(org), org.id)


def test_ranking_export_follows_the_reviews(client, world, api_token, contest, app):
    from marketplace.challenges.models import Challenge
    from marketplace.reviews.models import Review, ReviewScore

    p1, p2 = contest["proposals"]
    challenge_id = contest["challenge"].id
    reviewers = [world.make_user(f"judge{i}@example.org", roles=[("reviewer", world.org)]) for i in range(3)]
    with app.app_context():
        criteria = db.session.get(Challenge, challenge_id).criteria
        for proposal, base in ((p1, 8), (p2, 4)):
            for offset, reviewer in enumerate(reviewers):
                review = Review(challenge_id=challenge_id, proposal_id=proposal.id, reviewer_id=reviewer.id,
                                status="submitted", pseudonym=f"P{proposal.id}-{reviewer.id}")
                review.scores = [ReviewScore(criterion_id=c.id, score=base + offset % 2) for c in criteria]
                db.session.add(review)
        db.session.commit()
    response = client.get(f"/api/v1/exports/challenges/{challenge_id}/ranking",
                          headers=api_token(world.manager))
    assert response.status_code == 200
    header, first, second = _csv(response)
    assert header[:5] == ["rank", "proposal_id", "title", "raw_score", "calibrated_score"]
    assert (first[0], int(first[1]), second[0], int(second[1])) == ("1", p1.id, "2", p2.id)
    assert float(first[3]) > float(second[3]) and first[8] == "3"


def test_the_export_command_writes_the_file_with_a_progress_bar(app, world, contest, tmp_path):
    out = tmp_path / "proposals.csv"
    result = app.test_cli_runner().invoke(args=["exports", "proposals", "--challenge", str(contest["challenge"].id),
                                                "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Exporting proposals" in result.output and "Wrote 2 rows" in result.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 3 and rows[0][0] == "proposal_id"
    xlsx = tmp_path / "proposals.xlsx"
    result = app.test_cli_runner().invoke(args=["exports", "proposals", "--challenge", str(contest["challenge"].id),
                                                "--format", "xlsx", "--out", str(xlsx)])
    assert result.exit_code == 0, result.output
    workbook = load_workbook(xlsx, read_only=True)
    assert len(list(workbook["proposals"].values)) == 3
    workbook.close()
    missing = app.test_cli_runner().invoke(args=["exports", "proposals", "--challenge", "99999", "--out", str(out)])
    assert missing.exit_code != 0 and "No challenge 99999" in missing.output
