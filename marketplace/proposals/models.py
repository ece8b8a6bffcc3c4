"""Proposals: a solver's (or team's) answer to a challenge, its submitted versions and attachments."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.challenges.models import Challenge
from marketplace.db import IdMixin, TimestampMixin, UTCDateTime, one_of, utcnow
from marketplace.extensions import db
from marketplace.labels import challenge_status_label
from marketplace.stages.models import ChallengeStage

if TYPE_CHECKING:  # awards sit above proposals; SQLAlchemy finds the class by its name
    from marketplace.awards.models import Award

PROPOSAL_STATES = ("draft", "submitted", "withdrawn")
MEMBER_STATES = ("invited", "accepted", "declined")
MEMBER_ROLES = ("lead", "coauthor")

# Once judging starts, a proposal can no longer be withdrawn.
WITHDRAWABLE_CHALLENGE_STATES = ("open", "closed")


def proposal_window_refusal(challenge: Challenge, now: datetime | None = None):
    """Why `challenge` takes no new or changed proposals now (not open, or past its deadline), or None.

    The one home of the proposal window: the services refuse with it, `Proposal.edit_refusal`
    (and so the proposal page) asks it.
    """
    if challenge.status != "open":
        return _l("The challenge is not open for proposals (it is %(state)s).",
                  state=challenge_status_label(challenge.status))
    if challenge.deadline <= (now or utcnow()):
        return _l("The deadline has passed.")
    return None


def _current_stage_of_challenge(context):
    """A proposal belongs to the stage its challenge takes proposals in when it is written."""
    challenge_id = context.get_current_parameters()["challenge_id"]
    return context.connection.scalar(select(Challenge.current_stage_id).where(Challenge.id == challenge_id))


class Proposal(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "proposals"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("challenge_stages.id"), index=True,
                                          default=_current_stage_of_challenge)
    # The finalist's proposal of the stage before that this one started from (None: started afresh).
    previous_proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))
    advanced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # chosen as a finalist of its stage
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | submitted | withdrawn
    # The working copy; each submission freezes it into a ProposalVersion.
    title: Mapped[str] = mapped_column(String(300))
    abstract: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    locale: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=0)  # the latest submitted version number
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    challenge: Mapped[Challenge] = relationship()
    stage: Mapped[ChallengeStage] = relationship()
    lead: Mapped[User] = relationship()
    members: Mapped[list[ProposalMember]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="ProposalMember.id", lazy="selectin")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="proposal", order_by="Attachment.id", primaryjoin="and_(Attachment.proposal_id == Proposal.id, "
        "Attachment.removed_at.is_(None))", viewonly=True)
    versions: Mapped[list[ProposalVersion]] = relationship(
        back_populates="proposal", order_by="ProposalVersion.number", cascade="all, delete-orphan")
    # Its award, if it won one (awards own the table and write it; this side only reads).
    award: Mapped[Award | None] = relationship("Award", viewonly=True, uselist=False)

    __table_args__ = (
        # One active proposal per lead per stage (withdrawn ones do not count).
        Index("uq_proposals_active_lead", "stage_id", "lead_id", unique=True,
              sqlite_where=text("status != 'withdrawn'"), postgresql_where=text("status != 'withdrawn'")),
        CheckConstraint(one_of("status", PROPOSAL_STATES), name="status"),
    )

    def author_ids(self) -> set[int]:
        return {self.lead_id} | {m.user_id for m in self.members if m.user_id and m.status == "accepted"}

    def is_author(self, user) -> bool:
        return bool(user and user.is_authenticated and user.id in self.author_ids())

    @property
    def shared_with_staff(self) -> bool:
        """A draft (never submitted) belongs to its authors alone; once submitted, the center's staff see it."""
        return self.submitted_at is not None

    @classmethod
    def shared_with_staff_clause(cls):
        """`shared_with_staff` as a SQL condition, for the staff's lists and exports."""
        return cls.submitted_at.is_not(None)

    def can_view(self, user) -> bool:
        """Its authors (and invited co-authors); the challenge's staff once it was submitted; else 404."""
        if not user or not user.is_authenticated:
            return False
        if self.is_author(user) or self.is_invited(user):
            return True
        return self.shared_with_staff and self.challenge.is_staff(user)

    def author_conflict(self) -> str | None:
        """Why one of its authors may not compete in its challenge (see Challenge.conflict_of_interest)."""
        for member in self.members:
            if member.status == "accepted" and member.user is not None:
                problem = self.challenge.conflict_of_interest(member.user)
                if problem:
                    return problem
        return None

    @property
    def stage_decided(self) -> bool:
        """Its stage is behind the challenge: an advance decided it (the proposal advanced or did not)."""
        return self.stage_id != self.challenge.current_stage_id

    def edit_refusal(self, now: datetime | None = None):
        """Why nobody may change this proposal any more (content, files, team, submission), or None."""
        if self.status == "withdrawn":
            return _l("This proposal was withdrawn.")
        if self.stage_decided:
            return _l("This proposal belongs to a stage that has been decided; it can no longer change.")
        return proposal_window_refusal(self.challenge, now)

    def is_editable(self, now: datetime | None = None) -> bool:
        """The one rule the proposal services refuse edits with and the page hides its buttons by."""
        return self.edit_refusal(now) is None

    @property
    def latest_version(self) -> ProposalVersion | None:
        """The last submitted version: what the center's staff see and the receipt proves."""
        return max(self.versions, key=lambda v: v.number, default=None)

    @property
    def has_unsubmitted_changes(self) -> bool:
        """The working copy (text or files) differs from the last submitted version.

        After a submission, saving changes only the working copy; it becomes the next version
        when an author resubmits (services.submit), or goes back to the last one (services.discard_changes).
        """
        latest = self.latest_version
        if self.status != "submitted" or latest is None:
            return False

        def text(value):  # a browser's textarea sends CRLF: saving the same text from the page is no change
            return (value or "").replace("\r\n", "\n")

        working = (self.title, text(self.abstract), text(self.body), self.locale,
                   sorted(a.id for a in self.attachments))
        submitted = (latest.title, text(latest.abstract), text(latest.body), latest.locale,
                     sorted(f["id"] for f in latest.attachments))
        return working != submitted

    def withdraw_refusal(self):
        """Why the proposal cannot be withdrawn (already withdrawn, or judging has started), or None."""
        if self.status == "withdrawn":
            return _l("This proposal was withdrawn already.")
        if self.challenge.status not in WITHDRAWABLE_CHALLENGE_STATES or self.stage_decided:
            return _l("Judging has started; the proposal can no longer be withdrawn.")
        return None

    def is_invited(self, user) -> bool:
        return any(m.email == user.email and m.status == "invited" for m in self.members)


class ProposalMember(IdMixin, db.Model):
    """A co-author invited by the lead; shares of the award are agreed between members."""

    __tablename__ = "proposal_members"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(10), default="coauthor")  # lead | coauthor
    status: Mapped[str] = mapped_column(String(10), default="invited")  # invited | accepted | declined
    share_pct: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    share_agreed: Mapped[bool] = mapped_column(default=False)

    proposal: Mapped[Proposal] = relationship(back_populates="members")
    user: Mapped[User | None] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("proposal_id", "email"),
                      CheckConstraint(one_of("status", MEMBER_STATES), name="status"),
                      CheckConstraint(one_of("role", MEMBER_ROLES), name="role"))


class ProposalVersion(IdMixin, db.Model):
    """A submitted, frozen version. Reviewers see the last one submitted before the deadline."""

    __tablename__ = "proposal_versions"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    abstract: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(16))
    attachments: Mapped[list] = mapped_column(JSON, default=list)  # [{id, filename, sha256, size}]
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    proposal: Mapped[Proposal] = relationship(back_populates="versions")

    __table_args__ = (UniqueConstraint("proposal_id", "number"),)


class Attachment(IdMixin, TimestampMixin, db.Model):
    """A file of a proposal, stored by content hash outside the web root; the name is metadata only."""

    __tablename__ = "attachments"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(10))
    filename: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    proposal: Mapped[Proposal] = relationship(foreign_keys=[proposal_id])
