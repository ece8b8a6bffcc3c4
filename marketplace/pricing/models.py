from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, Date, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import IdMixin, TimestampMixin
from marketplace.extensions import db


class BenchmarkRate(IdMixin, TimestampMixin, db.Model):
    """The going rate for comparable work in one reference country, per challenge type and field."""

    __tablename__ = "benchmark_rates"

    country: Mapped[str] = mapped_column(String(2))
    challenge_type: Mapped[str] = mapped_column(String(16))
    field: Mapped[str] = mapped_column(String(60))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (UniqueConstraint("country", "challenge_type", "field"),)


class FxRate(IdMixin, TimestampMixin, db.Model):
    """Units of `currency` per one unit of `base`, as of a date."""

    __tablename__ = "fx_rates"

    base: Mapped[str] = mapped_column(String(3))
    currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(Numeric(20, 8))
    as_of: Mapped[date] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("base", "currency", "as_of"),)
