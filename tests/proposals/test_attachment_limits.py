"""Per-proposal upload caps (count and total bytes), and the reviewer copy of a PDF with scripts."""

from __future__ import annotations

import io

import pytest

from marketplace.extensions import db
from tests.files import samples
from tests.helpers import csrf_token_from
from tests.proposals.test_api_proposals import accept, create


@pytest.fixture
def proposal(client, center, solver_user, api_token):
    """(proposal id, the solver's headers) for a draft proposal on an open challenge."""
    headers = api_token(solver_user)
    challenge_id = center.open_challenge()
    accept(client, challenge_id, headers)
    return create(client, challenge_id, headers).get_json()["id"], headers


def upload(client, proposal_id, headers, data: bytes, name: str):
    return client.post(f"/api/v1/proposals/{proposal_id}/attachments", headers=headers,
                       data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def attachment_names(client, proposal_id, headers) -> list[str]:
    return [a["filename"] for a in client.get(f"/api/v1/proposals/{proposal_id}", headers=headers)
            .get_json()["attachments"]]


def test_the_default_caps_are_twenty_files_and_100_mb(app):
    assert app.config["MAX_ATTACHMENTS_PER_PROPOSAL"] == 20
    assert app.config["MAX_PROPOSAL_BYTES"] == 100 * 1024 * 1024


def test_one_attachment_over_the_count_is_409_and_not_stored(app, client, proposal, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_ATTACHMENTS_PER_PROPOSAL", 2)
    proposal_id, headers = proposal
    for index in range(2):
        assert upload(client, proposal_id, headers, f"notes {index}\n".encode(), f"n{index}.txt").status_code == 201
    refused = upload(client, proposal_id, headers, b"one more\n", "n2.txt")
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert "maximum number of attachments (2)" in refused.get_json()["detail"]
    assert attachment_names(client, proposal_id, headers) == ["n0.txt", "n1.txt"]
    # Removing one makes room again.
    first = client.get(f"/api/v1/proposals/{proposal_id}", headers=headers).get_json()["attachments"][0]["id"]
    assert client.delete(f"/api/v1/proposals/{proposal_id}/attachments/{first}", headers=headers).status_code in (
        200, 204)
    assert upload(client, proposal_id, headers, b"one more\n", "n2.txt").status_code == 201


def test_attachments_over_the_proposal_total_are_413_and_not_stored(app, client, proposal, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_PROPOSAL_BYTES", 1000)
    proposal_id, headers = proposal
    assert upload(client, proposal_id, headers, b"a" * 599 + b"\n", "first.txt").status_code == 201
    refused = upload(client, proposal_id, headers, b"b" * 599 + b"\n", "second.txt")
    assert refused.status_code == 413
    assert "at most 0.001 MB together" in refused.get_json()["detail"]
    assert attachment_names(client, proposal_id, headers) == ["first.txt"]
    assert upload(client, proposal_id, headers, b"c" * 399 + b"\n", "fits.txt").status_code == 201  # exactly 1000
    full = upload(client, proposal_id, headers, b"d\n", "full.txt")
    assert full.status_code == 413
    assert attachment_names(client, proposal_id, headers) == ["first.txt", "fits.txt"]


def test_the_upload_page_shows_the_count_refusal(app, client, proposal, solver_user, login, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_ATTACHMENTS_PER_PROPOSAL", 1)
    proposal_id, headers = proposal
    assert upload(client, proposal_id, headers, b"notes\n", "n0.txt").status_code == 201
    login(solver_user)
    page = client.get(f"/proposals/{proposal_id}")
    refused = client.post(f"/proposals/{proposal_id}/attachments", content_type="multipart/form-data",
                          data={"csrf_token": csrf_token_from(page), "file": (io.BytesIO(b"more\n"), "n1.txt")})
    assert refused.status_code == 409
    assert "maximum number of attachments (1)" in refused.get_data(as_text=True)
    assert attachment_names(client, proposal_id, headers) == ["n0.txt"]


def test_reviewers_get_a_copy_of_a_scripted_pdf_without_any_script(app, client, proposal):
    from marketplace.proposals.models import Proposal
    from marketplace.proposals.services import version_for_review
    from marketplace.reviews.blind import blind_file

    proposal_id, headers = proposal
    original = samples.pdf_with_scripts()
    uploaded = upload(client, proposal_id, headers, original, "design.pdf")
    assert uploaded.status_code == 201
    assert client.post(f"/api/v1/proposals/{proposal_id}/submit", headers=headers).status_code == 200
    assert client.get(f"/api/v1/attachments/{uploaded.get_json()['id']}", headers=headers).data == original
    with app.test_request_context():
        version = version_for_review(db.session.get(Proposal, proposal_id))
        copy = blind_file(version, 1)
    assert copy.name == "attachment-1.pdf" and copy.content
    for name in samples.ACTIVE_PDF_NAMES:
        assert name not in copy.content, name
