"""Interest alerts: what a solver follows, how they want to hear about it, and who hears about
a newly published challenge.

A solver follows fields, tags and keywords. When a challenge is published (challenges.services.publish
calls `notify_followers`), every follower it matches gets an in-app notification and, unless they
chose the digest, one e-mail in their own language. `flask notifications digest` mails the others
one summary of what they have not been mailed yet.

Matching (case-insensitive, on the text of every locale):
- field: the follower's field is the challenge's field;
- tag: the tag is the challenge's field, or appears as words in a title or summary
  ("analog-design" matches "analog design" and "Analog-Design"; a final s is allowed: "sensor" matches "sensors");
- keyword: appears as words in a title or summary; a keyword in Chinese (or any Han script) matches as a substring,
  since Chinese text has no spaces between words.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import User
from marketplace.audit.services import record
from marketplace.db import utcnow
from marketplace.eligibility import participation_problem
from marketplace.errors import NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.i18n import normalise_locale
from marketplace.mail.services import queue_mail
from marketplace.solvers import notifications
from marketplace.solvers.models import AlertSettings, Interest, Notification
from marketplace.solvers.vocabulary import normalise_tag, tag_problem

logger = logging.getLogger(__name__)

INTEREST_KINDS = ("field", "tag", "keyword")
MAX_INTERESTS = 50
MAX_KEYWORD_CHARS = 100
MAX_FIELD_CHARS = 60


_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
# Words for matching: letters and digits of any script, keeping + and # (c++, c#); all else separates.
_WORD = re.compile(r"[^\W_]+(?:[+#]+)?")


# --- what a solver follows ------------------------------------------------------------------------

def normalise_interest(kind: str, value: str) -> str:
    """The stored form of an interest value; ValidationFailed with a clear message otherwise."""
    if kind not in INTEREST_KINDS:
        raise _invalid("kind", _l("Follow a field, a tag or a keyword."))
    if kind in ("field", "tag"):
        normal = normalise_tag(value)
        problem = tag_problem(normal) if kind == "tag" else (
            _l("A field has at most %(max)d characters.", max=MAX_FIELD_CHARS) if len(normal) > MAX_FIELD_CHARS
            else None)
        if not normal or problem:
            raise _invalid("value", problem or _l("Give a value to follow."))
        return normal
    keyword = " ".join(unicodedata.normalize("NFKC", str(value)).casefold().split())
    if len(keyword) < 2 or len(keyword) > MAX_KEYWORD_CHARS:
        raise _invalid("value", _l("A keyword has between 2 and %(max)d characters.", max=MAX_KEYWORD_CHARS))
    return keyword


def _invalid(field: str, message) -> ValidationFailed:
    return ValidationFailed(message, errors={field: [str(message)]})


def interests_of(user) -> list[Interest]:
    return list(db.session.scalars(select(Interest).where(Interest.user_id == user.id)
                                   .order_by(Interest.kind, Interest.value)))


def follow(user, kind: str, value: str, *, actor) -> tuple[Interest, bool]:
    """Follow something; returns (interest, created). Following twice is harmless."""
    value = normalise_interest(kind, value)
    existing = db.session.scalar(select(Interest).filter_by(user_id=user.id, kind=kind, value=value))
    if existing:
        return existing, False
    if len(interests_of(user)) >= MAX_INTERESTS:
        raise _invalid("value", _l("You can follow at most %(max)d things; remove one first.", max=MAX_INTERESTS))
    interest = Interest(user_id=user.id, kind=kind, value=value)
    try:
        with db.session.begin_nested():
            db.session.add(interest)
    except IntegrityError:  # the same follow from a second tab at the same moment
        return db.session.scalar(select(Interest).filter_by(user_id=user.id, kind=kind, value=value)), False
    record("interest.followed", "user", user.id, actor=actor, kind=kind, value=value)
    return interest, True


def unfollow(user, interest: Interest | None, *, actor) -> None:
    if interest is None or interest.user_id != user.id:
        raise NotFound(_l("You do not follow this."))
    record("interest.unfollowed", "user", user.id, actor=actor, kind=interest.kind, value=interest.value)
    db.session.delete(interest)
    db.session.flush()


def find_interest(user, *, interest_id: int | None = None, kind: str | None = None,
                  value: str | None = None) -> Interest | None:
    if interest_id is not None:
        interest = db.session.get(Interest, interest_id)
        return interest if interest is not None and interest.user_id == user.id else None
    try:
        value = normalise_interest(kind or "", value or "")
    except ValidationFailed:
        return None
    return db.session.scalar(select(Interest).filter_by(user_id=user.id, kind=kind, value=value))


def settings_of(user) -> AlertSettings:
    """The user's alert settings (an unsaved default when they never chose)."""
    return db.session.get(AlertSettings, user.id) or AlertSettings(user_id=user.id, digest=False)


def set_digest(user, digest: bool, *, actor) -> AlertSettings:
    settings = db.session.get(AlertSettings, user.id)
    if settings is None:
        settings = AlertSettings(user_id=user.id, digest=digest)
        db.session.add(settings)
    elif settings.digest == digest:
        return settings
    settings.digest = digest
    db.session.flush()
    record("alert_settings.changed", "user", user.id, actor=actor, digest=digest)
    return settings


# --- matching a challenge ---------------------------------------------------------------------------

def _words(text: str) -> str:
    """Text as its words, casefolded and separated by single spaces, with a space at each end."""
    return " " + " ".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold())) + " "


def _phrase_in(phrase_words: str, words: str) -> bool:
    if not phrase_words.strip():
        return False
    return re.search(r" " + re.escape(phrase_words.strip()) + r"(?:e?s)? ", words) is not None


class ChallengeText:
    """A challenge's field, titles and summaries in every locale, ready to match interests against."""

    def __init__(self, challenge) -> None:
        self.field = normalise_tag(challenge.field or "")
        texts = [part for t in challenge.texts for part in (t.title, t.summary) if part]
        self.raw_compact = "".join(unicodedata.normalize("NFKC", "\n".join(texts)).casefold().split())
        self.words = _words("\n".join(texts))
        self.field_words = _words(self.field)

    def matches(self, kind: str, value: str) -> bool:
        if kind == "field":
            return value == self.field
        if kind == "tag" and (value == self.field or _phrase_in(_words(value), self.field_words)):
            return True
        if _HAN.search(value):
            return value.replace(" ", "") in self.raw_compact
        return _phrase_in(_words(value), self.words)


def matching_followers(challenge) -> dict[int, list[tuple[str, str]]]:
    """user id -> the (kind, value) interests of theirs this challenge matches.

    People who may never take part in it (`Challenge.conflicted_user_ids`: staff of the posting center,
    reviewers in its pool) are left out: they are not invited to a challenge they could not enter."""
    text = ChallengeText(challenge)
    candidates = db.session.execute(
        select(Interest.kind, Interest.value).where(Interest.kind.in_(("tag", "keyword"))).distinct()).all()
    wanted: dict[str, set[str]] = {"field": {text.field}}
    for kind, value in candidates:
        if text.matches(kind, value):
            wanted.setdefault(kind, set()).add(value)
    conditions = [and_(Interest.kind == kind, Interest.value.in_(sorted(values)))
                  for kind, values in wanted.items() if values]
    followers: dict[int, list[tuple[str, str]]] = {}
    for user_id, kind, value in db.session.execute(
            select(Interest.user_id, Interest.kind, Interest.value)
            .where(or_(*conditions), Interest.user_id.not_in(challenge.conflicted_user_ids()))
            .order_by(Interest.user_id, Interest.kind, Interest.value)):
        followers.setdefault(user_id, []).append((kind, value))
    return followers


def _payload(challenge, reasons: list[tuple[str, str]]) -> dict:
    return {
        "challenge_id": challenge.id,
        "title": challenge.text_map("title"),
        "default_locale": challenge.default_locale,
        "field": challenge.field,
        "reasons": [list(reason) for reason in reasons],
    }


def _link(path: str) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


def _locale_of(user: User) -> str:
    return normalise_locale(user.locale) or "en"


def notify_followers(challenge) -> int:
    """Notify every follower a just-published challenge matches; returns how many were notified.

    Followers who may not see it (invite-only) or may not take part (staff of the posting center,
    reviewers in its pool, excluded or sanctioned country: `Challenge.participation_refusal`) are left out.
    E-mail goes only to confirmed addresses, at once unless the follower chose the digest; the mail's
    language is the follower's, not the publisher's.
    """
    followers = matching_followers(challenge)
    if not followers:
        return 0
    users = db.session.scalars(select(User).where(User.id.in_(sorted(followers)), User.active.is_(True))).all()
    digest_users = set(db.session.scalars(select(AlertSettings.user_id).where(
        AlertSettings.user_id.in_(sorted(followers)), AlertSettings.digest.is_(True))))
    notified = 0
    for user in users:
        if not challenge.can_view(user) or participation_problem(challenge, user):
            continue
        payload = _payload(challenge, followers[user.id])
        mail_now = user.id not in digest_users and user.email_confirmed
        notifications.add(user.id, notifications.CHALLENGE_PUBLISHED, payload, mailed=mail_now)
        if mail_now:
            locale = _locale_of(user)
            queue_mail(user.email, "challenge_alert", locale=locale, user=user,
                       title=notifications.localized_title(payload, locale), payload=payload,
                       reasons_text=notifications.reasons_text,
                       link=_link(notifications.link_of_payload(notifications.CHALLENGE_PUBLISHED, payload)))
        notified += 1
    db.session.flush()
    logger.info("challenge %s published: %d followers notified", challenge.id, notified)
    return notified


# --- the digest ----------------------------------------------------------------------------------------

def _unmailed(user_id: int):
    return (select(Notification).where(Notification.user_id == user_id, Notification.mailed.is_(False),
                                       Notification.kind == notifications.CHALLENGE_PUBLISHED))


def digest_recipients() -> list[int]:
    """Ids of confirmed digest users with challenge notifications not mailed yet."""
    return list(db.session.scalars(
        select(User.id).join(AlertSettings, AlertSettings.user_id == User.id)
        .where(AlertSettings.digest.is_(True), User.active.is_(True), User.email_confirmed_at.is_not(None),
               User.id.in_(select(Notification.user_id).where(Notification.mailed.is_(False),
                                                              Notification.kind == notifications.CHALLENGE_PUBLISHED)))
        .order_by(User.id)))


def send_digest(user: User) -> tuple[int, int | None]:
    """Queue one mail with every challenge notification of `user` not mailed yet and mark them mailed.

    Returns (how many notifications it holds, the outbox mail's id), or (0, None) when there was nothing.
    """
    pending = db.session.scalars(_unmailed(user.id).order_by(Notification.created_at, Notification.id)).all()
    if not pending:
        return 0, None
    locale = _locale_of(user)
    items = [{"title": notifications.localized_title(n.payload, locale), "payload": n.payload,
              "link": _link(notifications.link_of(n) or "/")} for n in pending]
    mail = queue_mail(user.email, "challenge_digest", locale=locale, user=user, items=items,
                      reasons_text=notifications.reasons_text)
    for notification in pending:
        notification.mailed = True
    settings = db.session.get(AlertSettings, user.id)
    settings.last_digest_at = utcnow()
    db.session.flush()
    return len(pending), mail.id
