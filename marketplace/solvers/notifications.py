"""In-app notifications: stored as a kind and a payload, rendered in the reader's language.

A notification never stores its sentence: each kind has a renderer that turns the payload
into text in the current locale, so a German reader reads German even about an event that
happened while their interface was in English. Every package registers its kinds with `register_kind` from its
`register_notification_kinds()`, which marketplace.wiring calls when the app is made (never on import).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from marketplace.content_locales import pick
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.solvers.models import Notification

CHALLENGE_PUBLISHED = "challenge_published"


@dataclass(frozen=True)
class KindRenderer:
    text: Callable[[dict, str], str]  # (payload, locale) -> sentence in the current locale
    link: Callable[[dict], str | None]  # payload -> site-relative path


_KINDS: dict[str, KindRenderer] = {}


def register_kind(kind: str, *, text: Callable[[dict, str], str], link: Callable[[dict], str | None]) -> None:
    _KINDS[kind] = KindRenderer(text=text, link=link)


def localized_title(payload: dict, locale: str) -> str:
    titles = payload.get("title") or {}
    return pick(titles, locale, payload.get("default_locale") or "en")[1] or next(iter(titles.values()), "")


def _reason_text(reason: list | tuple) -> str:
    from marketplace.solvers.vocabulary import field_label, tag_label

    kind, value = reason[0], reason[1]
    if kind == "field":
        return _("you follow the field %(field)s", field=field_label(value))
    if kind == "tag":
        return _("you follow the tag “%(tag)s”", tag=tag_label(value))
    return _("you follow the keyword “%(keyword)s”", keyword=value)


def reasons_text(payload: dict) -> str:
    return "; ".join(_reason_text(reason) for reason in payload.get("reasons") or ())


def _challenge_published_text(payload: dict, locale: str) -> str:
    return _("New challenge: %(title)s (%(reasons)s)", title=localized_title(payload, locale),
             reasons=reasons_text(payload))


def register_notification_kinds() -> None:
    register_kind(CHALLENGE_PUBLISHED, text=_challenge_published_text,
                  link=lambda payload: f"/challenges/{payload['challenge_id']}")


def add(user_id: int, kind: str, payload: dict, *, mailed: bool = False) -> Notification:
    notification = Notification(user_id=user_id, kind=kind, payload=payload, mailed=mailed)
    db.session.add(notification)
    return notification


def text_of(notification: Notification, locale: str) -> str:
    renderer = _KINDS.get(notification.kind)
    return renderer.text(notification.payload or {}, locale) if renderer else _("You have a new notification.")


def link_of_payload(kind: str, payload: dict) -> str | None:
    renderer = _KINDS.get(kind)
    return renderer.link(payload or {}) if renderer else None


def link_of(notification: Notification) -> str | None:
    return link_of_payload(notification.kind, notification.payload)


def _mine(user):
    return select(Notification).where(Notification.user_id == user.id)


def unread_count(user) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def page_for(user, *, page: int = 1, per_page: int = 20, unread_only: bool = False) -> tuple[list[Notification], int]:
    """Newest first; returns (notifications of the page, total)."""
    statement = _mine(user)
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = db.session.scalars(statement.order_by(Notification.created_at.desc(), Notification.id.desc())
                              .limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total


def mark_read(user, ids: list[int] | None = None) -> int:
    """Mark the user's notifications `ids` (all of them when None) read; others' ids are ignored."""
    statement = (update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
                 .values(read_at=utcnow()))
    if ids is not None:
        if not ids:
            return 0
        statement = statement.where(Notification.id.in_(ids))
    return db.session.execute(statement, execution_options={"synchronize_session": False}).rowcount


def as_dict(notification: Notification, locale: str) -> dict:
    return {
        "id": notification.id,
        "kind": notification.kind,
        "text": text_of(notification, locale),
        "link": link_of(notification),
        "data": notification.payload,
        "read": notification.read_at is not None,
        "read_at": notification.read_at,
        "created_at": notification.created_at,
    }
