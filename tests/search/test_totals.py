"""Issue 12: every total is the true number of matches, with filters, sorts and the relaxed
fallback, on both backends; facet tags (PostgreSQL) never meet the text."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from marketplace.search import analysis
from marketplace.search.engine import SearchDoc
from marketplace.search.postgres import PostgresIndex, facet_tag, tsvector_literal

BASE = datetime(2027, 3, 1, tzinfo=UTC)
WORDS = {  # a few words per field, and words every field uses
    "sensors": ["传感器", "lidar", "gyroscope", "低噪声"],
    "materials": ["石墨烯", "graphene", "ceramic", "涂层"],
    "energy": ["储能", "battery", "photovoltaic", "燃料电池"],
}
COMMON = ["可靠性", "cost", "design", "优化", "validation"]
QUERIES = ["传感器", "graphene cost", "battery lidar", "石墨烯 可靠性", "储能 传感器 design", "ceramic",
           "低噪声 validation", "photovoltaic graphene 优化", "涂层", "gyroscope battery ceramic", "可靠性",
           "nothing-like-this"]
FILTERS = [{}, {"field": "sensors"}, {"field": ["materials", "energy"]}, {"status": "open", "field": "energy"},
           {"min_award": 300_000}, {"deadline_after": BASE + timedelta(days=30), "currency": "EUR"},
           {"field": "sensors", "status": "closed", "max_award": 400_000}]


@pytest.fixture(scope="module", autouse=True)
def _jieba_cache_folder(tmp_path_factory):
    analysis.configure(tmp_path_factory.mktemp("search"))


def _catalogue(count: int = 240) -> list[SearchDoc]:
    rng = random.Random(12)
    docs = []
    for n in range(1, count + 1):
        field = rng.choice(list(WORDS))
        words = rng.sample(WORDS[field], 2) + rng.sample(COMMON, rng.randint(0, 2))
        title = " ".join(words[:1])
        docs.append(SearchDoc(
            id=n, texts={"en": " ".join(words) + f" challenge {n}"}, titles={"en": title},
            facets={"field": field, "status": rng.choice(["open", "open", "closed"]),
                    "currency": rng.choice(["USD", "EUR"])},
            award=rng.randrange(1, 60) * 10_000, published=BASE - timedelta(days=rng.randrange(90)),
            deadline=BASE + timedelta(days=rng.randrange(1, 90))))
    return docs


def _words(doc: SearchDoc) -> set[str]:
    text = " ".join([*doc.texts.values(), *doc.titles.values()])
    return {token.text for token in analysis.ANALYZER(text, mode="index")}


def _has(words: set[str], word: str) -> bool:
    parts = analysis.word_parts(word)
    return word in words or bool(parts) and all(part in words for part in parts)


def _passes(doc: SearchDoc, filters: dict) -> bool:
    for key, value in filters.items():
        if key in ("min_award", "max_award"):
            if (doc.award < value) if key == "min_award" else (doc.award > value):
                return False
        elif key == "deadline_after":
            if doc.deadline < value:
                return False
        elif doc.facets[key] not in ([value] if isinstance(value, str) else value):
            return False
    return True


def _expected(docs: list[SearchDoc], query: str, filters: dict) -> tuple[set[int], bool]:
    """(ids, relaxed) by brute force: every word, else (several words) any word, within the filters."""
    query_words = analysis.query_words(query)
    allowed = [(doc.id, _words(doc)) for doc in docs if _passes(doc, filters)]
    every = {doc_id for doc_id, words in allowed if query_words and all(_has(words, w) for w in query_words)}
    if every or len(query_words) < 2:
        return every, False
    return {doc_id for doc_id, words in allowed if any(_has(words, w) for w in query_words)}, True


@pytest.fixture
def catalogue(index):
    docs = _catalogue()
    for start in range(0, len(docs), 80):  # several writes: several Whoosh segments
        index.upsert(docs[start:start + 80])
    index.upsert(docs[:10])  # replaced documents (deleted, then added again in Whoosh)
    return index, docs


@pytest.mark.parametrize("sort", ["relevance", "award", "deadline", "newest"])
def test_totals_are_the_true_number_of_matches(catalogue, sort):
    index, docs = catalogue
    for query in QUERIES:
        for filters in FILTERS:
            expected, relaxed = _expected(docs, query, filters)
            pages = [index.search(query, filters=filters, sort=sort, page=n, per_page=25) for n in (1, 2, 3)]
            found = [doc_id for page in pages for doc_id in page.ids]
            assert {page.total for page in pages} == {len(expected)}, (query, filters, sort)
            assert len(found) == len(set(found)) and set(found) <= expected, (query, filters, sort)
            assert len(found) == min(len(expected), 75), (query, filters, sort)
            assert {page.relaxed for page in pages} == {relaxed and bool(expected)}, (query, filters, sort)


def test_facet_counts_add_up_to_the_total(catalogue):
    index, docs = catalogue
    for query in QUERIES[:6]:
        filters = {"status": "open", "deadline_after": BASE}
        total = index.search(query, filters=filters).total
        counts = index.facets(query, filters=filters, field_names=["field"])
        assert sum(counts["field"].values()) == total == len(_expected(docs, query, filters)[0]), query


def test_a_facet_value_is_never_found_as_text(index):
    index.upsert([SearchDoc(id=1, texts={"en": "graphene coating"}, facets={"field": "sensors", "currency": "EUR"}),
                  SearchDoc(id=2, texts={"en": "sensors field eur"}, facets={"field": "materials"})])
    assert index.search("sensors").ids == [2]
    assert index.search("f:field=sensors").ids == [2]  # words f, field, sensors: the text of 2 only
    assert index.search("graphene", filters={"field": "sensors"}).ids == [1]
    assert index.search("sensors", filters={"field": "sensors"}).total == 0


@pytest.mark.postgres_only  # tags exist on the PostgreSQL backend only
def test_the_migration_tags_documents_indexed_before_it(search_backend, request):
    """0013a_search_speed adds to existing documents the tags a reindex would give them."""
    engine = request.getfixturevalue("search_engine_pg")
    index = PostgresIndex(engine, "challenges")
    index.clear()
    facets = {"field": "materials", "status": "open", "organization": "7"}
    with engine.begin() as conn:  # as 0009i..0012 stored it: no tags
        conn.execute(sa.text("INSERT INTO search_documents VALUES ('challenges', 1, CAST(:doc AS tsvector), "
                             "CAST(:facets AS jsonb), 0, '1970-01-01', '9999-12-31')"),
                     {"doc": tsvector_literal(["Graphene"], ["graphene film"]),
                      "facets": '{"field": "materials", "status": "open", "organization": "7"}'})
    _run_migration(engine, "upgrade")
    tagged = tsvector_literal(["Graphene"], ["graphene film"], [facet_tag(k, v) for k, v in facets.items()])
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT document = CAST(:doc AS tsvector) FROM search_documents"), {"doc": tagged})
    assert index.search("graphene", filters={"field": "materials", "organization": 7}).ids == [1]
    _run_migration(engine, "downgrade")
    assert index.search("graphene", filters={"field": "materials"}).ids == []
    index.clear()


@pytest.mark.postgres_only
def test_the_speed_migration_gives_indexed_kinds_a_generation(search_backend, request):
    """0015b_search_pg: the sort indexes, and a generation for kinds indexed before it (pg_counts)."""
    engine = request.getfixturevalue("search_engine_pg")
    PostgresIndex(engine, "challenges").upsert([SearchDoc(id=1, texts={"en": "graphene"})])
    _run_migration(engine, "downgrade", "0015b_search_pg")
    with engine.connect() as conn:
        assert not sa.inspect(conn).has_table("search_generations")
    _run_migration(engine, "upgrade", "0015b_search_pg")
    with engine.connect() as conn:
        indexes = {index["name"] for index in sa.inspect(conn).get_indexes("search_documents")}
        assert {"ix_search_documents_newest", "ix_search_documents_deadline", "ix_search_documents_award"} <= indexes
        assert conn.scalar(sa.text("SELECT kind FROM search_generations")) == "challenges"
    assert PostgresIndex(engine, "challenges").search("", filters={}).total == 1


def _run_migration(engine, step: str, name: str = "0013a_search_speed") -> None:
    import importlib.util
    from pathlib import Path

    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    module = importlib.util.module_from_spec(spec)
    with engine.begin() as conn:
        with Operations.context(MigrationContext.configure(conn)):
            spec.loader.exec_module(module)
            getattr(module, step)()


def test_whoosh_ranking_gives_whoosh_own_bm25f_scores(tmp_path):
    """ranking.py scores every match at once; each score is the one Whoosh's matchers give it."""
    from marketplace.search import queries
    from marketplace.search.engine import SearchIndex

    index = SearchIndex(tmp_path / "search", "challenges")
    docs = _catalogue(120)
    index.upsert(docs[:60])
    index.upsert(docs[60:])  # two segments
    for query in ["graphene", "传感器", "battery cost", "石墨烯 可靠性"]:
        every_word, _ = queries.text_queries(query)
        with index.store.reading() as reading:
            ranker = index._ranker(reading, index._columns(reading))
            matches = ranker.every_word(queries.word_plan(query))
            hits = reading.searcher.search(every_word, limit=None, optimize=False)
            expected = {hit.docnum: hit.score for hit in hits}
        assert expected and set(expected) <= set(matches.mask.nonzero()[0])
        for docnum, score in expected.items():
            assert matches.scores[docnum] == pytest.approx(score), (query, docnum)


def test_whoosh_postings_are_read_block_by_block_as_whoosh_reads_them(tmp_path):
    from marketplace.search.engine import SearchIndex
    from marketplace.search.ranking import _read_postings

    index = SearchIndex(tmp_path / "search", "challenges")
    index.upsert([SearchDoc(id=n, texts={"en": "sensor " * (1 + n % 3) + f"item {n}"}) for n in range(1, 400)])
    with index.store.reading() as reading:
        for leaf, _ in reading.searcher.reader().leaf_readers():
            for term in (b"sensor", b"item", b"absent"):
                ids, weights = _read_postings(leaf, "text", term)
                expected_ids, expected_weights = [], []
                if ("text", term) in leaf:
                    matcher = leaf.postings("text", term)
                    while matcher.is_active():
                        expected_ids.append(matcher.id())
                        expected_weights.append(matcher.weight())
                        matcher.next()
                assert ids.tolist() == expected_ids
                assert weights.tolist() == pytest.approx(expected_weights)
        assert len(_read_postings(leaf, "text", b"sensor")[0]) == 399  # several blocks of 128


@pytest.mark.postgres_only
def test_postgres_ranks_the_newest_candidates_of_a_large_match_set(search_backend, index, monkeypatch):
    """Relevance on PostgreSQL ranks at most RANK_CANDIDATES matches (the newest); the total stays exact."""
    from marketplace.search import postgres

    monkeypatch.setattr(postgres, "RANK_CANDIDATES", 3)
    index.upsert([SearchDoc(id=n, texts={"en": f"graphene film {n}"}, titles={"en": "Graphene" if n in (2, 9) else ""},
                            published=BASE + timedelta(days=n)) for n in range(1, 11)])
    page = index.search("graphene", per_page=5)
    assert page.total == 10
    assert page.ids == [9, 8, 10]  # the 3 newest, the title match first (then equal ranks by id)
    assert index.search("graphene", per_page=5, page=2) == postgres.SearchPage([], 10, 2, 5)
    monkeypatch.setattr(postgres, "RANK_CANDIDATES", 1_000)
    assert index.search("graphene", per_page=2).ids == [2, 9]  # every match ranked: both title matches first
