"""The search backend on PostgreSQL full-text search (``SEARCH_BACKEND=postgres``).

It answers exactly like :class:`~marketplace.search.engine.SearchIndex` (same documents,
filters, sorts, facets, relaxation to any word, exact totals), from the ``search_documents``
table instead of a Whoosh folder, so every app instance on one database sees every write at
once.

Text is analysed in Python by the same analyzer as Whoosh (jieba for Chinese, stemmed Latin
words) and stored as a ``tsvector`` literal: titles with weight A, the texts with weight D, so
``ts_rank`` prefers title matches the way Whoosh's title boost does. Queries are ``tsquery``
literals built from the same words and word parts (``queries.word_plan``, as for Whoosh); user
text is never parsed as syntax. Each facet value is also a tag in the document
(``'f:field=ai'``), so one GIN scan answers the text and the facet filters of a text search
together and only the final matches are read from the table (a tag nearly every document
holds is checked on those rows instead, ``pg_tag_stats``). A text search is one statement, the
fallback to any word included: a materialised CTE keeps the matches' narrow columns, counted
exactly for the total and ordered for the page; relevance ranks at most RANK_CANDIDATES of them
(the newest), so a relaxed query matching thousands stays bounded. Without text a page is read
in the order of its sort's index, and the exact totals and facet counts of every document are
counted once per generation of the kind (``pg_counts``, ``pg_facets``).

Writes run in their own transaction on the engine (not the caller's session), visible to
searches as soon as the call returns, as for Whoosh; each renews the kind's generation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from marketplace.search import analysis, pg_counts, pg_facets, pg_tag_stats
from marketplace.search.engine import (
    KINDS,
    NO_DEADLINE,
    NO_PUBLISHED,
    SearchDoc,
    SearchPage,
    check_doc,
    search_arguments,
)
from marketplace.search.models import SearchDocument
from marketplace.search.queries import (
    RANGE_FIELDS,
    RANGE_FILTERS,
    is_set,
    utc_naive,
    word_plan,
)

TABLE = SearchDocument.__table__
_MAX_POSITION = 16_383  # PostgreSQL's largest tsvector position
_MAX_POSITIONS_PER_WORD = 255
RANK_CANDIDATES = 500  # matches ranked by ts_rank at most (the newest), see PostgresIndex._page


class BackendUnavailable(RuntimeError):
    """SEARCH_BACKEND=postgres on a database that is not PostgreSQL."""


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def facet_tag(name: str, value: object) -> str:
    """The lexeme a facet value is indexed as: analysed words never hold ":", so tags never meet text."""
    return f"f:{name}={value}"


def tsvector_literal(titles: Iterable[str], texts: Iterable[str], tags: Iterable[str] = ()) -> str:
    """A tsvector literal: the analysed words of `titles` (weight A) and `texts` (weight D), and `tags`.

    Tags carry no position: ts_rank only weighs the query's words, and the text query never holds a tag.
    """
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
    lexemes = [f"{_quote(word)}:{','.join(at)}" for word, at in positions.items()]
    return " ".join(lexemes + [_quote(tag) for tag in dict.fromkeys(tags) if tag not in positions])


def _word_query(word: str, parts: tuple[str, ...]) -> str:
    if not parts:
        return _quote(word)
    return f"({_quote(word)} | ({' & '.join(map(_quote, parts))}))"


def tsquery_literals(text: str) -> tuple[str, str | None] | None:
    """(every word, any word) tsquery literals for user text, from ``queries.word_plan``."""
    plan = word_plan(text)
    if plan is None:
        return None
    groups = [_word_query(word, parts) for word, parts in plan]
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
                "document": tsvector_literal(doc.titles.values(), doc.texts.values(),
                                             [facet_tag(name, value) for name, value in facets.items()]),
                "facets": facets,
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
                pg_counts.renew(connection, self.kind)
        return len(rows)

    def delete(self, ids: Iterable[int]) -> None:
        ids = [int(doc_id) for doc_id in ids]
        if ids:
            with self.engine.begin() as connection:
                connection.execute(TABLE.delete().where(TABLE.c.kind == self.kind, TABLE.c.doc_id.in_(ids)))
                pg_counts.renew(connection, self.kind)

    def clear(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(TABLE.delete().where(TABLE.c.kind == self.kind))
            pg_counts.renew(connection, self.kind)

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
            pg_counts.renew(connection, self.kind)
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

    def _conditions(self, filters: Mapping[str, object] | None, skip: Iterable[str] = (), *,
                    as_tags: bool, source=TABLE) -> tuple[list[str], list]:
        """(tsquery terms, SQL conditions) for `filters` (the same vocabulary as ``Columns.matching``).

        With text, a facet is its tag in the document (``'f:field=ai'``, several values an OR of
        tags), so the GIN index finds text and facets in one scan and only the final matches are
        read; but a facet most documents hold (``pg_tag_stats``) narrows nothing there and is a
        condition on the rows found. Without text every row is read anyway (a sequential scan beats
        a bitmap of most of the table): a facet is then a condition on the row (of `source`: the
        table or a CTE of its columns). Ranges are always conditions on the row. An empty list of
        values matches nothing.
        """
        skip = set(skip)
        tags, conditions = [], []
        shares = pg_tag_stats.tag_shares(self.engine) if as_tags else {}
        for key, value in (filters or {}).items():
            if not is_set(value) or key in skip:
                continue
            if key in self.spec.facets:
                values = [str(v) for v in dict.fromkeys([value] if isinstance(value, str | int) else value)
                          if is_set(v)]
                if not values:
                    conditions.append(sa.false())
                elif as_tags and not pg_tag_stats.is_common(shares, [facet_tag(key, v) for v in values]):
                    tags.append("(" + " | ".join(_quote(facet_tag(key, v)) for v in values) + ")")
                else:
                    # Containment (`facets @> '{"status": "open"}'`): about a third cheaper a row than `->>`.
                    conditions.append(sa.or_(*(source.c.facets.op("@>")(sa.literal({key: v}, postgresql.JSONB))
                                               for v in values)))
            else:
                name, end = RANGE_FILTERS[key]
                bound = pg_facets.bound(name, value)
                conditions.append(source.c[name] >= bound if end == "low" else source.c[name] <= bound)
        return tags, conditions

    def _where(self, tsquery: str | None, filters, skip: Iterable[str] = ()) -> list:
        """The conditions of the documents of this kind matching `tsquery` (None: any) and `filters`."""
        tags, conditions = self._conditions(filters, skip, as_tags=tsquery is not None)
        if tsquery is not None:
            conditions.append(TABLE.c.document.bool_op("@@")(_tsquery(" & ".join([f"({tsquery})", *tags]))))
        return [TABLE.c.kind == self.kind, *conditions]

    def search(self, query: str = "", *, filters: Mapping[str, object] | None = None, sort: str | None = None,
               page: int = 1, per_page: int = 20) -> SearchPage:
        """One page of matching ids, best first, and the exact total (see ``SearchIndex.search``)."""
        text, sort = search_arguments(query, sort, page, per_page)
        self._check_filters(filters)
        if not text:
            return self._browse(filters, sort, page, per_page)
        literals = tsquery_literals(text)
        if literals is None:
            return SearchPage([], 0, page, per_page)
        return self._page(*literals, filters, sort, page, per_page)

    def _browse(self, filters, sort: str, page: int, per_page: int) -> SearchPage:
        """Without text: the page in the order of the sort's index (LIMIT rows, not a sort of every
        document) and the exact total, counted once per generation (``pg_counts``)."""
        where = self._where(None, filters)
        with pg_counts.snapshot(self.engine) as connection:
            ids = connection.scalars(sa.select(TABLE.c.doc_id).where(*where).order_by(*_order(TABLE, sort))
                                     .limit(per_page).offset((page - 1) * per_page)).all()
            if not ids and page == 1:
                return SearchPage([], 0, page, per_page)
            total = pg_counts.kept(connection, self.kind, ("total", pg_counts.filters_key(filters)),
                                   lambda: connection.scalar(sa.select(sa.func.count()).where(*where)))
        return SearchPage(list(ids), total, page, per_page)

    def _hits(self, every_word: str, any_word: str | None, filters) -> tuple:
        """(a CTE of the matches' narrow columns, "relaxed" as SQL, the tsquery to rank by).

        Several words: the documents with any word when none has every word, in the same
        statement (a one-time filter: the second scan only runs when the first found nothing),
        so a relaxed search costs one round trip to the server, not two. The any-word scan is
        inlined into `hits` (materialising it on its own copied thousands of rows twice).
        """
        columns = (TABLE.c.doc_id, TABLE.c.award, TABLE.c.published, TABLE.c.deadline,
                   sa.literal_column("search_documents.ctid").label("row"))
        every = (sa.select(*columns).where(*self._where(every_word, filters))
                 .cte("every_word").prefix_with("MATERIALIZED"))
        if any_word is None:
            return every, sa.false(), _tsquery(every_word)
        relaxed = ~sa.exists(sa.select(every.c.doc_id))
        either = sa.select(*columns).where(relaxed, *self._where(any_word, filters)).cte("any_word")
        hits = sa.union_all(sa.select(every), sa.select(either)).cte("hits")
        return hits, relaxed, sa.case((relaxed, _tsquery(any_word)), else_=_tsquery(every_word))

    def _page(self, every_word: str, any_word: str | None, filters, sort: str, page: int,
              per_page: int) -> SearchPage:
        """One statement for text: the matches' narrow columns once (materialised CTEs), their exact
        count, and the page.

        Relevance ranks at most RANK_CANDIDATES matches, the newest: ts_rank reads a row's whole
        tsvector, and a relaxed query can match 8,000 challenges of a field. The candidates are
        read again by their row address (a TID scan, no index). With fewer matches (any specific
        query) every match is ranked and the order is exact.
        """
        hits, relaxed, rank_query = self._hits(every_word, any_word, filters)
        total = sa.select(sa.func.count()).select_from(hits).scalar_subquery().label("total")
        if sort == "relevance":
            candidates = (sa.select(hits.c.row).order_by(hits.c.published.desc(), hits.c.doc_id)
                          .limit(RANK_CANDIDATES).subquery("candidates"))
            ranked = TABLE.alias("ranked")
            rank = sa.func.ts_rank(ranked.c.document, rank_query)
            statement = (sa.select(ranked.c.doc_id, total, relaxed.label("relaxed"))
                         .select_from(candidates.join(ranked, sa.literal_column("ranked.ctid") == candidates.c.row))
                         .order_by(rank.desc(), ranked.c.doc_id))
        else:
            statement = sa.select(hits.c.doc_id, total, relaxed.label("relaxed")).order_by(*_order(hits, sort))
        past_the_end = sa.select(total, relaxed.label("relaxed"))
        return self._run(statement.limit(per_page).offset((page - 1) * per_page), past_the_end, page, per_page)

    def _run(self, statement, past_the_end, page: int, per_page: int) -> SearchPage:
        """The page a (doc_id, total, relaxed) statement gives; past the last page, the count of
        the (total, relaxed) statement.

        Autocommit: one statement is its own snapshot, and BEGIN and ROLLBACK would be two more
        round trips to the server for each search."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            rows = connection.execute(statement).all()
            if not rows and page > 1:
                rows = connection.execute(past_the_end).all()
        if not rows:
            return SearchPage([], 0, page, per_page)
        total, relaxed = rows[0].total, bool(rows[0].relaxed)
        ids = [row.doc_id for row in rows] if "doc_id" in rows[0]._fields else []
        return SearchPage(ids, total, page, per_page, relaxed=relaxed and total > 0)

    def facets(self, query: str = "", *, filters: Mapping[str, object] | None = None,
               field_names: Sequence[str] = (),
               ranges: Mapping[str, Mapping[str, tuple[object, object]]] | None = None) -> dict[str, dict[str, int]]:
        """Counts per facet value over the documents `search` would match (see ``SearchIndex.facets``):
        one pass over the matches (``pg_facets``), kept for the generation (``pg_counts``)."""
        undeclared = (set(field_names) - set(self.spec.facets)) | (set(ranges or ()) - RANGE_FIELDS)
        if undeclared:
            raise ValueError(f"cannot count facets {sorted(undeclared)}")
        self._check_filters(filters)
        text, ranges = (query or "").strip(), ranges or {}
        buckets_key = tuple((name, tuple((label, *ends) for label, ends in buckets.items()))
                            for name, buckets in ranges.items())
        key = ("facets", text, pg_counts.filters_key(filters), tuple(field_names), buckets_key)

        def count() -> dict[str, dict]:
            tsquery = self._facet_query(connection, text, filters)
            if tsquery is False:
                return {}
            return pg_facets.count_facets(self, connection, tsquery, filters, field_names, ranges)

        with pg_counts.snapshot(self.engine) as connection:
            found = pg_counts.kept(connection, self.kind, key, count)
        counts = {name: dict(found.get(name, {})) for name in field_names}
        counts.update((name, {label: found.get(name, {}).get(label, 0) for label in buckets})
                      for name, buckets in ranges.items())
        return counts

    def _facet_query(self, connection, text: str, filters) -> str | None | bool:
        """The tsquery the text's matches are counted by, relaxed as `search` would (None: no text,
        every document; False: nothing matches)."""
        if not text:
            return None
        literals = tsquery_literals(text)
        if literals is None:
            return False
        every_word, any_word = literals
        if any_word is not None:
            allowed = sa.select(sa.literal(1)).where(*self._where(every_word, filters)).limit(1)
            if connection.scalar(allowed) is None:
                return any_word
        return every_word


def _tsquery(literal: str):
    return sa.cast(sa.literal(literal, sa.Text), postgresql.TSQUERY)


def _order(source, sort: str) -> tuple:
    keys = {"newest": (("published", True),), "deadline": (("deadline", False), ("award", True)),
            "award": (("award", True), ("deadline", False))}[sort]
    return tuple(source.c[name].desc() if descending else source.c[name].asc()
                 for name, descending in keys) + (source.c.doc_id,)
