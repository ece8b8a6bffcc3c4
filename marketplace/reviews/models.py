"""Peer review: reviewer pools, conflicts of interest, blind reviews and their scores."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.db import IdMixin, TimestampMixin, UTCDateTime, one_of
from marketplace.extensions import db


class ChallengeReviewer(IdMixin, TimestampMixin, db.Model):
    """A member of a challenge's reviewer pool; sees nothing before accepting the reviewer agreement."""

    __tablename__ = "challenge_reviewers"

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


class ConflictOfInterest(IdMixin, TimestampMixin, db.Model):
    """A reason why a reviewer must not review a proposal (or any proposal of a challenge)."""

    __tablename__ = "conflicts_of_interest"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))  # None: the whole challenge
    reason_code: Mapped[str] = mapped_column(String(40))
    declared_by: Mapped[str] = mapped_column(String(10))  # reviewer | solver | system
    note: Mapped[str] = mapped_column(Text, default="")


class SolverExclusion(IdMixin, TimestampMixin, db.Model):
    """A person a solver asks to keep away from their proposal (at most three)."""

    __tablename__ = "solver_exclusions"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    excluded_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (UniqueConstraint("proposal_id", "excluded_user_id"),)


REVIEW_STATES = ("assigned", "draft", "submitted", "released")


class Review(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "reviews"

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

    __table_args__ = (UniqueConstraint("proposal_id", "reviewer_id"),
                      CheckConstraint(one_of("status", REVIEW_STATES), name="status"))


class ReviewScore(IdMixin, db.Model):
    __tablename__ = "review_scores"

    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id"))
    score: Mapped[int] = mapped_column(Integer)

    review: Mapped[Review] = relationship(back_populates="scores")

    __table_args__ = (UniqueConstraint("review_id", "criterion_id"),)


class Clarification(IdMixin, TimestampMixin, db.Model):
    """During judging a reviewer asks the authors; the answer is shown to all the proposal's reviewers."""

    __tablename__ = "review_clarifications"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --- appeals of provisional scores (see appeals.py) ------------------------------------------------

APPEAL_STATES = ("open", "upheld", "rescored")
APPEAL_OUTCOMES = ("upheld", "rescored")


class ScoreRelease(db.Model):
    """The center released each solver's own provisional scores of a challenge; appeals run until the window closes."""

    __tablename__ = "score_releases"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True)
    released_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    released_at: Mapped[datetime] = mapped_column(UTCDateTime)
    window_closes_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def window_open(self, now: datetime) -> bool:
        return now < self.window_closes_at


class Appeal(IdMixin, TimestampMixin, db.Model):
    """A solver's appeal of one reviewer's score on one criterion, and its answer (upheld or rescored)."""

    __tablename__ = "score_appeals"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id", ondelete="CASCADE"))
    appellant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    original_score: Mapped[int] = mapped_column(Integer)
    new_score: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[str | None] = mapped_column(Text)
    answer_due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # after it the center's manager may answer
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_as: Mapped[str | None] = mapped_column(String(10))  # reviewer | manager
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("review_id", "criterion_id"),
                      CheckConstraint("status IN ('open', 'rescored', 'upheld')", name="status"))

    @property
    def is_open(self) -> bool:
        return self.status == "open"
