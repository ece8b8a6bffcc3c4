"""Peer review: reviewer pools, conflicts of interest, blind reviews and their scores."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.db import TimestampMixin, UTCDateTime
from marketplace.extensions import db


class ChallengeReviewer(TimestampMixin, db.Model):
    """A member of a challenge's reviewer pool; sees nothing before accepting the reviewer agreement."""

    __tablename__ = "challenge_reviewers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    internal: Mapped[bool] = mapped_column(default=False)
    agreement_version: Mapped[str | None] = mapped_column(String(40))
    agreement_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    max_load: Mapped[int | None] = mapped_column(Integer)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")

    __table_args__ = (UniqueConstraint("challenge_id", "user_id"),)


class ReviewSettings(db.Model):
    """How a challenge is reviewed: the assignment's parameters (kept for re-assignments), the deadline, rules."""

    __tablename__ = "review_settings"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True)
    per_proposal: Mapped[int] = mapped_column(Integer, default=3)
    max_per_reviewer: Mapped[int] = mapped_column(Integer, default=10)
    min_per_reviewer: Mapped[int] = mapped_column(Integer, default=0)
    one_per_institution: Mapped[bool] = mapped_column(default=False)
    exclude_same_country: Mapped[bool] = mapped_column(default=False)  # "same country" is a conflict here
    planned_awards: Mapped[int] = mapped_column(Integer, default=1)  # where the ranking draws its award cut
    review_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConflictOfInterest(TimestampMixin, db.Model):
    """A reason why a reviewer must not review a proposal (or any proposal of a challenge)."""

    __tablename__ = "conflicts_of_interest"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))  # None: the whole challenge
    reason_code: Mapped[str] = mapped_column(String(40))
    declared_by: Mapped[str] = mapped_column(String(10))  # reviewer | solver | system
    note: Mapped[str] = mapped_column(Text, default="")


class SolverExclusion(TimestampMixin, db.Model):
    """A person a solver asks to keep away from their proposal (at most three)."""

    __tablename__ = "solver_exclusions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    excluded_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (UniqueConstraint("proposal_id", "excluded_user_id"),)


class Review(TimestampMixin, db.Model):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="assigned")  # assigned | draft | submitted | released
    pseudonym: Mapped[str] = mapped_column(String(40))  # what this reviewer calls this proposal
    proposal_version: Mapped[int | None] = mapped_column(Integer)
    affinity: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")
    recommendation: Mapped[str | None] = mapped_column(String(10))  # award | consider | reject
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_reason: Mapped[str | None] = mapped_column(String(40))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last deadline reminder mailed

    scores: Mapped[list[ReviewScore]] = relationship(
        back_populates="review", cascade="all, delete-orphan", lazy="selectin")

    __table_args__ = (UniqueConstraint("proposal_id", "reviewer_id"),)


class ReviewScore(db.Model):
    __tablename__ = "review_scores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id"))
    score: Mapped[int] = mapped_column(Integer)

    review: Mapped[Review] = relationship(back_populates="scores")

    __table_args__ = (UniqueConstraint("review_id", "criterion_id"),)


class Clarification(TimestampMixin, db.Model):
    """During judging a reviewer asks the authors; the answer is shown to all the proposal's reviewers."""

    __tablename__ = "review_clarifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
