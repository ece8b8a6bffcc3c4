from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import IdMixin, TimestampMixin, UTCDateTime, one_of, utcnow
from marketplace.extensions import db

# A mail is taken for sending (`sending`) before it is sent, so two workers never send it twice.
MAIL_STATES = ("pending", "sending", "sent")


class OutboxMail(IdMixin, TimestampMixin, db.Model):
    """A mail waiting to be sent, or sent. A failed send stays here and is retried."""

    __tablename__ = "outbox_mails"

    recipient: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    template: Mapped[str] = mapped_column(String(60))
    locale: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint(one_of("status", MAIL_STATES), name="status"),)
