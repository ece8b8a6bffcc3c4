"""Full-text search (Whoosh, or PostgreSQL with SEARCH_BACKEND=postgres; jieba for Chinese).

Feature packages add a reindex source with `add_source(kind, source)` when they register;
this package, registered after them, builds `flask search reindex` from all the sources.
"""

SOURCES: dict = {}


def add_source(kind: str, source) -> None:
    SOURCES[kind] = source


def register(app, api) -> None:
    from marketplace.search.backends import check_config
    from marketplace.search.cli import make_search_cli

    check_config(app)
    app.cli.add_command(make_search_cli(dict(SOURCES)))
