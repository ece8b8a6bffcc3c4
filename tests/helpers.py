"""Small helpers for tests: CSRF tokens, pages read and posted like a browser does, rows counted, mail read."""

from __future__ import annotations

import html
import re
from contextlib import contextmanager
from html.parser import HTMLParser


def csrf_token_from(response) -> str:
    """The page's CSRF token: a form's real one before the anonymous language switch's "visitor" placeholder."""
    tokens = re.findall(rb'name="[\w-]*csrf_token" value="([^"]+)"', response.data)
    assert tokens, "no CSRF token on the page"
    return next((t for t in tokens if t != b"visitor"), tokens[0]).decode()


def rows(app, what, **equal) -> int:
    """How many rows of `what` (a model, or a table by name) hold the given column values.

    The one row counter of the tests: what a refused request must leave as it was. A table name keeps a test
    independent of the module its model lives in.
    """
    import sqlalchemy as sa

    from marketplace.extensions import db

    with app.app_context():
        table = db.metadata.tables[what] if isinstance(what, str) else what.__table__
        query = sa.select(sa.func.count()).select_from(table)
        return db.session.scalar(query.where(*[table.c[name] == value for name, value in equal.items()]))


def value_of(app, table: str, row_id, column: str):
    """One column of one row (by primary key `id`), read fresh from the database."""
    import sqlalchemy as sa

    from marketplace.extensions import db

    with app.app_context():
        found = db.metadata.tables[table]
        return db.session.scalar(sa.select(found.c[column]).where(found.c.id == row_id))


def outbox(app):
    from marketplace.extensions import db
    from marketplace.mail.models import OutboxMail

    with app.app_context():
        return db.session.scalars(db.select(OutboxMail).order_by(OutboxMail.id)).all()


def link_in_mail(body: str) -> str:
    match = re.search(r"https?://\S+", body)
    assert match, body
    return match.group(0)


@contextmanager
def counting_queries(app):
    """Collect the SQL statements the app runs inside the block (for query-count and cache tests)."""
    from sqlalchemy import event

    from marketplace.extensions import db

    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


# --- pages, posted and read like a browser does -----------------------------------------------------------------

def post_form(client, url: str, data: dict, *, prefix: str | None = None, page: str | None = None, **kwargs):
    """POST `data` to `url` with a CSRF token read from `page` (default: `url`), like a browser would.

    Forms that share a page carry a prefix (e.g. "clearance"): their fields are sent as "<prefix>-<name>".
    """
    token = csrf_token_from(client.get(page or url))
    fields = {f"{prefix}-{name}" if prefix else name: value for name, value in data.items()}
    fields["csrf_token"] = token
    if prefix:
        fields[f"{prefix}-csrf_token"] = token
    return client.post(url, data=fields, **kwargs)


def text_of(response) -> str:
    """The page's visible text, roughly: tags dropped, entities decoded, whitespace folded."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def field_error(response, field_id: str) -> str | None:
    """The message shown under a field (id="<field_id>-error"), or None."""
    match = re.search(rf'id="{re.escape(field_id)}-error">(.*?)</p>', response.get_data(as_text=True), re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip() if match else None


class _Outline(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: list[str] = []
        self.headings: list[int] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))


def structure_problems(response) -> list[str]:
    """Duplicate ids, not exactly one h1, and headings that skip a level (h2 -> h4)."""
    outline = _Outline()
    outline.feed(response.get_data(as_text=True))
    problems = [f"duplicate id {i!r}" for i in sorted({i for i in outline.ids if outline.ids.count(i) > 1})]
    if outline.headings.count(1) != 1:
        problems.append(f"{outline.headings.count(1)} h1 elements")
    for before, after in zip(outline.headings, outline.headings[1:], strict=False):
        if after > before + 1:
            problems.append(f"heading h{before} followed by h{after}")
    return problems
