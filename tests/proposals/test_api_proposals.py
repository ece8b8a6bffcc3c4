"""Proposals through the API: agreement first, deadlines, versions, teams, attachments, privacy."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime

import pytest

from marketplace.extensions import db
from tests.helpers import outbox, rows

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\nxref\n0 4\n0000000000 65535 f \n"
       b"0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\n"
       b"startxref\n164\n%%EOF\n")


def accept(client, challenge_id, headers):
    version = client.get(f"/api/v1/challenges/{challenge_id}/agreement").get_json()["version"]
    response = client.post(f"/api/v1/challenges/{challenge_id}/agreement", headers=headers,
                           json={"version": version, "accept": True})
    assert response.status_code == 201, response.get_json()


def create(client, challenge_id, headers, **changes):
    body = {"title": "Chopper-stabilised readout", "abstract": "A two-stage chopper amplifier.",
            "body": "Details of the design.", "locale": "en", **changes}
    return client.post(f"/api/v1/challenges/{challenge_id}/proposals", json=body, headers=headers)


def expire(app, challenge_id):
    from marketplace.challenges.models import Challenge

    with app.app_context():
        challenge = db.session.get(Challenge, challenge_id)
        challenge.deadline = datetime.now(UTC)
        db.session.commit()


def test_proposal_needs_the_agreement_first(client, challenge_id, solver):
    refused = create(client, challenge_id, solver)
    assert refused.status_code == 403 and "agreement" in refused.get_json()["detail"]
    accept(client, challenge_id, solver)
    created = create(client, challenge_id, solver)
    assert created.status_code == 201
    body = created.get_json()
    assert body["status"] == "draft" and body["version"] == 0 and body["challenge_id"] == challenge_id


def test_excluded_country_is_refused_with_the_reason(client, challenge_id, make_user, api_token):
    excluded = api_token(make_user(country="KP"))
    response = create(client, challenge_id, excluded)
    assert response.status_code == 403 and "KP" in response.get_json()["detail"]


def test_submit_freezes_version_one_and_mails_a_receipt(app, client, challenge_id, solver, solver_user):
    accept(client, challenge_id, solver)
    proposal_id = create(client, challenge_id, solver).get_json()["id"]
    submitted = client.post(f"/api/v1/proposals/{proposal_id}/submit", headers=solver)
    assert submitted.status_code == 200
    assert submitted.get_json()["status"] == "submitted" and submitted.get_json()["version"] == 1
    receipt = [m for m in outbox(app) if m.recipient == solver_user.email][-1]
    assert "SHA-256" in receipt.body_text and "1" in receipt.body_text
    assert client.post(f"/api/v1/proposals/{proposal_id}/submit", headers=solver).status_code == 409


def test_unconfirmed_account_cannot_submit(client, challenge_id, make_user, api_token):
    unconfirmed = api_token(make_user(confirmed=False))
    accept(client, challenge_id, unconfirmed)
    proposal_id = create(client, challenge_id, unconfirmed).get_json()["id"]
    response = client.post(f"/api/v1/proposals/{proposal_id}/submit", headers=unconfirmed)
    assert response.status_code == 403 and "Confirm" in response.get_json()["detail"]


def test_resubmitting_an_edit_creates_a_version_and_reviewers_see_the_last_in_time(
        app, client, challenge_id, solver):
    from marketplace.proposals.models import Proposal
    from marketplace.proposals.services import version_for_review

    accept(client, challenge_id, solver)
    proposal_id = create(client, challenge_id, solver).get_json()["id"]
    client.post(f"/api/v1/proposals/{proposal_id}/submit", headers=solver)
    edited = client.patch(f"/api/v1/proposals/{proposal_id}", json={"abstract": "Improved."}, headers=solver)
    assert edited.get_json()["version"] == 1 and edited.get_json()["has_unsubmitted_changes"] is True
    assert client.post(f"/api/v1/proposals/{proposal_id}/submit", headers=solver).get_json()["version"] == 2
    versions = client.get(f"/api/v1/proposals/{proposal_id}/versions", headers=solver).get_json()["items"]
    assert [v["number"] for v in versions] == [1, 2] and versions[1]["abstract"] == "Improved."
    expire(app, challenge_id)
    late = client.patch(f"/api/v1/proposals/{proposal_id}", json={"abstract": "Too late."}, headers=solver)
    assert late.status_code == 409
    with app.test_request_context():
        proposal = db.session.get(Proposal, proposal_id)
        assert version_for_review(proposal).number == 2
        assert proposal.abstract == "Improved."


def test_submission_after_the_deadline_is_409_and_nothing_is_stored(app, client, challenge_id, solver):
    from marketplace.proposals.models import ProposalVersion

    accept(client, challenge_id, solver)
    proposal_id = create(client, challenge_id, solver).get_json()["id"]
    expire(app, challenge_id)
    response = client.post(f"/api/v1/proposals/{proposal_id}/submit", headers=solver)
    assert response.status_code == 409
    assert client.get(f"/api/v1/proposals/{proposal_id}", headers=solver).get_json()["status"] == "draft"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ProposalVersion.id))) == 0


def test_submitting_to_a_draft_or_closed_challenge_is_refused(app, client, center, solver):
    draft_id = center.create().get_json()["id"]
    assert create(client, draft_id, solver).status_code == 404  # a draft is invisible
    closed_id = center.open_challenge()
    accept(client, closed_id, solver)
    center.post(f"/challenges/{closed_id}/close", center.manager)
    assert create(client, closed_id, solver).status_code == 409
    assert rows(app, "proposals") == 0


def test_one_active_proposal_per_solver_and_withdraw_frees_it(client, challenge_id, solver):
    accept(client, challenge_id, solver)
    first = create(client, challenge_id, solver).get_json()["id"]
    assert create(client, challenge_id, solver).status_code == 409
    assert client.post(f"/api/v1/proposals/{first}/withdraw", headers=solver).get_json()["status"] == "withdrawn"
    assert create(client, challenge_id, solver).status_code == 201


def test_double_submit_at_the_same_moment_records_exactly_one_version(app, client, challenge_id, solver):
    from marketplace.proposals.models import ProposalVersion

    accept(client, challenge_id, solver)
    proposal_id = create(client, challenge_id, solver).get_json()["id"]
    barrier = threading.Barrier(4)
    statuses = []

    def submit():
        with app.test_client() as own_client:
            barrier.wait()
            statuses.append(own_client.post(f"/api/v1/proposals/{proposal_id}/submit", headers=solver).status_code)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses).count(200) == 1, statuses
    assert all(status in (200, 409) for status in statuses), statuses
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ProposalVersion.id))) == 1


def test_proposals_are_private(client, center, challenge_id, solver, make_user, api_token, make_org):
    accept(client, challenge_id, solver)
    proposal_id = create(client, challenge_id, solver).get_json()["id"]
    other_solver = api_token(make_user())
    other_org = make_org("other-center")
    other_staff = api_token(make_user(roles=[("center_manager", other_org)]))
    for headers in (other_solver, other_staff):
        assert client.get(f"/api/v1/proposals/{proposal_id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/proposals/{proposal_id}").status_code == 401
    # a draft is its authors' alone; the center's staff see it once submitted
    assert client.get(f"/api/v1/proposals/{proposal_id}", headers=center.manager).status_code == 404
    assert client.post(f"/api/v1/proposals/{proposal_id}/submit", headers=solver).status_code == 200
    assert client.get(f"/api/v1/proposals/{proposal_id}", headers=center.manager).status_code == 200
    mine = client.get("/api/v1/me/proposals", headers=solver).get_json()
    assert [p["id"] for p in mine["items"]] == [proposal_id]
    assert client.get("/api/v1/me/proposals", headers=other_solver).get_json()["total"] == 0


def test_team_invitation_shares_and_submission(app, client, challenge_id, solver, make_user, api_token):
    coauthor_user = make_user(email="coauthor@example.org", country="FR")
    coauthor = api_token(coauthor_user)
    accept(client, challenge_id, solver)
    missing = create(client, challenge_id, solver, team_emails=["nobody@example.org"])
    assert missing.status_code == 422 and "nobody@example.org" in str(missing.get_json()["errors"])
    proposal_id = create(client, challenge_id, solver, team_emails=["coauthor@example.org"]).get_json()["id"]
    assert any(m.recipient == "coauthor@example.org" for m in outbox(app))
    # the invitee sees it, and accepts after agreeing to the challenge terms
    assert client.get(f"/api/v1/proposals/{proposal_id}", headers=coauthor).status_code == 200
    assert client.post(f"/api/v1/proposals/{proposal_id}/team/invitation", headers=coauthor,
                       json={"accept": True}).status_code == 403
    accept(client, challenge_id, coauthor)
    assert client.post(f"/api/v1/proposals/{proposal_id}/team/invitation", headers=coauthor,
                       json={"accept": True}).status_code == 200
    # a team submits only with agreed shares
    assert client.post(f"/api/v1/proposals/{proposal_id}/submit", headers=solver).status_code == 409
    lead_id = client.get("/api/v1/me", headers=solver).get_json()["id"]
    bad = client.put(f"/api/v1/proposals/{proposal_id}/team/shares", headers=solver,
                     json={"shares": {str(lead_id): "60", str(coauthor_user.id): "30"}})
    assert bad.status_code == 422
    ok = client.put(f"/api/v1/proposals/{proposal_id}/team/shares", headers=solver,
                    json={"shares": {str(lead_id): "60", str(coauthor_user.id): "40"}})
    assert ok.status_code == 200
    assert client.post(f"/api/v1/proposals/{proposal_id}/submit", headers=solver).status_code == 409
    assert client.post(f"/api/v1/proposals/{proposal_id}/team/shares/agree", headers=coauthor).status_code == 200
    assert client.post(f"/api/v1/proposals/{proposal_id}/submit", headers=coauthor).status_code == 200
    authors = client.get(f"/api/v1/proposals/{proposal_id}", headers=coauthor).get_json()["authors"]
    assert {(a["role"], a["share_pct"]) for a in authors} == {("lead", "60.00"), ("coauthor", "40.00")}


def test_attachment_upload_receipt_and_download_rights(app, client, center, challenge_id, solver, make_user, api_token):
    accept(client, challenge_id, solver)
    proposal_id = create(client, challenge_id, solver).get_json()["id"]
    uploaded = client.post(f"/api/v1/proposals/{proposal_id}/attachments", headers=solver,
                           data={"file": (io.BytesIO(PDF), "../../etc/passwd.pdf")}, content_type="multipart/form-data")
    assert uploaded.status_code == 201, uploaded.get_json()
    body = uploaded.get_json()
    import hashlib

    assert body["sha256"] == hashlib.sha256(PDF).hexdigest() and body["size"] == len(PDF)
    assert "/" not in body["filename"] and ".." not in body["filename"]
    download = client.get(f"/api/v1/attachments/{body['id']}", headers=solver)
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert client.get(f"/api/v1/attachments/{body['id']}", headers=center.manager).status_code == 404  # a draft's
    assert client.post(f"/api/v1/proposals/{proposal_id}/submit", headers=solver).status_code == 200
    assert client.get(f"/api/v1/attachments/{body['id']}", headers=center.manager).status_code == 200
    stranger = api_token(make_user())
    assert client.get(f"/api/v1/attachments/{body['id']}", headers=stranger).status_code == 404


@pytest.mark.parametrize(("content", "name", "status"), [
    (b"\x7fELF\x02\x01\x01" + b"\x00" * 100, "paper.pdf", 422),
    (b"MZ\x90\x00" + b"\x00" * 100, "notes.txt", 422),
    (b"", "empty.pdf", 422),
])
def test_bad_uploads_are_refused_and_leave_nothing(app, client, challenge_id, solver, content, name, status):
    from pathlib import Path

    def files_on_disk():
        uploads = Path(app.instance_path) / "uploads"
        return {p for p in uploads.rglob("*") if p.is_file()} if uploads.exists() else set()

    accept(client, challenge_id, solver)
    proposal_id = create(client, challenge_id, solver).get_json()["id"]
    before = files_on_disk()
    response = client.post(f"/api/v1/proposals/{proposal_id}/attachments", headers=solver,
                           data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")
    assert response.status_code == status and response.mimetype == "application/problem+json"
    assert files_on_disk() == before
    assert client.get(f"/api/v1/proposals/{proposal_id}", headers=solver).get_json()["attachments"] == []


def test_upload_over_the_limit_is_413(app, client, challenge_id, solver, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 1000)
    accept(client, challenge_id, solver)
    proposal_id = create(client, challenge_id, solver).get_json()["id"]
    response = client.post(f"/api/v1/proposals/{proposal_id}/attachments", headers=solver,
                           data={"file": (io.BytesIO(b"a" * 5000), "big.txt")}, content_type="multipart/form-data")
    assert response.status_code == 413
    assert rows(app, "attachments", proposal_id=proposal_id) == 0


def test_staff_list_a_challenges_submitted_proposals(client, center, challenge_id, solver):
    accept(client, challenge_id, solver)
    proposal_id = create(client, challenge_id, solver).get_json()["id"]
    assert client.get(f"/api/v1/challenges/{challenge_id}/proposals", headers=center.manager).get_json()["total"] == 0
    client.post(f"/api/v1/proposals/{proposal_id}/submit", headers=solver)
    listed = client.get(f"/api/v1/challenges/{challenge_id}/proposals", headers=center.manager).get_json()
    assert [p["id"] for p in listed["items"]] == [proposal_id]
    assert listed["items"][0]["authors"][0]["email"] is None  # staff see names, not e-mails
    assert client.get(f"/api/v1/challenges/{challenge_id}/proposals", headers=solver).status_code == 404
