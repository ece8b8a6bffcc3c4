"""The agreement side of a challenge: agreement templates, solvers' acceptances, and the amendments
that may ask them to accept again (challenges/agreements.py and amendments.py hold the rules)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import IdMixin, TimestampMixin, UTCDateTime, utcnow
from marketplace.extensions import db


class Amendment(IdMixin, TimestampMixin, db.Model):
    """A dated change to an open challenge's rules, published in its change log."""

    __tablename__ = "challenge_amendments"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[dict] = mapped_column(JSON, default=dict)  # {locale: text}
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # field -> {"from": .., "to": ..}
    requires_reacceptance: Mapped[bool] = mapped_column(Boolean, default=False)
    agreement_version: Mapped[str | None] = mapped_column(String(40))


class AgreementTemplate(IdMixin, TimestampMixin, db.Model):
    """A versioned challenge agreement of an organization, in several locales."""

    __tablename__ = "agreement_templates"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    version: Mapped[str] = mapped_column(String(40))
    governing_law: Mapped[str] = mapped_column(String(120))
    texts: Mapped[dict] = mapped_column(JSON)  # {locale: markdown}

    __table_args__ = (UniqueConstraint("organization_id", "version"),)


class AgreementAcceptance(IdMixin, db.Model):
    __tablename__ = "agreement_acceptances"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    version: Mapped[str] = mapped_column(String(60))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip_address: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("challenge_id", "user_id", "version"),)
