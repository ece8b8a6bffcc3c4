from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import IdMixin, UTCDateTime, utcnow
from marketplace.extensions import db


class AuditEntry(IdMixin, db.Model):
    """One append-only, hash-chained record of a state change or money movement."""

    __tablename__ = "audit_entries"

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(80))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    # Whose trail this is (the organization behind the entity), derived when the entry is written.
    # A read scope, not part of the hashed facts: entries written before it existed were backfilled.
    organization_id: Mapped[int | None] = mapped_column(Integer, index=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (db.Index("ix_audit_entries_entity", "entity_type", "entity_id"),)

    @property
    def entity(self) -> str:
        return f"{self.entity_type}:{self.entity_id}"
