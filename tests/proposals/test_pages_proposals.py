"""Proposal pages: write, upload, submit through forms; the dashboard's constant query count."""

from __future__ import annotations

import io

from sqlalchemy import event

from marketplace.extensions import db
from tests.helpers import csrf_token_from
from tests.proposals.test_api_proposals import PDF, accept


def test_write_upload_and_submit_through_the_pages(app, client, center, make_user, api_token, login):
    challenge_id = center.open_challenge()
    solver = make_user(country="DE")
    accept(client, challenge_id, api_token(solver))
    login(solver)
    form = client.get(f"/challenges/{challenge_id}/proposals/new")
    assert form.status_code == 200
    created = client.post(
        f"/challenges/{challenge_id}/proposals/new",
        data={
            "csrf_token": csrf_token_from(form),
            "title": "A <b>bold</b> idea",
            "abstract": "Short.",
            "body": "Long.",
            "locale": "en",
            "team_emails": "",
        },
    )
    assert created.status_code == 302
    page_url = created.headers["Location"]
    page = client.get(page_url)
    html = page.get_data(as_text=True)
    assert "A &lt;b&gt;bold&lt;/b&gt; idea" in html
    token = csrf_token_from(page)
    uploaded = client.post(
        page_url + "/attachments",
        data={"csrf_token": token, "file": (io.BytesIO(PDF), "design.pdf")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302
    import hashlib

    assert hashlib.sha256(PDF).hexdigest() in client.get(page_url).get_data(as_text=True)
    submitted = client.post(page_url + "/submit", data={"csrf_token": token})
    assert submitted.status_code == 302
    after = client.get(page_url).get_data(as_text=True)
    assert "Version 1" in after


def test_disguised_executable_gets_a_clear_message(client, center, make_user, api_token, login):
    challenge_id = center.open_challenge()
    solver = make_user(country="DE")
    headers = api_token(solver)
    accept(client, challenge_id, headers)
    proposal_id = client.post(
        f"/api/v1/challenges/{challenge_id}/proposals", headers=headers, json={"title": "T"}
    ).get_json()["id"]
    login(solver)
    page = client.get(f"/proposals/{proposal_id}")
    refused = client.post(
        f"/proposals/{proposal_id}/attachments",
        data={"csrf_token": csrf_token_from(page), "file": (io.BytesIO(b"\x7fELF" + b"\0" * 64), "paper.pdf")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "flash-error" in refused.get_data(as_text=True)


def test_strangers_get_404(client, center, make_user, api_token, login):
    challenge_id = center.open_challenge()
    solver = make_user()
    headers = api_token(solver)
    accept(client, challenge_id, headers)
    proposal_id = client.post(
        f"/api/v1/challenges/{challenge_id}/proposals", headers=headers, json={"title": "Wafer defect readout"}
    ).get_json()["id"]
    login(make_user())
    page = client.get(f"/proposals/{proposal_id}")
    assert page.status_code == 404 and b"Wafer defect readout" not in page.data  # nothing of it shows


def test_new_proposal_without_agreement_goes_back_to_the_challenge(client, center, make_user, login):
    challenge_id = center.open_challenge()
    login(make_user())
    response = client.get(f"/challenges/{challenge_id}/proposals/new")
    assert response.status_code == 302 and f"/challenges/{challenge_id}" in response.headers["Location"]


def _count_queries(app, fn) -> int:
    count = 0

    def before(*_args, **_kwargs):
        nonlocal count
        count += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return count


def test_dashboard_query_count_does_not_grow_with_proposals(app, client, center, make_user, login):
    from marketplace.proposals.models import Proposal, ProposalMember, ProposalVersion

    challenge_id = center.open_challenge()
    solver = make_user()
    leads = [make_user() for _ in range(2)]

    def add_proposals(how_many: int, status: str) -> None:
        from datetime import UTC, datetime

        with app.app_context():
            for index in range(how_many):
                lead = leads[index % 2]
                proposal = Proposal(
                    challenge_id=challenge_id, lead_id=lead.id, status=status, title=f"P{index}", locale="en", version=1
                )
                proposal.members = [
                    ProposalMember(user_id=lead.id, email=lead.email, role="lead", status="accepted"),
                    ProposalMember(user_id=solver.id, email=solver.email, status="accepted"),
                ]
                proposal.versions = [
                    ProposalVersion(
                        number=1,
                        title="P",
                        abstract="",
                        body="",
                        locale="en",
                        submitted_at=datetime.now(UTC),
                        submitted_by_id=lead.id,
                    )
                ]
                db.session.add(proposal)
            db.session.commit()

    login(solver)
    add_proposals(2, "submitted")  # one active proposal per lead; the rest are withdrawn ones
    small = _count_queries(app, lambda: client.get("/me/dashboard"))
    add_proposals(198, "withdrawn")
    page = client.get("/me/dashboard")
    assert page.status_code == 200 and page.get_data(as_text=True).count("proposal-card") == 200
    large = _count_queries(app, lambda: client.get("/me/dashboard"))
    assert large == small


def test_proposal_list_api_query_count_does_not_grow(app, client, center, make_user, api_token):
    """GET /api/v1/me/proposals and the staff list load authors, files and titles in a fixed number of queries."""
    from datetime import UTC, datetime

    from marketplace.proposals.models import Proposal, ProposalMember

    challenge_id = center.open_challenge()
    solver = make_user()
    headers = api_token(solver)

    def add(how_many: int) -> None:
        with app.app_context():
            for index in range(how_many):
                lead = make_user()
                proposal = Proposal(challenge_id=challenge_id, lead_id=lead.id, status="submitted", title=f"P{index}",
                                    locale="en", version=1, submitted_at=datetime.now(UTC))
                proposal.members = [ProposalMember(user_id=lead.id, email=lead.email, role="lead", status="accepted"),
                                    ProposalMember(user_id=solver.id, email=solver.email, status="accepted")]
                db.session.add(proposal)
            db.session.commit()

    add(2)
    mine_small = _count_queries(app, lambda: client.get("/api/v1/me/proposals", headers=headers))
    staff_small = _count_queries(app, lambda: client.get(f"/api/v1/challenges/{challenge_id}/proposals",
                                                         headers=center.manager))
    add(18)
    assert client.get("/api/v1/me/proposals", headers=headers).get_json()["total"] == 20
    assert _count_queries(app, lambda: client.get("/api/v1/me/proposals", headers=headers)) == mine_small
    assert _count_queries(app, lambda: client.get(f"/api/v1/challenges/{challenge_id}/proposals",
                                                  headers=center.manager)) == staff_small
