"""Which search backend answers: ``SEARCH_BACKEND`` chooses, every caller asks `open_index`.

``whoosh`` (the default, embedded: ``make run``): an index folder per instance under
``<instance>/search``. ``postgres``: the ``search_documents`` table, shared by every instance on
the database (see ``postgres.py``); refused on any other database.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from marketplace.search.engine import SearchIndex

BACKENDS = ("whoosh", "postgres")


def backend_name(config) -> str:
    name = (config.get("SEARCH_BACKEND") or "whoosh").strip().lower()
    if name not in BACKENDS:
        raise ValueError(f"SEARCH_BACKEND must be one of {', '.join(BACKENDS)}, got {name!r}")
    return name


def check_config(app) -> None:
    """Refuse at start-up a backend the database cannot serve."""
    if backend_name(app.config) == "postgres":
        from sqlalchemy.engine import make_url

        from marketplace.search.postgres import BackendUnavailable

        dialect = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()
        if dialect != "postgresql":
            raise BackendUnavailable(
                f"SEARCH_BACKEND=postgres needs a PostgreSQL database, not {dialect}: "
                "set DATABASE_URL to PostgreSQL or use SEARCH_BACKEND=whoosh")


def open_index(kind: str):
    """The index of `kind` for the current app: a SearchIndex or a PostgresIndex (the same interface)."""
    folder = Path(current_app.instance_path) / "search"
    if backend_name(current_app.config) == "postgres":
        from marketplace.extensions import db
        from marketplace.search.postgres import PostgresIndex

        return PostgresIndex(db.engine, kind, cache_dir=folder)
    return SearchIndex(folder, kind)
