"""The expert database: profiles, research history, interests and notifications."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.db import IdMixin, TimestampMixin, UTCDateTime, utcnow
from marketplace.extensions import db

# Profile fields a solver may make private; private ones never leave staff pages.
VISIBILITY_FIELDS = ("headline", "bio", "expertise", "affiliation", "orcid", "research_history",
                     "latest_progress", "languages", "early_career", "awards")


class ExpertProfile(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "expert_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    headline: Mapped[str] = mapped_column(String(200), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    expertise: Mapped[list] = mapped_column(JSON, default=list)  # tags, controlled vocabulary or free
    affiliation: Mapped[str] = mapped_column(String(200), default="")
    affiliation_history: Mapped[list] = mapped_column(JSON, default=list)  # [{name, domain, start, end}]
    orcid: Mapped[str | None] = mapped_column(String(19))
    latest_progress: Mapped[str] = mapped_column(Text, default="")
    early_career: Mapped[bool] = mapped_column(Boolean, default=False)
    languages: Mapped[list] = mapped_column(JSON, default=list)
    visibility: Mapped[dict] = mapped_column(JSON, default=dict)  # field -> "public" | "private"
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(backref=db.backref("profile", uselist=False, lazy="select"))
    research: Mapped[list[ResearchEntry]] = relationship(
        back_populates="profile", cascade="all, delete-orphan", order_by="ResearchEntry.year.desc()")

    def is_public(self, field: str) -> bool:
        return self.field_is_public(self.visibility, field)

    @staticmethod
    def field_is_public(visibility: dict | None, field: str) -> bool:
        """`is_public` on a bare visibility mapping (a row read without its profile); fields are public by default."""
        return (visibility or {}).get(field, "public") == "public"

    @staticmethod
    def field_is_public_clause(visibility, field: str):
        """`field_is_public` as a SQL condition on a `visibility` column (of ExpertProfile or an alias of it)."""
        return func.coalesce(visibility[field].as_string(), "public") == "public"


class ResearchEntry(IdMixin, db.Model):
    """A publication, patent, project or grant in a solver's research history."""

    __tablename__ = "research_entries"

    profile_id: Mapped[int] = mapped_column(ForeignKey("expert_profiles.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(20))  # publication | patent | project | grant | thesis | other
    link: Mapped[str | None] = mapped_column(String(500))
    coauthors: Mapped[list] = mapped_column(JSON, default=list)  # names or e-mails, for conflict checks

    profile: Mapped[ExpertProfile] = relationship(back_populates="research")


class Interest(IdMixin, TimestampMixin, db.Model):
    """Something a solver follows: a field, an expertise tag or a keyword."""

    __tablename__ = "interests"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # field | tag | keyword
    value: Mapped[str] = mapped_column(String(100))

    __table_args__ = (UniqueConstraint("user_id", "kind", "value"),)


class AlertSettings(db.Model):
    __tablename__ = "alert_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    digest: Mapped[bool] = mapped_column(Boolean, default=False)  # one mail a day instead of one per challenge
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Notification(IdMixin, TimestampMixin, db.Model):
    """An in-app notification; `payload` holds ids and values, the text is rendered in the reader's language."""

    __tablename__ = "notifications"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mailed: Mapped[bool] = mapped_column(Boolean, default=False)


class ExpertTerm(db.Model):
    """The expert database's inverted index: one row per (profile, analysed term), kept by solvers.experts.

    Terms come from the search analyzer (stemmed, accent-folded, Chinese segmented); expertise
    tags are stored again whole as "tag:<tag>" for the exact expertise filter. `weight` ranks
    where the term was found (headline and tags above bio and research titles); `public_weight` is the
    same from the fields the solver made public only, 0 when the term comes from private fields alone:
    only those who may see private fields (`profiles.may_see_private`) may match a term with it 0.
    """

    __tablename__ = "expert_terms"

    profile_id: Mapped[int] = mapped_column(ForeignKey("expert_profiles.id", ondelete="CASCADE"), primary_key=True)
    term: Mapped[str] = mapped_column(String(100), primary_key=True)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    public_weight: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (Index("ix_expert_terms_term", "term", "profile_id", "weight", "public_weight"),)
