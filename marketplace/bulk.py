"""Insert many rows at once in the session's transaction: COPY on PostgreSQL, executemany on SQLite.

For scheduled jobs that write tens of thousands of rows (reminders: mails, notifications). psycopg's
executemany sends one statement per row, and SQLAlchemy's multi-row VALUES makes psycopg re-parse a huge
query per batch; COPY does neither. Values are given as Python objects: aware datetimes (stored as naive
UTC, like UTCDateTime), dicts and lists for JSON columns.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Table

from marketplace.extensions import db


def insert_rows(table: Table, rows: list[dict]) -> int:
    if not rows:
        return 0
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(table.insert(), rows)
        return len(rows)
    from psycopg.types.json import Json

    columns = list(rows[0])
    json_columns = {name for name in columns if isinstance(table.c[name].type, JSON)}

    def value(name, item):
        if isinstance(item, datetime):
            if item.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            return item.astimezone(UTC).replace(tzinfo=None)
        if name in json_columns and item is not None:
            return Json(item)
        return item

    names = ", ".join(f'"{name}"' for name in columns)
    with connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([value(name, row[name]) for name in columns])
    return len(rows)
