"""iCalendar (RFC 5545) by hand: the secret per-user feed and the public file of one challenge.

`render_calendar(events)` writes CRLF lines folded at 75 octets (never inside a UTF-8 sequence), TEXT
values escaped (backslash, semicolon, comma, newline), UTC times. Event sources are registered with
`register_event_source`: today challenge deadlines and review due dates; stage deadlines and appeal
windows add their own source (a function user -> events) without touching the feed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from marketplace.audit.services import record
from marketplace.challenges.models import PUBLIC_STATES, Challenge
from marketplace.content_locales import pick
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.reminders.models import CalendarFeed

PRODID = "-//InnoBridge//Challenge deadlines//EN"


@dataclass(frozen=True)
class CalendarEvent:
    uid: str  # stable across feeds and refreshes, e.g. "challenge-12-deadline"
    start: datetime  # aware; written in UTC
    summary: str
    description: str = ""
    url: str | None = None


# --- RFC 5545 writing -----------------------------------------------------------------------------------

def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma escaped; newlines as \\n."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line into pieces of at most 75 octets, continuation lines starting with a space."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    pieces, current, size, limit = [], [], 0, 75
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            pieces.append("".join(current))
            current, size, limit = [], 0, 74  # the leading space of a continuation counts
        current.append(char)
        size += width
    pieces.append("".join(current))
    return "\r\n ".join(pieces)


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _domain() -> str:
    return urlsplit(current_app.config.get("PUBLIC_URL") or "http://localhost").hostname or "innobridge"


def render_calendar(events: Iterable[CalendarEvent], *, name: str, now: datetime | None = None) -> str:
    stamp = utc_stamp(now or utcnow())
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             f"X-WR-CALNAME:{escape_text(name)}"]
    domain = _domain()
    for event in sorted(events, key=lambda e: (e.start, e.uid)):
        lines += ["BEGIN:VEVENT", f"UID:{event.uid}@{domain}", f"DTSTAMP:{stamp}",
                  f"DTSTART:{utc_stamp(event.start)}",
                  f"SUMMARY:{escape_text(event.summary)}"]
        if event.description:
            lines.append(f"DESCRIPTION:{escape_text(event.description)}")
        if event.url:
            lines.append(f"URL:{event.url}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


# --- events ---------------------------------------------------------------------------------------------

def _link(path: str) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


def challenge_link(challenge_id: int) -> str:
    return _link(f"/challenges/{challenge_id}")


def challenge_deadline_events(challenge: Challenge, locale: str) -> list[CalendarEvent]:
    """The challenge's deadline; for a challenge in stages, each stage's deadline that is still to come or open."""
    title = challenge.localized("title", locale)[1]
    summary = pick(challenge.text_map("summary"), locale, challenge.default_locale)[1]
    url = _link(f"/challenges/{challenge.id}")
    if not challenge.is_multi_stage:
        return [CalendarEvent(uid=f"challenge-{challenge.id}-deadline", start=challenge.deadline,
                              summary=_("Deadline: %(title)s", title=title), description=summary, url=url)]
    return [CalendarEvent(uid=f"challenge-{challenge.id}-stage-{stage.position}-deadline", start=stage.deadline,
                          summary=_("Deadline of %(stage)s: %(title)s",
                                    stage=stage.display_name(locale, challenge.default_locale), title=title),
                          description=summary, url=url)
            for stage in challenge.stages if challenge.stage_status(stage) in ("upcoming", "open")]


def _deadline_events(user, locale: str) -> list[CalendarEvent]:
    from marketplace.reminders.services import deadline_participants

    people = deadline_participants(user_id=user.id)
    challenges = db.session.scalars(select(Challenge).where(
        Challenge.id.in_(select(people.c.challenge_id)), Challenge.status.in_(PUBLIC_STATES))).all()
    return [event for challenge in challenges for event in challenge_deadline_events(challenge, locale)]


def _review_events(user, locale: str) -> list[CalendarEvent]:
    from marketplace.reminders.services import review_due_rows

    rows = db.session.execute(review_due_rows(user_id=user.id)).all()
    challenges = {c.id: c for c in db.session.scalars(
        select(Challenge).where(Challenge.id.in_([row.challenge_id for row in rows])))}
    return [CalendarEvent(uid=f"challenge-{row.challenge_id}-reviews-{user.id}", start=row.due_at,
                          summary=_("Reviews due: %(title)s", title=challenges[row.challenge_id]
                                    .localized("title", locale)[1]),
                          url=_link("/reviews")) for row in rows]


EventSource = Callable[[object, str], list[CalendarEvent]]
_SOURCES: list[EventSource] = [_deadline_events, _review_events]


def register_event_source(source: EventSource) -> None:
    """Add events to every user's feed, e.g. stage deadlines and appeal windows: source(user, locale)."""
    if source not in _SOURCES:  # create_app runs once per app; the feed lists each source once
        _SOURCES.append(source)


def events_for(user, locale: str) -> list[CalendarEvent]:
    return [event for source in _SOURCES for event in source(user, locale)]


# --- the secret link --------------------------------------------------------------------------------------

def _token(nonce: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"calendar-feed:{nonce}".encode(), hashlib.sha256).hexdigest()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_of(user) -> CalendarFeed | None:
    return db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))


def feed_url(feed: CalendarFeed) -> str:
    return _link(f"/calendar/{_token(feed.nonce)}.ics")


def ensure_feed(user) -> CalendarFeed:
    """The user's feed link, created on first use (audited)."""
    return feed_of(user) or _new_feed(user, action="calendar.link_created")


def regenerate_feed(user) -> CalendarFeed:
    """A new secret link; the old one stops working at once."""
    _delete(user)
    return _new_feed(user, action="calendar.link_regenerated")


def revoke_feed(user) -> bool:
    """Revoke the link (a later ensure_feed makes a new one). Returns whether there was one."""
    if not _delete(user):
        return False
    record("calendar.link_revoked", "user", user.id, actor=user)
    return True


def _delete(user) -> bool:
    feed = feed_of(user)
    if feed is None:
        return False
    db.session.delete(feed)
    db.session.flush()
    return True


def _new_feed(user, *, action: str) -> CalendarFeed:
    nonce = secrets.token_hex(16)
    feed = CalendarFeed(user_id=user.id, nonce=nonce, token_hash=_hash(_token(nonce)))
    db.session.add(feed)
    db.session.flush()
    record(action, "user", user.id, actor=user)
    return feed


def owner_of(token: str | None):
    """The user whose live link carries `token`, or None (unknown, revoked, malformed, inactive)."""
    from marketplace.accounts.models import User

    if not token or len(token) != 64:
        return None
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token)))
    if feed is None or not hmac.compare_digest(_token(feed.nonce), token):
        return None
    user = db.session.get(User, feed.user_id)
    return user if user is not None and user.active else None
