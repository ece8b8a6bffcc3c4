"""A proposal after its deadline is read-only (no button that would end in an error, and the POSTs are
still refused); the submission receipt is on the page and downloadable by its authors alone."""

from __future__ import annotations

import io

import pytest

from marketplace.extensions import db
from tests.factories import sign_in
from tests.helpers import csrf_token_from
from tests.proposals.test_api_proposals import PDF, accept, create, expire

ACTIONS = ("edit", "attachments", "team/invite", "submit", "withdraw")


@pytest.fixture
def draft(client, center, make_user, api_token):
    """(challenge id, proposal id, the lead) of a draft with one file."""
    challenge_id = center.open_challenge()
    lead = make_user(country="DE")
    headers = api_token(lead)
    accept(client, challenge_id, headers)
    proposal_id = create(client, challenge_id, headers, title="Chopper readout").get_json()["id"]
    uploaded = client.post(f"/api/v1/proposals/{proposal_id}/attachments", headers=headers,
                           data={"file": (io.BytesIO(PDF), "design.pdf")}, content_type="multipart/form-data")
    assert uploaded.status_code == 201
    return challenge_id, proposal_id, lead


def buttons(page, proposal_id: int) -> set[str]:
    """Which action forms the page offers (by their target)."""
    html = page.get_data(as_text=True)
    return {action for action in ACTIONS if f'action="/proposals/{proposal_id}/{action}"' in html}


def set_status(app, challenge_id: int, status: str) -> None:
    from marketplace.challenges.models import Challenge

    with app.app_context():
        db.session.get(Challenge, challenge_id).status = status
        db.session.commit()


def stored_title(app, proposal_id: int) -> str:
    from marketplace.proposals.models import Proposal

    with app.app_context():
        return db.session.get(Proposal, proposal_id).title


# --- read-only after the deadline -----------------------------------------------------------------

def test_before_the_deadline_every_button_is_there(client, draft, login):
    _challenge_id, proposal_id, lead = draft
    login(lead)
    page = client.get(f"/proposals/{proposal_id}")
    assert page.status_code == 200
    assert buttons(page, proposal_id) == set(ACTIONS)
    assert b'id="read-only-notice"' not in page.data
    assert f'action="/proposals/{proposal_id}/attachments/'.encode() in page.data  # the Remove button


def test_after_the_deadline_the_page_is_read_only_and_posts_are_refused(app, client, draft, login, make_user):
    challenge_id, proposal_id, lead = draft
    login(lead)
    token = csrf_token_from(client.get(f"/proposals/{proposal_id}"))
    expire(app, challenge_id)

    page = client.get(f"/proposals/{proposal_id}")
    assert page.status_code == 200
    # Withdrawing stays possible until judging starts (the service allows it), so only that button is left.
    assert buttons(page, proposal_id) == {"withdraw"}
    assert f'action="/proposals/{proposal_id}/attachments/'.encode() not in page.data  # no Remove either
    assert b'id="read-only-notice"' in page.data and b"The deadline has passed." in page.data
    assert b"Chopper readout" in page.data  # the content is still shown, as text

    # The rule is the services' too: a crafted POST still fails, and nothing changes.
    edited = client.post(f"/proposals/{proposal_id}/edit", data={
        "csrf_token": token, "title": "Changed", "abstract": "", "body": "", "locale": "en"})
    assert edited.status_code == 409 and b"The deadline has passed." in edited.data
    assert stored_title(app, proposal_id) == "Chopper readout"
    uploaded = client.post(f"/proposals/{proposal_id}/attachments", content_type="multipart/form-data",
                           data={"csrf_token": token, "file": (io.BytesIO(PDF), "late.pdf")})
    assert uploaded.status_code == 409
    invited = client.post(f"/proposals/{proposal_id}/team/invite",
                          data={"csrf_token": token, "email": make_user().email})
    assert invited.status_code == 409
    submitted = client.post(f"/proposals/{proposal_id}/submit", data={"csrf_token": token})
    assert submitted.status_code == 409
    from marketplace.proposals.models import Proposal

    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        assert proposal.status == "draft" and [a.filename for a in proposal.attachments] == ["design.pdf"]
        assert len(proposal.members) == 1


def test_once_judging_started_withdraw_is_gone_and_refused(app, client, draft, login):
    challenge_id, proposal_id, lead = draft
    login(lead)
    token = csrf_token_from(client.get(f"/proposals/{proposal_id}"))
    expire(app, challenge_id)
    set_status(app, challenge_id, "judging")
    page = client.get(f"/proposals/{proposal_id}")
    assert buttons(page, proposal_id) == set()
    assert b"The challenge is not open for proposals" in page.data
    refused = client.post(f"/proposals/{proposal_id}/withdraw", data={"csrf_token": token})
    assert refused.status_code == 409 and b"Judging has started" in refused.data
    from marketplace.proposals.models import Proposal

    with app.app_context():
        assert db.session.get(Proposal, proposal_id).status == "draft"


def test_a_withdrawn_proposal_offers_no_action(app, client, draft, login):
    _challenge_id, proposal_id, lead = draft
    login(lead)
    token = csrf_token_from(client.get(f"/proposals/{proposal_id}"))
    assert client.post(f"/proposals/{proposal_id}/withdraw", data={"csrf_token": token}).status_code == 302
    page = client.get(f"/proposals/{proposal_id}")
    assert buttons(page, proposal_id) == set() and b"This proposal was withdrawn." in page.data
    removed = client.post(f"/proposals/{proposal_id}/attachments/1/remove", data={"csrf_token": token})
    assert removed.status_code == 409


# --- the submission receipt ---------------------------------------------------------------------

def text_digest(title: str, abstract: str, body: str) -> str:
    import hashlib

    return hashlib.sha256(b"".join(part.encode() + b"\x00" for part in (title, abstract, body))).hexdigest()


@pytest.fixture
def submitted(app, client, draft, api_token):
    """A submitted proposal whose lead lives in Shanghai: (challenge id, proposal id, lead, lead's headers)."""
    from marketplace.accounts.models import User

    challenge_id, proposal_id, lead = draft
    with app.app_context():
        db.session.get(User, lead.id).timezone = "Asia/Shanghai"
        db.session.commit()
    headers = api_token(lead)
    assert client.post(f"/api/v1/proposals/{proposal_id}/submit", headers=headers).status_code == 200
    return challenge_id, proposal_id, lead, headers


def stored_version(app, proposal_id: int):
    from marketplace.proposals.models import ProposalVersion

    with app.app_context():
        return db.session.scalar(db.select(ProposalVersion).where(ProposalVersion.proposal_id == proposal_id))


def test_the_receipt_is_on_the_page_and_downloadable(app, client, submitted, login):
    _challenge_id, proposal_id, lead, _headers = submitted
    version = stored_version(app, proposal_id)
    digest = text_digest("Chopper readout", "A two-stage chopper amplifier.", "Details of the design.")
    utc = version.submitted_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    import hashlib

    login(lead)
    page = client.get(f"/proposals/{proposal_id}").get_data(as_text=True)
    receipt_panel = page[page.index('id="receipt"'):]
    assert digest in receipt_panel and utc in receipt_panel and "Asia/Shanghai" in receipt_panel
    assert f'href="/proposals/{proposal_id}/receipt.txt"' in receipt_panel

    download = client.get(f"/proposals/{proposal_id}/receipt.txt")
    assert download.status_code == 200 and download.mimetype == "text/plain"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert f"receipt-proposal-{proposal_id}-v1.txt" in download.headers["Content-Disposition"]
    text = download.get_data(as_text=True)
    assert "Version: 1" in text and f"SHA-256 of the text: {digest}" in text
    assert f"Received at: {utc}" in text and "(Asia/Shanghai)" in text
    assert "China Standard Time" in text  # the viewer's own zone, spelled out
    assert "Attachment: design.pdf" in text and hashlib.sha256(PDF).hexdigest() in text


def test_the_receipt_through_the_api(app, client, submitted):
    _challenge_id, proposal_id, _lead, headers = submitted
    version = stored_version(app, proposal_id)
    body = client.get(f"/api/v1/proposals/{proposal_id}/receipt", headers=headers)
    assert body.status_code == 200
    receipt = body.get_json()
    assert receipt["version"] == 1 and receipt["proposal_id"] == proposal_id
    assert receipt["content_sha256"] == text_digest("Chopper readout", "A two-stage chopper amplifier.",
                                                    "Details of the design.")
    assert receipt["submitted_at"] == version.submitted_at.isoformat()
    assert receipt["timezone"] == "Asia/Shanghai" and receipt["submitted_at_local"].endswith("+08:00")
    assert [f["filename"] for f in receipt["attachments"]] == ["design.pdf"]
    # The same digest the audit log recorded for the submission.
    from marketplace.audit.models import AuditEntry

    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "proposal.submitted"))
        assert entry.data["content_sha256"] == receipt["content_sha256"]


def test_only_the_authors_may_fetch_the_receipt(app, client, submitted, center, make_user, api_token):
    _challenge_id, proposal_id, _lead, headers = submitted
    coauthor = make_user(country="FR")
    coauthor_headers = api_token(coauthor)
    accept(client, _challenge_id, coauthor_headers)
    assert client.post(f"/api/v1/proposals/{proposal_id}/team/invitations", headers=headers,
                       json={"email": coauthor.email}).status_code == 201
    invited = client.get(f"/api/v1/proposals/{proposal_id}/receipt", headers=coauthor_headers)
    assert invited.status_code == 404  # not an author until they accept
    assert client.post(f"/api/v1/proposals/{proposal_id}/team/invitation", headers=coauthor_headers,
                       json={"accept": True}).status_code == 200
    assert client.get(f"/api/v1/proposals/{proposal_id}/receipt", headers=coauthor_headers).status_code == 200

    stranger = make_user(country="DE")
    for outsider in (stranger, center.manager_user):  # the center's staff see the proposal, not the receipt
        response = client.get(f"/api/v1/proposals/{proposal_id}/receipt", headers=api_token(outsider))
        assert response.status_code == 404 and response.mimetype == "application/problem+json"
        other = app.test_client()
        sign_in(other, outsider)
        page = other.get(f"/proposals/{proposal_id}/receipt.txt")
        assert page.status_code == 404 and b"SHA-256" not in page.data
    assert client.get(f"/api/v1/proposals/{proposal_id}/receipt").status_code == 401
    anonymous = app.test_client().get(f"/proposals/{proposal_id}/receipt.txt")
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]


def test_a_draft_has_no_receipt(client, draft, api_token, login):
    _challenge_id, proposal_id, lead = draft
    assert client.get(f"/api/v1/proposals/{proposal_id}/receipt", headers=api_token(lead)).status_code == 404
    login(lead)
    assert b'id="receipt"' not in client.get(f"/proposals/{proposal_id}").data
    assert client.get(f"/proposals/{proposal_id}/receipt.txt").status_code == 404
