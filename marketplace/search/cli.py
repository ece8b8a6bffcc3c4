"""`flask search reindex`: rebuild search indexes from the database.

The feature packages own their data, so the command is built from sources:

    def challenge_source() -> tuple[int, Iterable[list[SearchDoc]]]:
        total = ...  # how many documents will come (for the progress bar)
        return total, (to_docs(chunk) for chunk in ...)

    app.cli.add_command(make_search_cli({"challenges": challenge_source}))

Each kind is rebuilt into a fresh index that replaces the live one only when
complete, so searching keeps working during a reindex.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence

import click
from flask.cli import AppGroup

from marketplace import http_cache
from marketplace.search.engine import SearchDoc, SearchIndex

# A source returns (total, batches of documents); it is called inside the app context.
Source = Callable[[], tuple[int, Iterable[Sequence[SearchDoc]]]]


def default_index(kind: str) -> SearchIndex:
    from marketplace.search.backends import open_index

    return open_index(kind)


def make_search_cli(sources: Mapping[str, Source], *,
                    open_index: Callable[[str], SearchIndex] = default_index) -> AppGroup:
    search_cli = AppGroup("search", help="The full-text search indexes.")

    @search_cli.command("reindex")
    @click.option("--kind", "kinds", multiple=True, type=click.Choice(sorted(sources)),
                  help="Rebuild only this kind (repeatable); default: every kind.")
    def reindex(kinds: tuple[str, ...]) -> None:
        """Rebuild the search indexes from the database (searches keep working meanwhile)."""
        for kind in kinds or sorted(sources):
            index = open_index(kind)
            started = time.perf_counter()
            total, batches = sources[kind]()
            with click.progressbar(length=total, label=f"Indexing {kind}", show_pos=True) as bar:
                count = index.rebuild(batches, progress=bar.update)
            click.echo(f"Indexed {count} {kind} in {time.perf_counter() - started:.1f} s.")
        http_cache.public_data_changed()

    return search_cli
