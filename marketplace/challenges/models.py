from __future__ import annotations

from datetime import datetime
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    exists,
    false,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import Organization, User
from marketplace.challenges.states import TRANSITIONS
from marketplace.content_locales import pick
from marketplace.db import IdMixin, TimestampMixin, UTCDateTime, one_of, utcnow
from marketplace.eligibility import participation_problem
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.money import Money
from marketplace.permissions import Role

if TYPE_CHECKING:  # packages above this one; SQLAlchemy finds their classes by name
    from marketplace.awards.models import AwardDecision
    from marketplace.stages.models import ChallengeStage

PUBLIC_STATES = ("open", "closed", "judging", "awarded", "no_award")

challenge_requirements = Table(
    "challenge_requirements",
    db.metadata,
    Column("challenge_id", ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True),
    Column("requirement_id", ForeignKey("program_requirements.id", ondelete="CASCADE"), primary_key=True),
)


class Challenge(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "challenges"

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
    # Two-person clearance: who asked for it, who changed the text since the last clearance (ids, in
    # order; the last one changed it last), and the screening warnings the officer must acknowledge.
    clearance_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text_changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text_editor_ids: Mapped[list | None] = mapped_column(JSON)
    clearance_warnings: Mapped[list | None] = mapped_column(JSON)
    # The manager chose to show the program's requirement codes (R1, ...) in public text.
    requirement_codes_public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Solvers may appeal their provisional scores for this many days after the center releases them (None: no appeals).
    appeals_window_days: Mapped[int | None] = mapped_column(Integer)
    # The stage that takes (or last took) proposals; `deadline` is always that stage's deadline.
    current_stage_id: Mapped[int | None] = mapped_column(
        ForeignKey("challenge_stages.id", use_alter=True, name="fk_challenges_current_stage_id_challenge_stages"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organization: Mapped[Organization] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    texts: Mapped[list[ChallengeText]] = relationship(
        back_populates="challenge", cascade="all, delete-orphan", lazy="selectin")
    # Every stage's criteria; `criteria` is the current stage's, `criteria_for(stage_id)` another stage's.
    all_criteria: Mapped[list[Criterion]] = relationship(
        back_populates="challenge", cascade="all, delete-orphan", order_by="Criterion.position")
    stages: Mapped[list[ChallengeStage]] = relationship(
        cascade="all, delete-orphan", order_by="ChallengeStage.position", foreign_keys="ChallengeStage.challenge_id")
    requirements = relationship("Requirement", secondary=challenge_requirements, lazy="selectin")
    # The award decision, once made (awards own the table and write it; this side only reads).
    award_decision: Mapped[AwardDecision | None] = relationship("AwardDecision", viewonly=True, uselist=False)

    __table_args__ = (CheckConstraint(one_of("status", TRANSITIONS), name="status"),
                      CheckConstraint("award_minor >= 0", name="award_not_negative"))

    # --- derived views ------------------------------------------------------------------
    @property
    def award(self) -> Money:
        return Money(self.award_minor, self.award_currency)

    @property
    def milestone_pools_minor(self) -> int:
        return sum(stage.award_minor or 0 for stage in self.stages)

    @property
    def final_award_minor(self) -> int:
        """The award of the last stage: what the award decision splits (`award_minor` is the whole funded sum)."""
        return self.award_minor - self.milestone_pools_minor

    @property
    def funding_target_minor(self) -> int:
        """What escrow must hold: the award plus the largest early-career bonus it could owe."""
        return self.award_minor + self.max_early_career_bonus_minor

    # The early-career bonus is a percentage of an early-career winner's part of the award. Escrow holds the
    # largest bonus it could owe (every winner early-career) rounded UP, each bonus paid is rounded DOWN: the
    # bonuses paid never exceed what was funded (analytics/early_career.py sets the percentage).
    @property
    def max_early_career_bonus_minor(self) -> int:
        return int((Decimal(self.award_minor) * self._bonus_fraction).to_integral_value(rounding=ROUND_UP))

    def early_career_bonus_minor(self, amount_minor: int) -> int:
        """The bonus owed on `amount_minor` (one early-career winner's part of the award); 0 without a bonus."""
        return int((Decimal(amount_minor) * self._bonus_fraction).to_integral_value(rounding=ROUND_DOWN))

    @property
    def _bonus_fraction(self) -> Decimal:
        return Decimal(self.early_career_bonus_pct or 0) / Decimal(100)

    # --- stages --------------------------------------------------------------------------------
    @property
    def current_stage(self) -> ChallengeStage | None:
        return next((s for s in self.stages if s.id == self.current_stage_id), None)

    @property
    def is_multi_stage(self) -> bool:
        return len(self.stages) > 1

    def stage_at(self, position: int) -> ChallengeStage | None:
        return next((s for s in self.stages if s.position == position), None)

    def move_deadline(self, deadline: datetime) -> None:
        """The current stage's deadline is the challenge's; it never passes the next stage's."""
        stage = self.current_stage
        if stage is not None:
            following = self.stage_at(stage.position + 1)
            if following is not None and deadline >= following.deadline:
                message = _l("The deadline must come before the next stage's deadline.")
                raise ValidationFailed(message, errors={"deadline": [message]})
            stage.deadline = deadline
        self.deadline = deadline

    def criteria_for(self, stage_id: int | None) -> list[Criterion]:
        wanted = stage_id or self.current_stage_id
        return [c for c in self.all_criteria if c.stage_id == wanted]

    @property
    def criteria(self) -> list[Criterion]:
        """The current stage's judging criteria (a one-stage challenge: all of them)."""
        return self.criteria_for(self.current_stage_id)

    def stage_status(self, stage: ChallengeStage) -> str:
        """upcoming | open | judging | decided: the one home of a stage's state, derived from the challenge's."""
        current = self.current_stage
        if current is None or stage.position > current.position:
            return "upcoming"
        if stage.position < current.position or stage.decided_at is not None:
            return "decided"
        if self.status == "open":
            return "open"
        if self.status in ("closed", "judging"):
            return "judging"
        return "decided" if self.status in ("awarded", "no_award", "cancelled") else "upcoming"

    def stage_refusal(self, user) -> str | None:
        """Why `user` may not take part in the current stage, or None: after stage 1 only the authors of the
        proposals that advanced from the stage before (the same person or the same team) may."""
        from marketplace.stages.rules import finalist_user_ids

        current = self.current_stage
        if current is None or current.position == 1:
            return None
        if user and getattr(user, "id", None) in finalist_user_ids(self, current):
            return None
        return str(_l("Only the finalists of the previous stage can take part in this stage."))

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

    @property
    def shown_status(self) -> str:
        """The status every reader sees and every rule goes by: an open challenge past its deadline is closed.

        Reads never write: `flask challenges close-due` (scheduled) records the closing with its audit entry.
        """
        if self.status == "open" and self.deadline <= utcnow():
            return "closed"
        return self.status

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

    def clearance_refusal(self, user):
        """Why `user` may not decide this challenge's clearance, or None (the one home of the two-person rule).

        Only a security officer of the organization; never the author, the one who requested this
        clearance, or anyone who changed the text since the last clearance.
        """
        if not (user and user.is_authenticated and user.has_role(Role.SECURITY_OFFICER, self.organization_id)):
            return _l("Only security officers of this organization can clear its challenges.")
        if user.id == self.author_id:
            return _l("The author of a challenge cannot clear it; another officer must.")
        if user.id == self.clearance_requested_by_id or user.id in (self.text_editor_ids or []):
            return _l("You changed this challenge or requested its clearance since it was last cleared, so "
                      "another security officer must clear it (two-person rule).")
        return None

    def can_clear(self, user) -> bool:
        return self.status == "in_clearance" and self.clearance_refusal(user) is None

    def note_text_change(self, user) -> None:
        """Remember who changed the text since the last clearance (see clearance_refusal)."""
        self.text_changed_by_id = user.id
        self.text_editor_ids = [*(i for i in (self.text_editor_ids or []) if i != user.id), user.id]

    def conflict_of_interest(self, user) -> str | None:
        """Why `user` is too close to this challenge to compete in it: staff of the posting organization
        (any role there), a reviewer in its pool or an active translator; else None. Holds for authors of every kind."""
        from marketplace.reviews.models import ChallengeReviewer

        if not user or not getattr(user, "id", None):
            return None
        if any(grant.organization_id == self.organization_id for grant in user.roles):
            return str(_l("Staff of the center that posted this challenge cannot take part in it."))
        in_pool = db.session.scalar(select(ChallengeReviewer.id).where(
            ChallengeReviewer.challenge_id == self.id, ChallengeReviewer.user_id == user.id).limit(1))
        if in_pool is not None:
            return str(_l("Reviewers of this challenge cannot take part in it."))
        from marketplace.challenges.translation_models import is_active_translator

        if is_active_translator(self.id, user):
            return str(_l("Translators of this challenge cannot take part in it."))
        return None

    def conflicted_user_ids(self):
        """`conflict_of_interest` as a set: a SELECT of the ids of everyone it refuses (staff of the posting
        organization in any role, reviewers in the pool, translators), for queries over many people such as alerts."""
        from marketplace.accounts.models import RoleGrant
        from marketplace.challenges.translation_models import active_translator_ids
        from marketplace.reviews.models import ChallengeReviewer

        return (select(RoleGrant.user_id).where(RoleGrant.organization_id == self.organization_id)
                .union(select(ChallengeReviewer.user_id).where(ChallengeReviewer.challenge_id == self.id),
                       active_translator_ids(self.id)))

    @classmethod
    def conflict_clause(cls, user_id, challenge_id):
        """`conflict_of_interest` as SQL over (user, challenge) columns, for queries over many challenges
        (reminders): staff of the challenge's organization in any role, or a reviewer in its pool."""
        from marketplace.accounts.models import RoleGrant
        from marketplace.challenges.translation_models import translator_clause
        from marketplace.reviews.models import ChallengeReviewer

        staff = exists().where(RoleGrant.user_id == user_id, RoleGrant.organization_id == cls.organization_id,
                               cls.id == challenge_id)
        reviewer = exists().where(ChallengeReviewer.user_id == user_id, ChallengeReviewer.challenge_id == challenge_id)
        return or_(staff, reviewer, translator_clause(user_id, challenge_id))

    def participation_refusal(self, user) -> str | None:
        """Why `user` may not take part (accept the agreement, write, join or submit a proposal), or None.

        The one home of the rule: the agreement, the proposal services, team invitations and the pages ask it.
        """
        return self.conflict_of_interest(user) or self.stage_refusal(user) or participation_problem(self, user)

    def open_appeals(self) -> int:
        """How many appeals of provisional scores still wait for an answer."""
        from marketplace.reviews.models import Appeal

        return db.session.scalar(select(func.count(Appeal.id)).where(
            Appeal.challenge_id == self.id, Appeal.status == "open")) or 0

    def appeal_refusal(self):
        """Why the awards may not be decided (nor a stage advanced) now because of appeals, or None.

        The one home of the rule: the decision service (and later the stage advance) ask it.
        """
        count = self.open_appeals()
        if count:
            return ngettext("%(num)d appeal of a provisional score is open. Answer it before deciding.",
                       "%(num)d appeals of provisional scores are open. Answer them before deciding.", count)
        return None

    invitations: Mapped[list[ChallengeInvitation]] = relationship(cascade="all, delete-orphan")


class ChallengeText(IdMixin, db.Model):
    """The challenge's text in one locale."""

    __tablename__ = "challenge_texts"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    locale: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")

    challenge: Mapped[Challenge] = relationship(back_populates="texts")

    __table_args__ = (UniqueConstraint("challenge_id", "locale"),)


class Criterion(IdMixin, db.Model):
    """A weighted judging criterion; names per locale."""

    __tablename__ = "criteria"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("challenge_stages.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    weight: Mapped[int] = mapped_column(Integer)
    name: Mapped[dict] = mapped_column(JSON)

    challenge: Mapped[Challenge] = relationship(back_populates="all_criteria")


class ChallengeInvitation(IdMixin, db.Model):
    """Who may see an invite-only challenge."""

    __tablename__ = "challenge_invitations"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))

    __table_args__ = (UniqueConstraint("challenge_id", "email"),)


class Question(IdMixin, TimestampMixin, db.Model):
    """A public clarification question; public to the challenge's solvers once answered."""

    __tablename__ = "challenge_questions"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    asker_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The public list (listing.py): partial indexes of the open, listed rows per sort key, walked without skipping drafts.
PUBLIC_LIST_WHERE = {"postgresql_where": text("status = 'open' AND invite_only IS false"),
                     "sqlite_where": text("status = 'open' AND invite_only IS 0")}
for _name, _column in (("newest", Challenge.published_at), ("deadline", Challenge.deadline),
                       ("award", Challenge.award_minor)):
    Index(f"ix_challenges_public_{_name}", _column, Challenge.id, **PUBLIC_LIST_WHERE)
