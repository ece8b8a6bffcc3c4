"""Sent reminders (the database's guarantee that each is sent once) and secret calendar feed links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import IdMixin, TimestampMixin, UTCDateTime, utcnow
from marketplace.extensions import db


class SentReminder(IdMixin, db.Model):
    """One reminder sent: (user, kind, object, offset) is unique, so a second run cannot send it again."""

    __tablename__ = "sent_reminders"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))  # challenge_deadline | review_due | (later) stage, appeal
    object_id: Mapped[int] = mapped_column(Integer)  # the challenge (or stage ...) the deadline belongs to
    offset_days: Mapped[int] = mapped_column(Integer)  # 7, 1: the reminder "N days before"
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the deadline the reminder announced
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "kind", "object_id", "offset_days"),)


class CalendarFeed(IdMixin, TimestampMixin, db.Model):
    """A user's secret calendar link. The token is derived from `nonce` and SECRET_KEY; only its hash is
    looked up, so the table alone does not reveal working links. Deleting the row revokes the link."""

    __tablename__ = "calendar_feeds"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    nonce: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
