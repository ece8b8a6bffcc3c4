"""Translations of a challenge's texts: each language's mark (translated, reviewed) and the translators a
manager invites for one language. The texts themselves stay in ChallengeText and Criterion.name."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, exists, select
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.db import IdMixin, UTCDateTime, one_of, utcnow
from marketplace.extensions import db

TRANSLATION_STATUSES = ("translated", "reviewed")


def is_active_translator(challenge_id: int, user, locale: str | None = None) -> bool:
    """Whether `user` is an invited, not revoked translator of the challenge (of `locale` when given)."""
    if not (user and getattr(user, "is_authenticated", False) and getattr(user, "id", None)):
        return False
    query = select(ChallengeTranslator.id).where(
        ChallengeTranslator.challenge_id == challenge_id, ChallengeTranslator.user_id == user.id,
        ChallengeTranslator.is_active)
    if locale is not None:
        query = query.where(ChallengeTranslator.locale == locale)
    return db.session.scalar(query.limit(1)) is not None


def active_translator_ids(challenge_id: int):
    """A SELECT of the ids of the challenge's active translators (Challenge.conflicted_user_ids)."""
    return select(ChallengeTranslator.user_id).where(ChallengeTranslator.challenge_id == challenge_id,
                                                     ChallengeTranslator.is_active)


def translator_clause(user_id, challenge_id):
    """`is_active_translator` as SQL over (user, challenge) columns (Challenge.conflict_clause)."""
    return exists().where(ChallengeTranslator.user_id == user_id, ChallengeTranslator.challenge_id == challenge_id,
                          ChallengeTranslator.is_active)


class ChallengeTranslation(IdMixin, db.Model):
    """The mark of one language's version of a challenge (never of its default language: that is the original).

    Saving the text (by anyone) marks it "translated" and clears the review; a second person reviews it.
    """

    __tablename__ = "challenge_translations"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    locale: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="translated")
    translated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    translated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    challenge = relationship("Challenge")
    translated_by: Mapped[User | None] = relationship(foreign_keys=[translated_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])

    __table_args__ = (
        UniqueConstraint("challenge_id", "locale"),
        CheckConstraint(one_of("status", TRANSLATION_STATUSES), name="status"),
        CheckConstraint("status <> 'reviewed' OR (reviewed_by_id IS NOT NULL AND reviewed_at IS NOT NULL)",
                        name="reviewed_has_reviewer"),
    )

    def mark_translated(self, user) -> None:
        self.status, self.translated_by_id, self.translated_at = "translated", user.id, utcnow()
        self.reviewed_by_id = self.reviewed_at = None

    def review_refusal(self, user) -> str | None:
        """Why `user` may not mark this translation as reviewed, or None (the one home of the two-person rule):
        a manager of the organization or an active translator of this language, never its last translator."""
        allowed = self.challenge.can_manage(user) or is_active_translator(self.challenge_id, user, self.locale)
        if not allowed:
            return str(_l("Only managers of this center and invited translators of this language can review it."))
        if user.id == self.translated_by_id:
            return str(_l("You translated this text last, so someone else must review it (two-person rule)."))
        return None


class ChallengeTranslator(IdMixin, db.Model):
    """An account a manager invited to translate one challenge into one language (until revoked)."""

    __tablename__ = "challenge_translators"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    locale: Mapped[str] = mapped_column(String(16))
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    challenge = relationship("Challenge")
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @hybrid_property
    def is_active(self) -> bool:
        """Invited and not revoked: the one home of "an active translator", in Python and in SQL."""
        return self.revoked_at is None

    @is_active.inplace.expression
    @classmethod
    def _is_active_expression(cls):
        return cls.revoked_at.is_(None)
