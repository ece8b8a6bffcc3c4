"""Issue 12 on both backends: browsing without text pages in the sort's exact order, and totals and
facet counts are the true numbers -- also right after a write, whichever handle (or instance) wrote.
PostgreSQL keeps counts per generation and checks common facets on rows: the answers stay the same."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from marketplace.search import pg_counts, pg_tag_stats
from marketplace.search.engine import NO_DEADLINE, NO_PUBLISHED, SearchDoc
from tests.search.conftest import reopen

BASE = datetime(2027, 3, 1, tzinfo=UTC)
FIELDS = ["sensors", "materials", "energy"]


def _catalogue(count: int = 130) -> list[SearchDoc]:
    rng = random.Random(3)
    docs = []
    for n in range(1, count + 1):
        docs.append(SearchDoc(
            id=n, texts={"en": f"graphene {rng.choice(['sensor', 'battery'])} item {n}"},
            facets={"field": rng.choice(FIELDS), "status": "closed" if n % 9 == 0 else "open",
                    "challenge_type": rng.choice(["rtp", "ideation"])},
            # Ties on purpose: the id decides between equal keys on both backends.
            award=rng.randrange(1, 8) * 100_000 if n % 11 else None,
            published=BASE - timedelta(days=rng.randrange(20)) if n % 13 else None,
            deadline=BASE + timedelta(days=rng.randrange(1, 15)) if n % 7 else None))
    return docs


def _passes(doc: SearchDoc, filters: dict) -> bool:
    for key, value in filters.items():
        if key == "min_award":
            if (doc.award or 0) < value:
                return False
        elif key == "deadline_after":
            if (doc.deadline or NO_DEADLINE.replace(tzinfo=UTC)) < value:
                return False
        elif doc.facets[key] not in ([value] if isinstance(value, str) else value):
            return False
    return True


def _sorted(docs: list[SearchDoc], sort: str) -> list[int]:
    def key(doc: SearchDoc):
        published = (doc.published or NO_PUBLISHED.replace(tzinfo=UTC)).timestamp()
        deadline = (doc.deadline or NO_DEADLINE.replace(tzinfo=UTC)).timestamp()
        award = doc.award or 0
        return {"newest": (-published, doc.id), "deadline": (deadline, -award, doc.id),
                "award": (-award, deadline, doc.id)}[sort]

    return [doc.id for doc in sorted(docs, key=key)]


@pytest.fixture
def catalogue(index):
    docs = _catalogue()
    for start in range(0, len(docs), 50):
        index.upsert(docs[start:start + 50])
    return index, docs


FILTERS = [{}, {"status": "open"}, {"field": ["sensors", "energy"], "status": "open"},
           {"min_award": 400_000}, {"status": "open", "deadline_after": BASE + timedelta(days=5)}]


@pytest.mark.parametrize("sort", ["newest", "deadline", "award"])
def test_browsing_pages_every_document_in_sort_order_with_the_true_total(catalogue, sort):
    index, docs = catalogue
    for filters in FILTERS:
        expected = _sorted([doc for doc in docs if _passes(doc, filters)], sort)
        pages = [index.search("", filters=filters, sort=sort, page=n, per_page=15) for n in range(1, 11)]
        assert [doc_id for page in pages for doc_id in page.ids] == expected, (filters, sort)
        assert {page.total for page in pages} == {len(expected)}, (filters, sort)


def test_browse_facet_counts_are_exact(catalogue):
    index, docs = catalogue
    filters = {"status": "open", "field": "sensors", "min_award": 300_000}
    ranges = {"award": {"low": (None, 299_999), "high": (300_000, None)}}
    counts = index.facets("", filters=filters, field_names=["field", "challenge_type"], ranges=ranges)

    def count(values: dict, name: str) -> dict:
        found: dict = {}
        for doc in docs:
            if _passes(doc, values):
                found[doc.facets[name]] = found.get(doc.facets[name], 0) + 1
        return found

    assert counts["field"] == count({"status": "open", "min_award": 300_000}, "field")
    assert counts["challenge_type"] == count(filters, "challenge_type")
    in_field = [doc for doc in docs if _passes(doc, {"status": "open", "field": "sensors"})]
    assert counts["award"] == {"low": sum((doc.award or 0) < 300_000 for doc in in_field),
                               "high": sum((doc.award or 0) >= 300_000 for doc in in_field)}
    assert sum(counts["challenge_type"].values()) == index.search("", filters=filters).total


def test_totals_and_counts_follow_every_write_from_any_handle(catalogue):
    index, docs = catalogue
    other = reopen(index)  # another request or instance
    filters = {"status": "open"}
    before = index.search("", filters=filters).total
    field_counts = index.facets("", filters=filters, field_names=["field"])["field"]
    assert before == sum(_passes(doc, filters) for doc in docs)

    other.upsert([SearchDoc(id=500, texts={"en": "new"}, facets={"field": "energy", "status": "open"})])
    assert index.search("", filters=filters).total == before + 1
    assert index.facets("", filters=filters, field_names=["field"])["field"] == {
        **field_counts, "energy": field_counts["energy"] + 1}
    other.delete([500, 1, 2])
    assert index.search("", filters=filters).total == before - sum(_passes(d, filters) for d in docs[:2])
    other.clear()
    assert index.search("", filters=filters).total == 0
    assert index.facets("", filters=filters, field_names=["field"]) == {"field": {}}


@pytest.fixture
def statements():
    """statements(engine): the list every statement run on `engine` (with its parameters) is added to."""
    listening = []

    def listen(engine) -> list[str]:
        seen: list[str] = []

        def note(conn, cursor, statement, parameters, *rest):
            seen.append(f"{statement} {parameters!r}")

        sa.event.listen(engine, "before_cursor_execute", note)
        listening.append((engine, note))
        return seen

    yield listen
    for engine, note in listening:
        sa.event.remove(engine, "before_cursor_execute", note)


@pytest.mark.postgres_only
def test_postgres_counts_once_per_generation(search_backend, catalogue, statements):
    index, docs = catalogue
    seen = statements(index.engine)
    counting = lambda: [s for s in seen if "count(*)" in s]  # noqa: E731
    first = index.search("", filters={"status": "open"}, page=2)
    index.search("", filters={"status": "open"}, sort="award", page=3)
    assert len(counting()) == 1  # the second page and sort reuse the total
    index.upsert([SearchDoc(id=600, texts={"en": "new"}, facets={"status": "open"})])
    again = index.search("", filters={"status": "open"})
    assert len(counting()) == 2 and again.total == first.total + 1
    with index.engine.begin() as conn:  # a generation gone (table emptied by hand): nothing is kept
        conn.execute(pg_counts.GENERATIONS.delete())
    index.search("", filters={"status": "open"})
    index.search("", filters={"status": "open"})
    assert len(counting()) == 4


@pytest.mark.postgres_only
def test_postgres_checks_a_facet_most_documents_hold_on_rows(search_backend, catalogue, monkeypatch, statements):
    index, docs = catalogue
    with index.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE search_documents")
    monkeypatch.setattr(pg_tag_stats, "_shares", {})
    shares = pg_tag_stats.tag_shares(index.engine)
    assert shares["f:status=open"] > 0.8 and shares.get("f:status=closed", 0) < 0.5
    seen = statements(index.engine)
    for filters in ({"status": "open"}, {"status": "closed"}, {"status": ["open", "closed"], "field": "sensors"}):
        expected = {doc.id for doc in docs if _passes(doc, filters) and "sensor" in doc.texts["en"]}
        found = index.search("sensor", filters=filters, per_page=100)
        assert set(found.ids) == expected and found.total == len(expected), filters
    sent = " ".join(seen)
    assert "f:status=closed" in sent and "f:status=open" not in sent  # open: a condition on the rows found
