"""Two-person clearance (issue #10, defect 3): nobody who changed the text since the last clearance,
or who requested it, may clear it; the author never may. One rule, Challenge.can_clear, asked by the
service (API and page), the action list, the manage page and the clearance queue.
"""

from __future__ import annotations

import pytest

from marketplace.challenges.models import Challenge
from marketplace.extensions import db
from tests.factories import challenge_body
from tests.helpers import post_form, text_of


@pytest.fixture
def second_manager(center, make_user):
    """A second center manager who is also a security officer of the center."""
    return make_user(roles=[("center_manager", center.org), ("security_officer", center.org)])


def stored(app, challenge_id: int) -> Challenge:
    with app.app_context():
        return db.session.get(Challenge, challenge_id)


def status_of(center, challenge_id: int) -> str:
    return center.client.get(f"/api/v1/challenges/{challenge_id}", headers=center.manager).get_json()["status"]


def clear(center, headers, challenge_id: int):
    return center.client.post(f"/api/v1/challenges/{challenge_id}/clearance", headers=headers,
                              json={"decision": "approve", "note": "Unclassified."})


def test_an_editor_of_a_cleared_challenge_cannot_clear_his_own_text(app, center, second_manager, api_token):
    challenge_id = center.create().get_json()["id"]
    center.drive(challenge_id, "cleared")
    editor = api_token(second_manager)
    edited = center.client.patch(f"/api/v1/challenges/{challenge_id}", headers=editor,
                                 json={"summary": {"en": "A readout chain with a new noise target."}})
    assert edited.status_code == 200 and edited.get_json()["status"] == "in_clearance"
    assert (stored(app, challenge_id).text_changed_by_id, stored(app, challenge_id).clearance_requested_by_id) == (
        second_manager.id, second_manager.id)

    refused = clear(center, editor, challenge_id)
    assert refused.status_code == 403 and "since it was last cleared" in refused.get_json()["detail"]
    assert status_of(center, challenge_id) == "in_clearance"
    assert clear(center, center.officer, challenge_id).get_json()["status"] == "cleared"


def test_an_edit_of_a_draft_counts_until_the_next_clearance(app, center, second_manager, api_token):
    challenge_id = center.create().get_json()["id"]
    editor = api_token(second_manager)
    assert center.client.patch(f"/api/v1/challenges/{challenge_id}", headers=editor,
                               json={"title": {"en": "Readout chain, revised"}}).status_code == 200
    assert center.post(f"/challenges/{challenge_id}/clearance-request", center.manager).status_code == 200
    assert clear(center, editor, challenge_id).status_code == 403
    assert status_of(center, challenge_id) == "in_clearance"
    assert clear(center, center.officer, challenge_id).status_code == 200

    # After that clearance the author edits again: the second manager changed nothing since, so he may clear.
    assert center.client.patch(f"/api/v1/challenges/{challenge_id}", headers=center.manager,
                               json={"summary": {"en": "Below 1.5 nV/√Hz."}}).get_json()["status"] == "in_clearance"
    assert clear(center, editor, challenge_id).get_json()["status"] == "cleared"
    assert stored(app, challenge_id).cleared_by_id == second_manager.id


def test_the_requester_cannot_clear(center, second_manager, api_token, client):
    headers = api_token(second_manager)
    challenge_id = center.create().get_json()["id"]
    assert client.post(f"/api/v1/challenges/{challenge_id}/clearance-request", headers=headers).status_code == 200
    assert clear(center, headers, challenge_id).status_code == 403
    assert status_of(center, challenge_id) == "in_clearance"


def test_pages_ask_the_same_rule(app, center, second_manager, api_token, browser):
    challenge_id = center.create().get_json()["id"]
    center.drive(challenge_id, "cleared")
    assert center.client.patch(f"/api/v1/challenges/{challenge_id}", headers=api_token(second_manager),
                               json={"summary": {"en": "A readout chain with a new noise target."}}).status_code == 200
    manage_url = f"/staff/challenges/{challenge_id}"
    editor = browser(second_manager)
    page = editor.get(f"{manage_url}?lang=en")
    assert "since it was last cleared" in text_of(page)
    assert b"clearance-approve" not in page.data  # the action list offers no approve button
    queue = text_of(editor.get("/staff/clearance?lang=en"))
    assert "You: another officer must decide" in queue

    refused = post_form(editor, f"{manage_url}/clearance", {"approve": "y", "note": "fine"}, prefix="clearance",
                        page=manage_url)
    assert refused.status_code == 403 and "since it was last cleared" in text_of(refused)
    assert stored(app, challenge_id).status == "in_clearance"


def test_the_officer_acknowledges_warnings_on_the_page(app, center, make_user, browser, client):
    body = challenge_body("sh-icc", summary={"en": "Participation is restricted to EU residents.",
                                             "zh_Hans": "仅限欧盟居民。"})
    challenge_id = client.post("/api/v1/challenges", json=body, headers=center.manager).get_json()["id"]
    center.drive(challenge_id, "in_clearance")
    officer = browser(make_user(roles=[("security_officer", center.org)]))
    manage_url = f"/staff/challenges/{challenge_id}"
    page = text_of(officer.get(f"{manage_url}?lang=en"))
    assert "RESTRICTED · Summary (English): “ restricted ”" in page  # where, in words (text_of spaces tags)

    unacknowledged = post_form(officer, f"{manage_url}/clearance", {"approve": "y", "note": "fine"},
                               prefix="clearance", page=manage_url)
    assert unacknowledged.status_code == 422 and "acknowledge them to approve" in text_of(unacknowledged)
    assert stored(app, challenge_id).status == "in_clearance"

    acknowledged = post_form(officer, f"{manage_url}/clearance",
                             {"approve": "y", "note": "Eligibility, not a marking.", "acknowledge_warnings": "y"},
                             prefix="clearance", page=manage_url)
    assert acknowledged.status_code == 302 and stored(app, challenge_id).status == "cleared"
