"""Date buckets that compile to the right SQL on SQLite and PostgreSQL, always as 'YYYY-MM-DD' strings.

Timestamps are stored as naive UTC, so the buckets are UTC days, months and years.
"""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class _Bucket(FunctionElement):
    type = String()
    inherit_cache = True
    sqlite_format = ""
    postgresql_format = ""


class day_of(_Bucket):  # noqa: N801 - reads like the SQL function it is
    name = "day_of"
    inherit_cache = True
    sqlite_format = "%Y-%m-%d"
    postgresql_format = "YYYY-MM-DD"


class month_of(_Bucket):  # noqa: N801
    name = "month_of"
    inherit_cache = True
    sqlite_format = "%Y-%m"
    postgresql_format = "YYYY-MM"


class year_of(_Bucket):  # noqa: N801
    name = "year_of"
    inherit_cache = True
    sqlite_format = "%Y"
    postgresql_format = "YYYY"


@compiles(_Bucket, "sqlite")
def _sqlite(element, compiler, **kw):
    return f"strftime('{element.sqlite_format}', {compiler.process(element.clauses, **kw)})"


@compiles(_Bucket, "postgresql")
def _postgresql(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)}, '{element.postgresql_format}')"


@compiles(_Bucket)
def _other(element, compiler, **kw):  # pragma: no cover - only SQLite and PostgreSQL are supported
    raise NotImplementedError(f"no date bucket for dialect {compiler.dialect.name}")
