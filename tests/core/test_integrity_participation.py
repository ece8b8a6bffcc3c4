"""Issue #10: who may take part in a challenge, and who may read a draft.

Staff of the posting center (any role there) and reviewers in the challenge's pool may not accept its
agreement, write, join or submit a proposal (403 with the reason, through the API and the pages, and no
button offered). A draft belongs to its authors alone: the center's staff get 404 until it is submitted.
"""

from __future__ import annotations

import io

import pytest

from marketplace.extensions import db
from tests.helpers import csrf_token_from, rows
from tests.proposals.test_api_proposals import PDF, accept, create

STAFF_REASON = "Staff of the center that posted this challenge cannot take part in it."
POOL_REASON = "Reviewers of this challenge cannot take part in it."
ROLES = ["center_manager", "security_officer", "finance_officer", "reviewer"]


@pytest.fixture
def challenge_id(center):
    return center.open_challenge()


@pytest.fixture
def insider(center, make_user, make_org, client, challenge_id):
    """insider(kind) -> a user who is staff of the posting center in that role, or a reviewer in its pool."""

    def make(kind: str):
        if kind == "pool":
            user = make_user(roles=[("reviewer", make_org())])  # another center's reviewer, in this pool
            added = client.post(f"/api/v1/challenges/{challenge_id}/reviewers", headers=center.manager,
                                json={"user_ids": [user.id]})
            assert added.status_code in (200, 201), added.get_json()
            return user
        return make_user(roles=[(kind, center.org)])

    return make


def _agreement_version(client, challenge_id) -> str:
    return client.get(f"/api/v1/challenges/{challenge_id}/agreement").get_json()["version"]


@pytest.mark.parametrize("kind", [*ROLES, "pool"])
def test_insiders_are_refused_agreement_and_proposal_through_the_api(app, client, challenge_id, insider,
                                                                      api_token, kind):
    from marketplace.challenges.agreement_models import AgreementAcceptance
    from marketplace.proposals.models import Proposal

    headers = api_token(insider(kind))
    reason = POOL_REASON if kind == "pool" else STAFF_REASON
    refused = client.post(f"/api/v1/challenges/{challenge_id}/agreement", headers=headers,
                          json={"version": _agreement_version(client, challenge_id), "accept": True})
    assert refused.status_code == 403 and refused.get_json()["detail"] == reason
    proposal = create(client, challenge_id, headers)
    assert proposal.status_code == 403 and proposal.get_json()["detail"] == reason
    assert rows(app, AgreementAcceptance) == 0 and rows(app, Proposal) == 0


@pytest.mark.parametrize("kind", [*ROLES, "pool"])
def test_insiders_are_refused_on_the_pages_and_offered_no_button(app, browser, challenge_id, insider,  # noqa: F811
                                                                  kind):
    from marketplace.challenges.agreement_models import AgreementAcceptance

    page_client = browser(insider(kind))
    reason = POOL_REASON if kind == "pool" else STAFF_REASON
    page = page_client.get(f"/challenges/{challenge_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "accept_agreement" not in html and f"/challenges/{challenge_id}/agreement" not in html
    assert f"/challenges/{challenge_id}/proposals/new" not in html
    posted = page_client.post(f"/challenges/{challenge_id}/agreement", data={
        "agreement-csrf_token": csrf_token_from(page),
        "agreement-version": _agreement_version(page_client, challenge_id), "agreement-accept": "y"})
    assert posted.status_code == 403 and reason in posted.get_data(as_text=True)
    new = page_client.get(f"/challenges/{challenge_id}/proposals/new")
    assert new.status_code == 403 and reason in new.get_data(as_text=True)
    assert rows(app, AgreementAcceptance) == 0


def test_an_ordinary_solver_still_sees_the_buttons(browser, challenge_id, make_user):  # noqa: F811
    page_client = browser(make_user(country="DE"))
    html = page_client.get(f"/challenges/{challenge_id}").get_data(as_text=True)
    assert f"/challenges/{challenge_id}/agreement" in html and STAFF_REASON not in html


def test_a_solver_who_joins_the_center_can_no_longer_submit(app, client, center, challenge_id, make_user,
                                                            api_token, browser):  # noqa: F811
    from marketplace.accounts import services as accounts
    from marketplace.accounts.models import User
    from marketplace.proposals.models import Proposal

    user = make_user(country="DE")
    headers = api_token(user)
    accept(client, challenge_id, headers)
    proposal_id = create(client, challenge_id, headers).get_json()["id"]
    with app.test_request_context():
        accounts.grant_role(db.session.get(User, user.id), "finance_officer", center.org)
        db.session.commit()
    refused = client.post(f"/api/v1/proposals/{proposal_id}/submit", headers=headers)
    assert refused.status_code == 403 and refused.get_json()["detail"] == STAFF_REASON
    page = browser(user).get(f"/proposals/{proposal_id}").get_data(as_text=True)
    assert STAFF_REASON in page and "Submit proposal" not in page
    with app.app_context():
        assert db.session.get(Proposal, proposal_id).status == "draft"


def test_insiders_cannot_be_invited_or_join_a_team(app, client, challenge_id, insider, make_user, api_token):
    from marketplace.proposals.models import ProposalMember

    lead = api_token(make_user(country="DE"))
    accept(client, challenge_id, lead)
    manager = insider("center_manager")
    refused = create(client, challenge_id, lead, team_emails=[manager.email])
    assert refused.status_code == 422 and STAFF_REASON in str(refused.get_json()["errors"]["team_emails"])
    # invited while still an outsider, then put in the reviewer pool: joining is refused
    outsider = make_user(country="FR")
    proposal_id = create(client, challenge_id, lead, team_emails=[outsider.email]).get_json()["id"]
    invited_headers = api_token(outsider)
    accept(client, challenge_id, invited_headers)
    with app.app_context():  # the pool gains them after the invitation
        from marketplace.reviews.models import ChallengeReviewer

        db.session.add(ChallengeReviewer(challenge_id=challenge_id, user_id=outsider.id, added_by_id=manager.id))
        db.session.commit()
    joined = client.post(f"/api/v1/proposals/{proposal_id}/team/invitation", headers=invited_headers,
                         json={"accept": True})
    assert joined.status_code == 403 and joined.get_json()["detail"] == POOL_REASON
    with app.app_context():
        member = db.session.scalar(db.select(ProposalMember).where(ProposalMember.user_id == outsider.id))
        assert member.status == "invited"


# --- drafts belong to their authors ----------------------------------------------------------------------

def _draft_with_file(client, challenge_id, headers) -> tuple[int, int]:
    accept(client, challenge_id, headers)
    proposal_id = create(client, challenge_id, headers).get_json()["id"]
    uploaded = client.post(f"/api/v1/proposals/{proposal_id}/attachments", headers=headers,
                           data={"file": (io.BytesIO(PDF), "design.pdf")}, content_type="multipart/form-data")
    assert uploaded.status_code == 201, uploaded.get_json()
    return proposal_id, uploaded.get_json()["id"]


@pytest.mark.parametrize("role", ["finance_officer", "security_officer", "center_manager"])
def test_staff_get_404_for_a_draft_and_its_files(client, center, challenge_id, make_user, api_token,
                                                 browser, role):  # noqa: F811
    solver = api_token(make_user(country="DE"))
    proposal_id, attachment_id = _draft_with_file(client, challenge_id, solver)
    officer = make_user(roles=[(role, center.org)])
    headers, pages = api_token(officer), browser(officer)
    for path in (f"/api/v1/proposals/{proposal_id}", f"/api/v1/proposals/{proposal_id}/versions",
                 f"/api/v1/attachments/{attachment_id}"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404 and PDF not in response.data, path
    for path in (f"/proposals/{proposal_id}", f"/attachments/{attachment_id}"):
        response = pages.get(path)
        assert response.status_code == 404 and b"Chopper-stabilised readout" not in response.data, path
    listed = client.get(f"/api/v1/challenges/{challenge_id}/proposals", headers=headers).get_json()
    assert listed["total"] == 0
    # the author still has it all; once submitted, the center's staff see it
    assert client.get(f"/api/v1/attachments/{attachment_id}", headers=solver).data == PDF
    assert client.post(f"/api/v1/proposals/{proposal_id}/submit", headers=solver).status_code == 200
    assert client.get(f"/api/v1/proposals/{proposal_id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/attachments/{attachment_id}", headers=headers).data == PDF


def test_a_withdrawn_draft_stays_private(client, center, challenge_id, make_user, api_token):
    solver = api_token(make_user(country="DE"))
    proposal_id, _attachment = _draft_with_file(client, challenge_id, solver)
    assert client.post(f"/api/v1/proposals/{proposal_id}/withdraw", headers=solver).status_code == 200
    assert client.get(f"/api/v1/proposals/{proposal_id}", headers=center.manager).status_code == 404
    assert client.get(f"/api/v1/challenges/{challenge_id}/proposals", headers=center.manager).get_json()["total"] == 0
