"""Analytics counters that no other table holds: challenge page views per day."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.extensions import db


class ChallengeView(db.Model):
    """Views of a challenge's public page (HTML or API) on one UTC day: one row per day, incremented in place."""

    __tablename__ = "challenge_views"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    views: Mapped[int] = mapped_column(Integer, default=0)
