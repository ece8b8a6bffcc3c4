from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import Organization, User
from marketplace.content_locales import pick
from marketplace.db import TimestampMixin, UTCDateTime, utcnow
from marketplace.extensions import db
from marketplace.money import Money
from marketplace.permissions import Role

PUBLIC_STATES = ("open", "closed", "judging", "awarded", "no_award")

challenge_requirements = Table(
    "challenge_requirements",
    db.metadata,
    Column("challenge_id", ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True),
    Column("requirement_id", ForeignKey("program_requirements.id", ondelete="CASCADE"), primary_key=True),
)


class Challenge(TimestampMixin, db.Model):
    __tablename__ = "challenges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    program_id: Mapped[int | None] = mapped_column(ForeignKey("programs.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    default_locale: Mapped[str] = mapped_column(String(16))
    challenge_type: Mapped[str] = mapped_column(String(16))
    field: Mapped[str] = mapped_column(String(60), index=True)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    award_minor: Mapped[int] = mapped_column(BigInteger)
    award_currency: Mapped[str] = mapped_column(String(3))
    premium_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    # Added to an early-career winner's award; funded with the challenge (see funding_target_minor).
    early_career_bonus_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"), server_default="0")
    quote: Mapped[dict] = mapped_column(JSON, default=dict)  # the benchmarks the award was computed from
    funded: Mapped[bool] = mapped_column(Boolean, default=False)
    seeker_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    invite_only: Mapped[bool] = mapped_column(Boolean, default=False)
    ip_terms: Mapped[str] = mapped_column(String(24), default="assignment")
    target_trl: Mapped[int | None] = mapped_column(Integer)
    excluded_countries: Mapped[list] = mapped_column(JSON, default=list)
    agreement_version: Mapped[str | None] = mapped_column(String(40))
    clearance_note: Mapped[str | None] = mapped_column(Text)
    cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organization: Mapped[Organization] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    texts: Mapped[list[ChallengeText]] = relationship(
        back_populates="challenge", cascade="all, delete-orphan", lazy="selectin")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="challenge", cascade="all, delete-orphan", order_by="Criterion.position")
    requirements = relationship("Requirement", secondary=challenge_requirements, lazy="selectin")

    # --- derived views ------------------------------------------------------------------
    @property
    def award(self) -> Money:
        return Money(self.award_minor, self.award_currency)

    @property
    def funding_target_minor(self) -> int:
        """What escrow must hold: the award plus the largest early-career bonus it could owe."""
        from marketplace.analytics.early_career import max_bonus_minor

        return self.award_minor + max_bonus_minor(self)

    @property
    def available_locales(self) -> list[str]:
        return sorted(t.locale for t in self.texts)

    def text_map(self, attribute: str) -> dict[str, str]:
        return {t.locale: getattr(t, attribute) for t in self.texts if getattr(t, attribute)}

    def localized(self, attribute: str, locale: str | None) -> tuple[str, str]:
        return pick(self.text_map(attribute), locale, self.default_locale)

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATES and not self.invite_only

    # --- permission predicates ------------------------------------------------------------
    def is_staff(self, user) -> bool:
        return bool(user and user.is_authenticated and user.is_staff_of(self.organization_id))

    def can_view(self, user) -> bool:
        if self.is_staff(user):
            return True
        if self.status not in PUBLIC_STATES:
            return False
        if not self.invite_only:
            return True
        return bool(user and user.is_authenticated and any(i.email == user.email for i in self.invitations))

    def can_manage(self, user) -> bool:
        return bool(user and user.is_authenticated and user.has_role(Role.CENTER_MANAGER, self.organization_id))

    invitations: Mapped[list[ChallengeInvitation]] = relationship(cascade="all, delete-orphan")


class ChallengeText(db.Model):
    """The challenge's text in one locale."""

    __tablename__ = "challenge_texts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    locale: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")

    challenge: Mapped[Challenge] = relationship(back_populates="texts")

    __table_args__ = (UniqueConstraint("challenge_id", "locale"),)


class Criterion(db.Model):
    """A weighted judging criterion; names per locale."""

    __tablename__ = "criteria"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    weight: Mapped[int] = mapped_column(Integer)
    name: Mapped[dict] = mapped_column(JSON)

    challenge: Mapped[Challenge] = relationship(back_populates="criteria")


class ChallengeInvitation(db.Model):
    """Who may see an invite-only challenge."""

    __tablename__ = "challenge_invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))

    __table_args__ = (UniqueConstraint("challenge_id", "email"),)


class Amendment(TimestampMixin, db.Model):
    """A dated change to an open challenge's rules, published in its change log."""

    __tablename__ = "challenge_amendments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[dict] = mapped_column(JSON, default=dict)  # {locale: text}
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # field -> {"from": .., "to": ..}
    requires_reacceptance: Mapped[bool] = mapped_column(Boolean, default=False)
    agreement_version: Mapped[str | None] = mapped_column(String(40))


class AgreementTemplate(TimestampMixin, db.Model):
    """A versioned challenge agreement of an organization, in several locales."""

    __tablename__ = "agreement_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    version: Mapped[str] = mapped_column(String(40))
    governing_law: Mapped[str] = mapped_column(String(120))
    texts: Mapped[dict] = mapped_column(JSON)  # {locale: markdown}

    __table_args__ = (UniqueConstraint("organization_id", "version"),)


class AgreementAcceptance(db.Model):
    __tablename__ = "agreement_acceptances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    version: Mapped[str] = mapped_column(String(60))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip_address: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("challenge_id", "user_id", "version"),)


class Question(TimestampMixin, db.Model):
    """A public clarification question; public to the challenge's solvers once answered."""

    __tablename__ = "challenge_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    asker_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FundingReceipt(TimestampMixin, db.Model):
    """Money received for a challenge's escrow (a bank receipt recorded by a finance officer)."""

    __tablename__ = "funding_receipts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    reference: Mapped[str] = mapped_column(String(120))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    received_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (UniqueConstraint("challenge_id", "reference"),)


class FundingIntent(TimestampMixin, db.Model):
    """A request to fund a challenge's escrow through a payment provider."""

    __tablename__ = "funding_intents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(120), unique=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    client_secret = None  # not stored: Stripe's secret for the card form, set when the intent is opened
