"""Issue 11: after a submission, saving changes only the working copy; Resubmit makes it the next version.

One Resubmit = one ProposalVersion, one receipt mail per author, one audit entry; saving never does.
The center's staff (and reviewers) see the last submitted version until then; Discard goes back to it.
The new-proposal form takes the first file in the same step.
"""

from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from tests.helpers import csrf_token_from, outbox
from tests.proposals.test_api_proposals import PDF, accept, create, expire

TXT = b"noise figures\n1.6 nV\n"


@pytest.fixture
def submitted(client, challenge_id, solver):
    """A proposal submitted once (version 1, with one file): its id."""
    accept(client, challenge_id, solver)
    proposal_id = create(client, challenge_id, solver).get_json()["id"]
    assert upload(client, proposal_id, solver, PDF, "design.pdf").status_code == 201
    assert client.post(f"/api/v1/proposals/{proposal_id}/submit", headers=solver).status_code == 200
    return proposal_id


def upload(client, proposal_id, headers, data: bytes, name: str):
    return client.post(f"/api/v1/proposals/{proposal_id}/attachments", headers=headers,
                       data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def receipts(app) -> list:
    return [m for m in outbox(app) if m.template == "proposal_receipt"]


def version_numbers(app, proposal_id) -> list[int]:
    from marketplace.proposals.models import ProposalVersion

    with app.app_context():
        return list(db.session.scalars(select(ProposalVersion.number).where(
            ProposalVersion.proposal_id == proposal_id).order_by(ProposalVersion.number)))


def audit_count(app, action: str, proposal_id: int) -> int:
    from marketplace.audit.models import AuditEntry

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == action, AuditEntry.entity_id == proposal_id))


def reviewers_copy(app, proposal_id):
    """(number, abstract, file names) of the version reviewers get (services.version_for_review)."""
    from marketplace.proposals.models import Proposal
    from marketplace.proposals.services import version_for_review

    with app.app_context():
        version = version_for_review(db.session.get(Proposal, proposal_id))
        return version.number, version.abstract, [f["filename"] for f in version.attachments]


# --- API --------------------------------------------------------------------------------------------


def test_saving_after_submission_makes_no_version_no_receipt_and_the_staff_keep_version_one(
        app, client, center, submitted, solver):
    mails_before = len(receipts(app))
    for abstract in ("Better.", "Better still."):
        saved = client.patch(f"/api/v1/proposals/{submitted}", json={"abstract": abstract}, headers=solver)
        assert saved.status_code == 200
        assert saved.get_json()["version"] == 1 and saved.get_json()["has_unsubmitted_changes"] is True
        assert saved.get_json()["abstract"] == abstract  # the authors see their working copy
    assert upload(client, submitted, solver, TXT, "figures.txt").status_code == 201
    assert version_numbers(app, submitted) == [1]
    assert len(receipts(app)) == mails_before
    assert audit_count(app, "proposal.submitted", submitted) == 1
    staff = client.get(f"/api/v1/proposals/{submitted}", headers=center.manager).get_json()
    assert staff["abstract"] == "A two-stage chopper amplifier." and staff["version"] == 1
    assert [a["filename"] for a in staff["attachments"]] == ["design.pdf"]
    assert staff["has_unsubmitted_changes"] is None  # not the staff's to know
    listed = client.get(f"/api/v1/challenges/{staff['challenge_id']}/proposals", headers=center.manager).get_json()
    assert [p["abstract"] for p in listed["items"]] == ["A two-stage chopper amplifier."]
    assert reviewers_copy(app, submitted) == (1, "A two-stage chopper amplifier.", ["design.pdf"])


def test_each_resubmit_is_one_version_one_receipt_per_author_and_the_staff_see_it(
        app, client, center, submitted, solver, solver_user):
    mails_before = len(receipts(app))
    client.patch(f"/api/v1/proposals/{submitted}", json={"abstract": "Better."}, headers=solver)
    client.patch(f"/api/v1/proposals/{submitted}", json={"body": "More details."}, headers=solver)
    assert upload(client, submitted, solver, TXT, "figures.txt").status_code == 201
    resubmitted = client.post(f"/api/v1/proposals/{submitted}/submit", headers=solver)
    assert resubmitted.status_code == 200
    body = resubmitted.get_json()
    assert body["version"] == 2 and body["status"] == "submitted" and body["has_unsubmitted_changes"] is False
    assert version_numbers(app, submitted) == [1, 2]
    new_mails = receipts(app)[mails_before:]
    assert [m.recipient for m in new_mails] == [solver_user.email]
    assert "2" in new_mails[0].body_text
    receipt = client.get(f"/api/v1/proposals/{submitted}/receipt", headers=solver).get_json()
    assert receipt["version"] == 2 and [f["filename"] for f in receipt["attachments"]] == ["design.pdf", "figures.txt"]
    assert audit_count(app, "proposal.submitted", submitted) == 2
    staff = client.get(f"/api/v1/proposals/{submitted}", headers=center.manager).get_json()
    assert staff["abstract"] == "Better." and staff["body"] == "More details."
    assert [a["filename"] for a in staff["attachments"]] == ["design.pdf", "figures.txt"]
    assert reviewers_copy(app, submitted) == (2, "Better.", ["design.pdf", "figures.txt"])
    # Nothing changed since version 2: a second press is refused and sends nothing.
    again = client.post(f"/api/v1/proposals/{submitted}/submit", headers=solver)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert version_numbers(app, submitted) == [1, 2] and len(receipts(app)) == mails_before + 1


def test_a_file_never_submitted_stays_with_the_authors(app, client, center, submitted, solver):
    added = upload(client, submitted, solver, TXT, "figures.txt").get_json()["id"]
    assert client.get(f"/api/v1/attachments/{added}", headers=solver).data == TXT
    assert client.get(f"/api/v1/attachments/{added}", headers=center.manager).status_code == 404
    assert client.post(f"/api/v1/proposals/{submitted}/submit", headers=solver).status_code == 200
    assert client.get(f"/api/v1/attachments/{added}", headers=center.manager).data == TXT
    # Removed later, it stays part of version 2, so the staff can still fetch it.
    assert client.delete(f"/api/v1/proposals/{submitted}/attachments/{added}", headers=solver).status_code == 204
    assert client.get(f"/api/v1/attachments/{added}", headers=center.manager).data == TXT


def test_saving_the_submitted_text_again_is_no_change(client, submitted, solver):
    client.patch(f"/api/v1/proposals/{submitted}", json={"abstract": "Better."}, headers=solver)
    back = client.patch(f"/api/v1/proposals/{submitted}", json={"abstract": "A two-stage chopper amplifier."},
                        headers=solver)
    assert back.get_json()["has_unsubmitted_changes"] is False
    assert client.post(f"/api/v1/proposals/{submitted}/submit", headers=solver).status_code == 409


def test_discard_restores_the_text_and_the_files_of_the_last_version(app, client, center, submitted, solver):
    first_file = client.get(f"/api/v1/proposals/{submitted}", headers=solver).get_json()["attachments"][0]["id"]
    client.patch(f"/api/v1/proposals/{submitted}", json={"title": "Renamed", "abstract": "Better."}, headers=solver)
    assert client.delete(f"/api/v1/proposals/{submitted}/attachments/{first_file}", headers=solver).status_code == 204
    assert upload(client, submitted, solver, TXT, "figures.txt").status_code == 201
    mails_before = len(receipts(app))
    discarded = client.post(f"/api/v1/proposals/{submitted}/discard", headers=solver)
    assert discarded.status_code == 200
    body = discarded.get_json()
    assert body["title"] == "Chopper-stabilised readout" and body["abstract"] == "A two-stage chopper amplifier."
    assert [a["filename"] for a in body["attachments"]] == ["design.pdf"]
    assert body["has_unsubmitted_changes"] is False and body["version"] == 1
    assert version_numbers(app, submitted) == [1] and len(receipts(app)) == mails_before
    assert audit_count(app, "proposal.changes_discarded", submitted) == 1
    nothing_left = client.post(f"/api/v1/proposals/{submitted}/discard", headers=solver)
    assert nothing_left.status_code == 409 and nothing_left.mimetype == "application/problem+json"


def test_discard_and_resubmit_belong_to_the_authors_only(client, center, submitted, solver, make_user, api_token):
    client.patch(f"/api/v1/proposals/{submitted}", json={"abstract": "Better."}, headers=solver)
    stranger = api_token(make_user(country="DE"))
    assert client.post(f"/api/v1/proposals/{submitted}/discard", headers=stranger).status_code == 404
    assert client.post(f"/api/v1/proposals/{submitted}/submit", headers=stranger).status_code == 404
    assert client.post(f"/api/v1/proposals/{submitted}/discard", headers=center.manager).status_code == 404
    assert client.get(f"/api/v1/proposals/{submitted}", headers=solver).get_json()["abstract"] == "Better."


def test_changes_left_unsubmitted_at_the_deadline_never_reach_the_reviewers(
        app, client, challenge_id, submitted, solver):
    client.patch(f"/api/v1/proposals/{submitted}", json={"abstract": "Too slow."}, headers=solver)
    expire(app, challenge_id)
    assert client.post(f"/api/v1/proposals/{submitted}/submit", headers=solver).status_code == 409
    assert client.post(f"/api/v1/proposals/{submitted}/discard", headers=solver).status_code == 409
    assert reviewers_copy(app, submitted) == (1, "A two-stage chopper amplifier.", ["design.pdf"])
    assert version_numbers(app, submitted) == [1]


# --- pages ------------------------------------------------------------------------------------------


def test_the_page_says_which_version_reviewers_see_and_resubmits_once(
        app, client, center, submitted, solver_user, login, browser):
    login(solver_user)
    page_url = f"/proposals/{submitted}"
    token = csrf_token_from(client.get(page_url))
    calm = client.get(page_url).get_data(as_text=True)
    assert "unsubmitted changes" not in calm and "Reviewers see version 1." in calm
    saved = client.post(page_url + "/edit", data={"csrf_token": token, "title": "Chopper-stabilised readout",
                                                  "abstract": "Better.", "body": "Details of the design.",
                                                  "locale": "en"})
    assert saved.status_code == 302
    html = client.get(page_url).get_data(as_text=True)
    assert "Saved. Reviewers see version 1 until you resubmit." in html
    assert "You have unsubmitted changes; reviewers see version 1 until you resubmit." in html
    assert 'class="confirm-action"' in html and "Resubmit as version 2" in html and "Discard my changes" in html
    assert version_numbers(app, submitted) == [1]
    assert "Unsubmitted changes" in client.get("/me/dashboard").get_data(as_text=True)
    staff_html = browser(center.manager_user).get(page_url).get_data(as_text=True)
    assert "A two-stage chopper amplifier." in staff_html and "Better." not in staff_html
    assert "unsubmitted" not in staff_html
    mails_before = len(receipts(app))
    assert client.post(page_url + "/submit", data={"csrf_token": token}).status_code == 302
    after = client.get(page_url).get_data(as_text=True)
    assert "Version 2" in after and "unsubmitted changes" not in after
    assert "Unsubmitted changes" not in client.get("/me/dashboard").get_data(as_text=True)
    assert version_numbers(app, submitted) == [1, 2] and len(receipts(app)) == mails_before + 1
    staff_html = browser(center.manager_user).get(page_url).get_data(as_text=True)
    assert "Better." in staff_html
    pressed_again = client.post(page_url + "/submit", data={"csrf_token": token})
    assert pressed_again.status_code == 409 and "already submitted" in pressed_again.get_data(as_text=True)
    assert version_numbers(app, submitted) == [1, 2]


def test_saving_the_page_unchanged_is_no_change(app, client, submitted, solver, solver_user, login):
    """A browser sends the textareas with CRLF line ends; the same text saved again is not a change."""
    client.patch(f"/api/v1/proposals/{submitted}", json={"body": "Line one\nLine two"}, headers=solver)
    assert client.post(f"/api/v1/proposals/{submitted}/submit", headers=solver).status_code == 200
    login(solver_user)
    page_url = f"/proposals/{submitted}"
    saved = client.post(page_url + "/edit", data={"csrf_token": csrf_token_from(client.get(page_url)),
                                                  "title": "Chopper-stabilised readout",
                                                  "abstract": "A two-stage chopper amplifier.",
                                                  "body": "Line one\r\nLine two", "locale": "en"})
    assert saved.status_code == 302
    assert "You have unsubmitted changes" not in client.get(page_url).get_data(as_text=True)


def test_uploading_on_the_page_after_submission_waits_for_resubmit_and_discard_removes_it(
        app, client, submitted, solver_user, login):
    login(solver_user)
    page_url = f"/proposals/{submitted}"
    token = csrf_token_from(client.get(page_url))
    uploaded = client.post(page_url + "/attachments", data={"csrf_token": token,
                                                            "file": (io.BytesIO(TXT), "figures.txt")},
                           content_type="multipart/form-data")
    assert uploaded.status_code == 302
    assert version_numbers(app, submitted) == [1]
    assert "You have unsubmitted changes" in client.get(page_url).get_data(as_text=True)
    discarded = client.post(page_url + "/discard", data={"csrf_token": token})
    assert discarded.status_code == 302
    html = client.get(page_url).get_data(as_text=True)
    assert "Your changes were discarded; the proposal is back at version 1." in html
    assert "figures.txt" not in html and "design.pdf" in html and "You have unsubmitted changes" not in html
    refused = client.post(page_url + "/discard", data={"csrf_token": token})
    assert refused.status_code == 409 and "There are no unsubmitted changes to discard." in refused.get_data(
        as_text=True)


def test_after_the_deadline_the_page_says_the_changes_were_never_submitted(
        app, client, challenge_id, submitted, solver, solver_user, login):
    client.patch(f"/api/v1/proposals/{submitted}", json={"abstract": "Too slow."}, headers=solver)
    expire(app, challenge_id)
    login(solver_user)
    html = client.get(f"/proposals/{submitted}").get_data(as_text=True)
    assert "Your last changes were never submitted; reviewers see version 1." in html
    assert "Resubmit as version 2" not in html and "Discard my changes" not in html


# --- the new-proposal form takes a file ---------------------------------------------------------


def _new_proposal(client, challenge_id, token, **extra):
    data = {"csrf_token": token, "title": "With a file", "abstract": "Short.", "body": "Long.", "locale": "en",
            "team_emails": "", **extra}
    return client.post(f"/challenges/{challenge_id}/proposals/new", data=data, content_type="multipart/form-data")


def test_the_new_proposal_form_stores_the_draft_and_its_file_in_one_step(
        app, client, challenge_id, solver, solver_user, login):
    accept(client, challenge_id, solver)
    login(solver_user)
    form = client.get(f"/challenges/{challenge_id}/proposals/new")
    html = form.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and 'type="file"' in html
    created = _new_proposal(client, challenge_id, csrf_token_from(form), file=(io.BytesIO(PDF), "design.pdf"))
    assert created.status_code == 302
    page = client.get(created.headers["Location"]).get_data(as_text=True)
    assert "design.pdf" in page and hashlib.sha256(PDF).hexdigest() in page
    assert audit_count(app, "proposal.attachment_added", int(created.headers["Location"].rsplit("/", 1)[1])) == 1


def test_the_new_proposal_form_without_a_file_still_works(client, challenge_id, solver, solver_user, login):
    accept(client, challenge_id, solver)
    login(solver_user)
    form = client.get(f"/challenges/{challenge_id}/proposals/new")
    created = _new_proposal(client, challenge_id, csrf_token_from(form))
    assert created.status_code == 302
    assert "No files yet." in client.get(created.headers["Location"]).get_data(as_text=True)


def test_a_refused_file_on_the_new_proposal_form_stores_nothing(
        app, client, challenge_id, solver, solver_user, login, monkeypatch):
    from marketplace.proposals.models import Proposal

    accept(client, challenge_id, solver)
    login(solver_user)
    form = client.get(f"/challenges/{challenge_id}/proposals/new")
    token = csrf_token_from(form)
    disguised = _new_proposal(client, challenge_id, token, file=(io.BytesIO(b"\x7fELF" + b"\0" * 64), "paper.pdf"))
    assert disguised.status_code == 422
    html = disguised.get_data(as_text=True)
    assert "flash-error" in html and 'value="With a file"' in html  # the text is kept for the next try
    monkeypatch.setitem(app.config, "MAX_PROPOSAL_BYTES", 100)
    too_big = _new_proposal(client, challenge_id, token, file=(io.BytesIO(b"a" * 300 + b"\n"), "notes.txt"))
    assert too_big.status_code == 413
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Proposal).where(
            Proposal.challenge_id == challenge_id)) == 0
