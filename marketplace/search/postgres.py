"""The search backend on PostgreSQL full-text search (``SEARCH_BACKEND=postgres``).

It answers exactly like :class:`~marketplace.search.engine.SearchIndex` (same documents,
filters, sorts, facets, relaxation to any word, exact totals), from the ``search_documents``
table instead of a Whoosh folder, so every app instance on one database sees every write at
once.

Text is analysed in Python by the same analyzer as Whoosh (jieba for Chinese, stemmed Latin
words) and stored as a ``tsvector`` literal: titles with weight A, the texts with weight D, so
``ts_rank`` prefers title matches the way Whoosh's title boost does. Queries are ``tsquery``
literals built from the same words and word parts (``queries.text_queries`` for Whoosh); user
text is never parsed as syntax. Text searches let the GIN index drive: the matching rows are
found in a materialised CTE first, then filtered, counted (``count(*) OVER ()``: the exact
total) and ordered.

Writes run in their own transaction on the engine (not the caller's session), visible to
searches as soon as the call returns, as for Whoosh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from marketplace.search import analysis
from marketplace.search.engine import (
    KINDS,
    MAX_PER_PAGE,
    NO_DEADLINE,
    NO_PUBLISHED,
    SORTS,
    SearchDoc,
    SearchPage,
    check_doc,
)
from marketplace.search.models import SearchDocument
from marketplace.search.queries import (
    MAX_QUERY_CHARS,
    MAX_QUERY_WORDS,
    RANGE_FIELDS,
    RANGE_FILTERS,
    is_set,
    utc_naive,
)

TABLE = SearchDocument.__table__
_MAX_POSITION = 16_383  # PostgreSQL's largest tsvector position
_MAX_POSITIONS_PER_WORD = 255


class BackendUnavailable(RuntimeError):
    """SEARCH_BACKEND=postgres on a database that is not PostgreSQL."""


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(titles: Iterable[str], texts: Iterable[str]) -> str:
    """A tsvector literal: the analysed words of `titles` (weight A) and `texts` (weight D)."""
    positions: dict[str, list[str]] = {}
    position = 0
    for weight, parts in (("A", titles), ("D", texts)):
        for part in parts:
            if not part:
                continue
            for token in analysis.ANALYZER(part, mode="index"):
                position = min(position + 1, _MAX_POSITION)
                found = positions.setdefault(token.text, [])
                if len(found) < _MAX_POSITIONS_PER_WORD:
                    found.append(f"{position}{weight}")
    return " ".join(f"{_quote(word)}:{','.join(at)}" for word, at in positions.items())


def _word_query(word: str) -> str:
    parts = analysis.word_parts(word)
    if not parts:
        return _quote(word)
    return f"({_quote(word)} | ({' & '.join(map(_quote, parts))}))"


def tsquery_literals(text: str) -> tuple[str, str | None] | None:
    """(every word, any word) tsquery literals for user text, as ``queries.text_queries``."""
    words = analysis.query_words(text[:MAX_QUERY_CHARS])[:MAX_QUERY_WORDS]
    if not words:
        return None
    groups = [_word_query(word) for word in words]
    if len(groups) == 1:
        return groups[0], None
    return " & ".join(groups), " | ".join(groups)


def check_engine(engine: sa.engine.Engine) -> None:
    if engine.dialect.name != "postgresql":
        raise BackendUnavailable(
            f"SEARCH_BACKEND=postgres needs a PostgreSQL database, not {engine.dialect.name}: "
            "set DATABASE_URL to PostgreSQL or use SEARCH_BACKEND=whoosh")


class PostgresIndex:
    """The documents of one kind in ``search_documents``; cheap to create."""

    def __init__(self, engine: sa.engine.Engine, kind: str, *, cache_dir: Path | None = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown search kind {kind!r} (known: {', '.join(sorted(KINDS))})")
        check_engine(engine)
        self.engine = engine
        self.kind = kind
        self.spec = KINDS[kind]
        if cache_dir is not None:
            analysis.configure(cache_dir)

    # -- writing -----------------------------------------------------------

    def ensure(self) -> None:
        """Nothing to create: the migration made the table."""

    def _row(self, doc: SearchDoc) -> dict:
        check_doc(doc, self.spec, self.kind)
        facets = {name: str(value) for name, value in doc.facets.items() if is_set(value)}
        return {"kind": self.kind, "doc_id": doc.id,
                "document": tsvector_literal(doc.titles.values(), doc.texts.values()), "facets": facets,
                "award": doc.award or 0, "published": utc_naive(doc.published or NO_PUBLISHED),
                "deadline": utc_naive(doc.deadline or NO_DEADLINE)}

    def _insert(self, connection, rows: list[dict]) -> None:
        statement = postgresql.insert(TABLE).values(
            kind=sa.bindparam("kind"), doc_id=sa.bindparam("doc_id"),
            document=sa.cast(sa.bindparam("document", type_=sa.Text), postgresql.TSVECTOR),
            facets=sa.bindparam("facets", type_=postgresql.JSONB), award=sa.bindparam("award"),
            published=sa.bindparam("published"), deadline=sa.bindparam("deadline"))
        statement = statement.on_conflict_do_update(
            index_elements=[TABLE.c.kind, TABLE.c.doc_id],
            set_={name: statement.excluded[name] for name in ("document", "facets", "award", "published", "deadline")})
        connection.execute(statement, rows)

    def upsert(self, docs: Iterable[SearchDoc]) -> int:
        """Add or replace documents (by id) in one transaction; returns how many."""
        rows = list({doc.id: self._row(doc) for doc in docs}.values())
        if rows:
            with self.engine.begin() as connection:
                self._insert(connection, rows)
        return len(rows)

    def delete(self, ids: Iterable[int]) -> None:
        ids = [int(doc_id) for doc_id in ids]
        if ids:
            with self.engine.begin() as connection:
                connection.execute(TABLE.delete().where(TABLE.c.kind == self.kind, TABLE.c.doc_id.in_(ids)))

    def clear(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(TABLE.delete().where(TABLE.c.kind == self.kind))

    def rebuild(self, batches: Iterable[Iterable[SearchDoc]], *,
                progress: Callable[[int], None] | None = None) -> int:
        """Replace every document of the kind in one transaction: searches see the old set until it commits."""
        seen: set[int] = set()
        count = 0
        with self.engine.begin() as connection:
            connection.execute(TABLE.delete().where(TABLE.c.kind == self.kind))
            for batch in batches:
                rows = [self._row(doc) for doc in batch]
                for row in rows:
                    if row["doc_id"] in seen:
                        raise ValueError(f"document {row['doc_id']} was given twice to the rebuild")
                    seen.add(row["doc_id"])
                if rows:
                    self._insert(connection, rows)
                count += len(rows)
                if progress:
                    progress(len(rows))
        # The replaced rows are dead tuples still listed in the GIN index: reclaim them and refresh
        # the planner's statistics now, not whenever autovacuum comes by (searches read twice the pages).
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE) search_documents")
        return count

    # -- reading -----------------------------------------------------------

    def doc_count(self) -> int:
        with self.engine.connect() as connection:
            return connection.scalar(sa.select(sa.func.count()).select_from(TABLE).where(TABLE.c.kind == self.kind))

    def _check_filters(self, filters: Mapping[str, object] | None) -> None:
        unknown = set(filters or ()) - set(self.spec.facets) - RANGE_FILTERS.keys()
        if unknown:
            raise ValueError(f"unknown search filter {sorted(unknown)[0]!r}")

    def _conditions(self, table, filters: Mapping[str, object] | None, skip: Iterable[str] = ()) -> list:
        """SQL conditions for `filters` (the same vocabulary as ``Columns.matching``)."""
        skip = set(skip)
        conditions = []
        for key, value in (filters or {}).items():
            if not is_set(value) or key in skip:
                continue
            if key in self.spec.facets:
                values = [value] if isinstance(value, str | int) else [v for v in value if is_set(v)]
                conditions.append(table.c.facets[key].as_string().in_([str(v) for v in values]))
            else:
                name, end = RANGE_FILTERS[key]
                bound = _bound(name, value)
                conditions.append(table.c[name] >= bound if end == "low" else table.c[name] <= bound)
        return conditions

    def _matched(self, tsquery: str, *, ranked: bool = False):
        """A materialised CTE of the rows the GIN index finds for `tsquery` (every kind: the kind
        is checked outside, so the planner cannot prefer the primary key), without the wide
        document column; with `ranked`, its ts_rank as ``rank``."""
        query = sa.cast(sa.literal(tsquery, sa.Text), postgresql.TSQUERY)
        columns = [TABLE.c[name] for name in ("kind", "doc_id", "facets", "award", "published", "deadline")]
        if ranked:
            columns.append(sa.func.ts_rank(TABLE.c.document, query).label("rank"))
        return (sa.select(*columns).where(TABLE.c.document.bool_op("@@")(query))
                .cte("matched").prefix_with("MATERIALIZED"))

    def search(self, query: str = "", *, filters: Mapping[str, object] | None = None, sort: str | None = None,
               page: int = 1, per_page: int = 20) -> SearchPage:
        """One page of matching ids, best first, and the exact total (see ``SearchIndex.search``)."""
        if sort is not None and sort not in SORTS:
            raise ValueError(f"sort must be one of {SORTS}, got {sort!r}")
        if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"page must be >= 1 and per_page within 1..{MAX_PER_PAGE}")
        self._check_filters(filters)
        text = (query or "").strip()
        sort = sort or "relevance"
        if not text and sort == "relevance":
            sort = "newest"
        if not text:
            return self._page(None, filters, sort, page, per_page)
        literals = tsquery_literals(text)
        if literals is None:
            return SearchPage([], 0, page, per_page)
        every_word, any_word = literals
        found = self._page(every_word, filters, sort, page, per_page)
        if found.total == 0 and any_word is not None:
            found = self._page(any_word, filters, sort, page, per_page)
            return SearchPage(found.ids, found.total, page, per_page, relaxed=found.total > 0)
        return found

    def _page(self, tsquery: str | None, filters, sort: str, page: int, per_page: int) -> SearchPage:
        source = TABLE if tsquery is None else self._matched(tsquery, ranked=sort == "relevance")
        conditions = [source.c.kind == self.kind, *self._conditions(source, filters)]
        order = (source.c.rank.desc(), source.c.doc_id) if sort == "relevance" else _order(source, sort)
        statement = (sa.select(source.c.doc_id, sa.func.count().over().label("total")).where(*conditions)
                     .order_by(*order).limit(per_page).offset((page - 1) * per_page))
        with self.engine.connect() as connection:
            rows = connection.execute(statement).all()
            if rows:
                return SearchPage([row.doc_id for row in rows], rows[0].total, page, per_page)
            if page == 1:
                return SearchPage([], 0, page, per_page)
            total = connection.scalar(sa.select(sa.func.count()).select_from(source).where(*conditions))
        return SearchPage([], total, page, per_page)

    def facets(self, query: str = "", *, filters: Mapping[str, object] | None = None,
               field_names: Sequence[str] = (),
               ranges: Mapping[str, Mapping[str, tuple[object, object]]] | None = None) -> dict[str, dict[str, int]]:
        """Counts per facet value over the documents `search` would match (see ``SearchIndex.facets``)."""
        undeclared = (set(field_names) - set(self.spec.facets)) | (set(ranges or ()) - RANGE_FIELDS)
        if undeclared:
            raise ValueError(f"cannot count facets {sorted(undeclared)}")
        self._check_filters(filters)
        counts: dict[str, dict[str, int]] = {name: {} for name in field_names}
        counts.update((name, dict.fromkeys(buckets, 0)) for name, buckets in (ranges or {}).items())
        with self.engine.connect() as connection:
            source = self._facet_source(connection, (query or "").strip(), filters)
            if source is None:
                return counts
            table, base = source
            for name in field_names:
                value = table.c.facets[name].as_string()
                statement = (sa.select(value, sa.func.count()).where(*base, value.is_not(None),
                                                                      *self._conditions(table, filters, [name]))
                             .group_by(value))
                counts[name] = dict(connection.execute(statement).all())
            for name, buckets in (ranges or {}).items():
                own = [key for key, (target, _) in RANGE_FILTERS.items() if target == name]
                columns = [sa.func.count().filter(sa.and_(sa.true(), *_between(table.c[name], name, low, high)))
                           for low, high in buckets.values()]
                row = connection.execute(sa.select(*columns).where(*base, *self._conditions(table, filters, own)))
                counts[name] = dict(zip(buckets, row.one(), strict=True))
        return counts

    def _facet_source(self, connection, text: str, filters):
        """(table or CTE, its base conditions) of the text's matches, relaxed as `search` would; None: nothing."""
        if not text:
            return TABLE, [TABLE.c.kind == self.kind]
        literals = tsquery_literals(text)
        if literals is None:
            return None
        every_word, any_word = literals
        table = self._matched(every_word)
        if any_word is not None:
            allowed = (sa.select(sa.func.count()).select_from(table)
                       .where(table.c.kind == self.kind, *self._conditions(table, filters)))
            if not connection.scalar(allowed):
                table = self._matched(any_word)
        return table, [table.c.kind == self.kind]


def _order(source, sort: str) -> tuple:
    keys = {"newest": (("published", True),), "deadline": (("deadline", False), ("award", True)),
            "award": (("award", True), ("deadline", False))}[sort]
    return tuple(source.c[name].desc() if descending else source.c[name].asc()
                 for name, descending in keys) + (source.c.doc_id,)


def _bound(name: str, value) -> object:
    if name == "award":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"award bounds must be integers (minor units), got {value!r}")
        return value
    if not isinstance(value, datetime):
        raise ValueError(f"{name} bounds must be datetimes, got {value!r}")
    return utc_naive(value)


def _between(column, name: str, low, high) -> list:
    return ([] if low is None else [column >= _bound(name, low)]) + ([] if high is None else
                                                                     [column <= _bound(name, high)])
