"""Calendars: the secret per-user feed, the public .ics of a challenge, and RFC 5545 writing (both DBs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from marketplace.extensions import db
from marketplace.reminders.calendar import CalendarEvent, escape_text, fold, render_calendar
from tests.helpers import csrf_token_from

DAY = timedelta(days=1)


@pytest.fixture
def center(make_org, make_user):
    org = make_org()
    return org, make_user(roles=[("center_manager", org)], country="CN")


def _accept(app, challenge, user):
    from marketplace.accounts.models import User
    from marketplace.challenges import agreements
    from marketplace.challenges.models import Challenge

    with app.test_request_context():
        target = db.session.get(Challenge, challenge.id)
        agreements.accept(target, db.session.get(User, user.id), version=target.agreement_version)
        db.session.commit()


def _unfold(body: str) -> str:
    return body.replace("\r\n ", "")


# --- RFC 5545 writing ---------------------------------------------------------------------------------

def test_text_escaping():
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    assert escape_text("line\r\nbreak") == "line\\nbreak"


def test_folding_at_75_octets_keeps_utf8_whole():
    line = "SUMMARY:" + "用于晶圆缺陷检测的低噪声读出电路" * 4 + "x" * 30
    folded = fold(line)
    pieces = folded.split("\r\n")
    assert len(pieces) > 1
    assert all(len(piece.encode()) <= 75 for piece in pieces)
    assert all(piece.startswith(" ") for piece in pieces[1:])
    assert "".join([pieces[0], *(p[1:] for p in pieces[1:])]) == line  # unfolds to the same text
    assert fold("SHORT:x") == "SHORT:x"


def test_calendar_document_shape(app):
    with app.test_request_context():
        body = render_calendar([CalendarEvent(uid="challenge-7-deadline", summary="Deadline: A, B; C",
                                              start=datetime(2030, 3, 1, 20, 0, tzinfo=UTC) + timedelta(hours=1),
                                              description="First line\nsecond line " + "long " * 30)],
                               name="InnoBridge", now=datetime(2030, 1, 1, tzinfo=UTC))
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:")
    assert body.endswith("END:VCALENDAR\r\n")
    assert "\n" not in body.replace("\r\n", "")  # every line ends in CRLF
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    text = _unfold(body)
    assert "UID:challenge-7-deadline@localhost\r\n" in text
    assert "DTSTAMP:20300101T000000Z\r\n" in text
    assert "DTSTART:20300301T210000Z\r\n" in text
    assert "SUMMARY:Deadline: A\\, B\\; C\r\n" in text
    assert "DESCRIPTION:First line\\nsecond line long" in text


# --- the public file of a challenge ----------------------------------------------------------------------

def test_public_ics_of_an_open_challenge(app, client, center, challenge_factory):
    challenge = challenge_factory(*center, deadline=datetime(2031, 5, 4, 3, 2, tzinfo=UTC))
    response = client.get(f"/challenges/{challenge.id}/calendar.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    text = _unfold(response.get_data(as_text=True))
    assert "DTSTART:20310504T030200Z" in text
    assert "SUMMARY:Deadline: Low-noise readout circuit for wafer defect sensors" in text
    page = client.get(f"/challenges/{challenge.id}")
    assert f"/challenges/{challenge.id}/calendar.ics".encode() in page.data


def test_public_ics_of_a_draft_or_missing_challenge_is_404(app, client, center, challenge_factory, login):
    draft = challenge_factory(*center, status="draft")
    assert client.get(f"/challenges/{draft.id}/calendar.ics").status_code == 404
    assert client.get("/challenges/999999/calendar.ics").status_code == 404
    assert login(center[1]).get(f"/challenges/{draft.id}/calendar.ics").status_code == 404  # even for its staff


# --- the secret feed --------------------------------------------------------------------------------------

def test_feed_lists_my_deadlines_and_revoked_url_is_404(app, client, center, challenge_factory, make_user,
                                                       api_token):
    mine = challenge_factory(*center, title={"en": "Mine, with; specials"}, deadline=datetime.now(UTC) + 9 * DAY)
    theirs = challenge_factory(*center, title={"en": "Someone else's challenge"})
    user, other = make_user(), make_user()
    _accept(app, mine, user)
    _accept(app, theirs, other)
    headers = api_token(user)

    first = client.get("/api/v1/me/calendar-url", headers=headers)
    assert first.status_code == 200
    url = first.get_json()["url"]
    assert client.get("/api/v1/me/calendar-url", headers=headers).get_json()["url"] == url  # stable
    path = url.removeprefix("http://localhost")
    feed = client.get(path)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    text = _unfold(feed.get_data(as_text=True))
    assert "SUMMARY:Deadline: Mine\\, with\\; specials" in text
    assert f"UID:challenge-{mine.id}-deadline@localhost" in text
    assert "Someone else" not in text
    token = path.removeprefix("/calendar/").removesuffix(".ics")
    assert client.get(f"/me/calendar.ics?token={token}").get_data(as_text=True).count("BEGIN:VEVENT") == 1

    assert client.delete("/api/v1/me/calendar-url", headers=headers).status_code == 204
    assert client.get(path).status_code == 404
    assert client.get(f"/me/calendar.ics?token={token}").status_code == 404
    renewed = client.get("/api/v1/me/calendar-url", headers=headers).get_json()["url"]
    assert renewed != url

    regenerated = client.post("/api/v1/me/calendar-url", headers=headers)
    assert regenerated.status_code == 201
    assert client.get(renewed.removeprefix("http://localhost")).status_code == 404
    assert client.get(regenerated.get_json()["url"].removeprefix("http://localhost")).status_code == 200


def test_someone_elses_token_shows_their_feed_not_mine(app, client, center, challenge_factory, make_user, api_token):
    mine = challenge_factory(*center, title={"en": "Alpha challenge"})
    theirs = challenge_factory(*center, title={"en": "Beta challenge"})
    user, other = make_user(), make_user()
    _accept(app, mine, user)
    _accept(app, theirs, other)
    their_url = client.get("/api/v1/me/calendar-url", headers=api_token(other)).get_json()["url"]
    text = client.get(their_url.removeprefix("http://localhost")).get_data(as_text=True)
    assert "Beta challenge" in text and "Alpha challenge" not in text
    for token in ("", "x" * 64, "0" * 63, "../etc"):
        assert client.get("/me/calendar.ics", query_string={"token": token}).status_code == 404
    assert client.get("/me/calendar.ics").status_code == 404


def test_feed_needs_sign_in_for_the_url(client):
    response = client.get("/api/v1/me/calendar-url")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_feed_in_the_owners_language_lists_review_due_dates(app, client, center, challenge_factory, make_user,
                                                           api_token):
    from marketplace.accounts.models import User
    from marketplace.challenges import states
    from marketplace.challenges.models import Challenge
    from marketplace.proposals import services as proposals
    from marketplace.reviews.models import Review

    challenge = challenge_factory(*center)
    author, reviewer = make_user(), make_user(locale="zh_Hans")
    _accept(app, challenge, author)
    due = datetime(2031, 1, 2, 3, 4, tzinfo=UTC)
    with app.test_request_context():
        row = db.session.get(Challenge, challenge.id)
        writer = db.session.get(User, author.id)
        proposal = proposals.create_proposal(row, writer, {"title": "T", "abstract": "A", "body": "B"})
        proposals.submit(proposal, writer)
        manager = db.session.get(User, center[1].id)
        states.move(row, "closed", actor=manager, action="challenge.closed")
        states.move(row, "judging", actor=manager, action="challenge.judging")
        db.session.add(Review(challenge_id=row.id, proposal_id=proposal.id, reviewer_id=reviewer.id,
                              status="assigned", pseudonym="P-1", due_at=due))
        db.session.commit()
    url = client.get("/api/v1/me/calendar-url", headers=api_token(reviewer)).get_json()["url"]
    text = _unfold(client.get(url.removeprefix("http://localhost")).get_data(as_text=True))
    assert "DTSTART:20310102T030400Z" in text
    assert "用于晶圆缺陷检测的低噪声读出电路" in text  # the owner's language, whoever fetches the feed


def test_account_page_shows_copies_regenerates_and_revokes_the_link(app, make_user, login):
    user = make_user()
    client = login(user)
    page = client.get("/account")
    assert page.status_code == 200
    assert b'id="calendar-heading"' in page.data and b'id="calendar-url"' not in page.data

    made = client.post("/me/calendar-url", data={"csrf_token": csrf_token_from(page)}, follow_redirects=True)
    assert made.status_code == 200
    html = made.get_data(as_text=True)
    assert 'id="calendar-url"' in html and 'label for="calendar-url"' in html and "data-copy-target" in html
    url = html.split('id="calendar-url" type="text" readonly value="')[1].split('"')[0]
    path = url.removeprefix("http://localhost")
    assert app.test_client().get(path).status_code == 200

    token = csrf_token_from(made)
    again = client.post("/me/calendar-url", data={"csrf_token": token, "action": "regenerate"},
                        follow_redirects=True)
    assert app.test_client().get(path).status_code == 404
    new_url = again.get_data(as_text=True).split('id="calendar-url" type="text" readonly value="')[1].split('"')[0]
    assert new_url != url

    revoked = client.post("/me/calendar-url/revoke", data={"csrf_token": token}, follow_redirects=True)
    assert b'id="calendar-url"' not in revoked.data
    assert app.test_client().get(new_url.removeprefix("http://localhost")).status_code == 404

    assert client.post("/me/calendar-url/revoke", data={}).status_code in (400, 403)  # no CSRF token
