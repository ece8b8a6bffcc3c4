"""Full-text search (Whoosh with jieba for Chinese) for every kind of public record.

Feature packages add a reindex source with `add_source(kind, source)` when they register;
this package, registered after them, builds `flask search reindex` from all the sources.
"""

SOURCES: dict = {}


def add_source(kind: str, source) -> None:
    SOURCES[kind] = source


def register(app, api) -> None:
    from marketplace.search.cli import make_search_cli

    app.cli.add_command(make_search_cli(dict(SOURCES)))
