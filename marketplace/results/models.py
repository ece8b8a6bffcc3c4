"""Open results: what came of an awarded challenge, published for others to build on.

A result record is written by the center after an award, in every locale it has (one text row per
locale). Winners are named only with their explicit consent (one consent row per winner). A
follow-on challenge ("second-round R&D") is linked to the result it builds on.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import Organization, User
from marketplace.challenges.models import Challenge
from marketplace.content_locales import pick
from marketplace.db import IdMixin, TimestampMixin, UTCDateTime, one_of, utcnow
from marketplace.extensions import db
from marketplace.permissions import Role

RESULT_STATES = ("draft", "published", "withdrawn")
CONSENT_STATES = ("pending", "given", "declined")


class ResultRecord(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "result_records"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    default_locale: Mapped[str] = mapped_column(String(16))
    field: Mapped[str] = mapped_column(String(60), index=True)
    # IP status: a patent application number (if any), licence terms (per locale, in the texts),
    # whether the center offers licences, and whom to ask.
    patent_application: Mapped[str | None] = mapped_column(String(60))
    open_for_licensing: Mapped[bool] = mapped_column(Boolean, default=False)
    licensing_contact: Mapped[str] = mapped_column(String(254), default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    challenge: Mapped[Challenge] = relationship()
    organization: Mapped[Organization] = relationship()
    texts: Mapped[list[ResultText]] = relationship(
        back_populates="result", cascade="all, delete-orphan", order_by="ResultText.locale", lazy="selectin")
    winners: Mapped[list[WinnerConsent]] = relationship(
        back_populates="result", cascade="all, delete-orphan", order_by="WinnerConsent.id", lazy="selectin")

    __table_args__ = (CheckConstraint(one_of("status", RESULT_STATES), name="status"),)

    # --- derived views ------------------------------------------------------------------
    @property
    def available_locales(self) -> list[str]:
        return sorted(t.locale for t in self.texts)

    def text_map(self, attribute: str) -> dict[str, str]:
        return {t.locale: getattr(t, attribute) for t in self.texts if getattr(t, attribute)}

    def localized(self, attribute: str, locale: str | None) -> tuple[str, str]:
        return pick(self.text_map(attribute), locale, self.default_locale)

    @property
    def named_winners(self) -> list[WinnerConsent]:
        """Winners shown by name: the center chose to name them AND they consented (now)."""
        return [w for w in self.winners if w.named and w.consent == "given"]

    @property
    def is_public(self) -> bool:
        return self.status == "published"

    # --- permission predicates ------------------------------------------------------------
    def is_staff(self, user) -> bool:
        return bool(user and user.is_authenticated and user.is_staff_of(self.organization_id))

    def can_manage(self, user) -> bool:
        return bool(user and user.is_authenticated and user.has_role(Role.CENTER_MANAGER, self.organization_id))

    def is_winner(self, user) -> bool:
        return bool(user and user.is_authenticated and any(w.user_id == user.id for w in self.winners))

    def can_view(self, user) -> bool:
        """Published: everyone. Draft or withdrawn: the center's staff and the winners asked to consent."""
        return self.is_public or self.is_staff(user) or self.is_winner(user)


class ResultText(IdMixin, db.Model):
    """A result's text in one locale."""

    __tablename__ = "result_texts"

    result_id: Mapped[int] = mapped_column(ForeignKey("result_records.id", ondelete="CASCADE"), index=True)
    locale: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    abstract: Mapped[str] = mapped_column(Text, default="")
    licence_terms: Mapped[str] = mapped_column(Text, default="")

    result: Mapped[ResultRecord] = relationship(back_populates="texts")

    __table_args__ = (UniqueConstraint("result_id", "locale"),)


class WinnerConsent(IdMixin, db.Model):
    """One winner of the challenge and a result record: named by the center? consented to be named?

    A row exists for every award recipient of the challenge; the name appears only when `named`
    and `consent == "given"`. A winner may withdraw consent at any time; the name then disappears.
    """

    __tablename__ = "result_winner_consents"

    result_id: Mapped[int] = mapped_column(ForeignKey("result_records.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    named: Mapped[bool] = mapped_column(Boolean, default=False)
    consent: Mapped[str] = mapped_column(String(10), default="pending")  # pending | given | declined
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The name as the winner wants it cited ("Schmidt, Anna"); their display name when empty.
    cited_name: Mapped[str] = mapped_column(String(200), default="")

    result: Mapped[ResultRecord] = relationship(back_populates="winners")
    user: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("result_id", "user_id"),)

    @property
    def name(self) -> str:
        return self.cited_name or self.user.display_name


class FollowOn(db.Model):
    """A follow-on challenge ("second-round R&D") and the result it builds on."""

    __tablename__ = "result_follow_ons"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("result_records.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    challenge: Mapped[Challenge] = relationship()
