"""Award decisions and the awards they create: one per winning proposal, one recipient per author.

Amounts are integer minor units in the challenge currency, split exactly (largest remainder).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.db import IdMixin, TimestampMixin, UTCDateTime, one_of
from marketplace.extensions import db

AWARD_STATES = ("awarded", "release_requested", "paying", "paid", "cancelled")
# A recipient's payout, mirrored from its Payout by `payments.payouts.move` (pending: none written yet).
RECIPIENT_PAYOUT_STATES = ("pending", "paying", "paid", "failed", "reversed", "refused", "cancelled")



class AwardDecision(IdMixin, TimestampMixin, db.Model):
    """The center's decision for a challenge: full, split, partial or no award, with its reason."""

    __tablename__ = "award_decisions"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), unique=True)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10))  # full | split | partial | none
    reason: Mapped[str] = mapped_column(Text, default="")
    feedback_enabled: Mapped[bool] = mapped_column(default=True)
    # Why the manager decided while assigned reviews were still outstanding (None: every review was in).
    override_reason: Mapped[str | None] = mapped_column(Text)


class Award(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "awards"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), unique=True)
    # A final award belongs to the award decision; a milestone award to the stage it was won in.
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("award_decisions.id"))
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("challenge_stages.id"), index=True)
    share_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="awarded")
    release_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    release_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    release_requested_by: Mapped[User | None] = relationship(foreign_keys=[release_requested_by_id], viewonly=True)
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id], viewonly=True)
    recipients: Mapped[list[AwardRecipient]] = relationship(
        back_populates="award", cascade="all, delete-orphan", order_by="AwardRecipient.id", lazy="selectin")

    __table_args__ = (CheckConstraint(one_of("status", AWARD_STATES), name="status"),
                      CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
                      CheckConstraint("decision_id IS NOT NULL OR stage_id IS NOT NULL", name="decision_or_stage"))

    @property
    def is_milestone(self) -> bool:
        return self.decision_id is None

    @property
    def ip_assigned(self) -> bool:
        return bool(self.recipients) and all(r.ip_accepted_at is not None for r in self.recipients)


class AwardRecipient(IdMixin, db.Model):
    """One author's part of an award: their share, their IP assignment, their payout."""

    __tablename__ = "award_recipients"

    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    share_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2))  # of the award
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    ip_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip_text_version: Mapped[str | None] = mapped_column(String(40))
    ip_text: Mapped[str | None] = mapped_column(Text)  # the exact text accepted, kept with the acceptance
    payout_status: Mapped[str] = mapped_column(String(16), default="pending")  # RECIPIENT_PAYOUT_STATES

    award: Mapped[Award] = relationship(back_populates="recipients")
    user: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("award_id", "user_id"),
                      CheckConstraint(one_of("payout_status", RECIPIENT_PAYOUT_STATES), name="payout_status"),
                      CheckConstraint("amount_minor >= 0", name="amount_not_negative"))
