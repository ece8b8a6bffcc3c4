"""Declarative base, column types and mixins shared by every model."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Store naive UTC, hand back aware UTC: the same on SQLite and PostgreSQL."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    """The integer surrogate key most tables have; first among the columns, as if declared in the model."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-1)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def one_of(column: str, values) -> str:
    """A CHECK expression allowing exactly `values` (built from a state table, never restated)."""
    return f"{column} IN ({', '.join(repr(str(v)) for v in sorted(values))})"


def lock_for_update(session, instance) -> None:
    """Lock `instance`'s row until the transaction ends, then reload it.

    PostgreSQL: SELECT ... FOR UPDATE. SQLite has no row locks: a no-op UPDATE takes the
    database write lock, so a second writer waits here until the first commits.
    """
    from sqlalchemy import text

    table = instance.__table__.name
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SELECT id FROM {table} WHERE id = :id FOR UPDATE"), {"id": instance.id})  # noqa: S608
    else:
        session.execute(text(f"UPDATE {table} SET id = id WHERE id = :id"), {"id": instance.id})  # noqa: S608
    session.refresh(instance)
