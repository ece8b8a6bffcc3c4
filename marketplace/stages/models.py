"""One stage of a challenge. A one-stage challenge has exactly one; stage 1 is created with the challenge."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import IdMixin, UTCDateTime
from marketplace.extensions import db

# What a reader is told about a stage (the API's `status`); derived, never stored (see Challenge.stage_status).
STAGE_STATES = ("upcoming", "open", "judging", "decided")


class ChallengeStage(IdMixin, db.Model):
    __tablename__ = "challenge_stages"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1, 2, ...
    name: Mapped[dict] = mapped_column(JSON, default=dict)  # {locale: text}; empty: "Stage N"
    # What the finalists are expected to deliver in this stage, told to them when they are invited.
    description: Mapped[dict] = mapped_column(JSON, default=dict)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    advance: Mapped[int | None] = mapped_column(Integer)  # how many proposals go on (None on the last stage)
    # The milestone pool of this stage in the challenge currency (None: no milestone award; always None on the
    # last stage, whose award is the challenge's final award).
    award_minor: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        UniqueConstraint("challenge_id", "position"),
        CheckConstraint("advance IS NULL OR advance >= 1", name="advance_positive"),
        CheckConstraint("award_minor IS NULL OR award_minor > 0", name="award_positive"),
    )

    def display_name(self, locale: str | None, default_locale: str) -> str:
        from flask_babel import gettext as _

        from marketplace.content_locales import pick

        _shown, name = pick(dict(self.name or {}), locale, default_locale)
        return name or _("Stage %(n)d", n=self.position)
