"""Open results in the search engine (kind "results"), kept in step with the database.

Services call `schedule(result_id)` during a transaction; once the session commits, the request's
after_request hook re-reads those results and upserts the published ones (the others leave the index).
`flask search reindex --kind results` rebuilds the whole index. Everything the rest of the package needs from the
engine goes through `search_page` and `facet_counts`, so swapping the engine is one module.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from marketplace import after_commit
from marketplace.extensions import db
from marketplace.search.engine import KINDS, SearchDoc, SearchIndex, register_kind

KIND = "results"
QUEUE = "results"  # the after-commit queue of results to index
FACETS = ("field", "organization", "licensing", "patent")


def register_search_kind() -> None:
    """Declare the "results" document kind and its facets (called by results.register())."""
    if KIND not in KINDS:
        register_kind(KIND, facets=FACETS)


def schedule(result_id: int) -> None:
    after_commit.add(QUEUE, result_id)


def open_index() -> SearchIndex:
    from marketplace.search.backends import open_index as backend_index

    return backend_index(KIND)


def to_doc(result) -> SearchDoc:
    """Everything a visitor may search for, per locale: title, abstract, licence terms, field and the named winners."""
    names = " ".join(w.name for w in result.named_winners)
    texts = {t.locale: "\n".join(filter(None, (t.title, t.abstract, t.licence_terms, result.field, names,
                                                result.patent_application or "")))
             for t in result.texts}
    return SearchDoc(
        id=result.id, texts=texts, titles={t.locale: t.title for t in result.texts},
        facets={"field": result.field, "organization": result.organization.slug,
                "licensing": "open" if result.open_for_licensing else "closed",
                "patent": "filed" if result.patent_application else "none"},
        published=result.published_at)


def _load(ids: Iterable[int]) -> list:
    from marketplace.results.models import ResultRecord

    return list(db.session.scalars(select(ResultRecord).where(ResultRecord.id.in_(list(ids)))
                                   .options(selectinload(ResultRecord.organization))))


def sync(ids: Iterable[int]) -> None:
    """Upsert the published results among `ids`; remove the others from the index."""
    ids = set(ids)
    if not ids:
        return
    rows = _load(ids)
    published = [r for r in rows if r.status == "published"]
    index = open_index()
    index.upsert(to_doc(r) for r in published)
    index.delete(ids - {r.id for r in published})


def flush_scheduled() -> None:
    """Index what this session scheduled (for commands such as `demo seed`, which have no request)."""
    sync(after_commit.take(QUEUE))


def source() -> tuple[int, Iterator[list[SearchDoc]]]:
    """For `search reindex`: how many published results, and their documents in batches."""
    from marketplace.results.models import ResultRecord

    total = db.session.scalar(select(func.count(ResultRecord.id)).where(ResultRecord.status == "published")) or 0

    def batches() -> Iterator[list[SearchDoc]]:
        last = 0
        while True:
            rows = db.session.scalars(select(ResultRecord).where(ResultRecord.status == "published",
                                                                 ResultRecord.id > last)
                                      .options(selectinload(ResultRecord.organization))
                                      .order_by(ResultRecord.id).limit(500)).all()
            if not rows:
                return
            last = rows[-1].id
            yield [to_doc(r) for r in rows]

    return total, batches()


# --- the adapter the listing uses ------------------------------------------------------------------

def search_page(query: str, filters: dict, page: int, per_page: int) -> tuple[list[int], int, bool]:
    """(ids best first, total, relaxed) of published results matching `query` and the facet filters."""
    found = open_index().search(query, filters=filters, page=page, per_page=per_page)
    return found.ids, found.total, found.relaxed


def facet_counts(query: str, filters: dict) -> dict[str, dict[str, int]]:
    return open_index().facets(query, filters=filters, field_names=FACETS)


# --- keeping the index current -----------------------------------------------------------------------

def install(app) -> None:
    """Results changed by a request are indexed once it has committed (see marketplace.after_commit)."""
    after_commit.register_queue(QUEUE, sync, "results to index")
    after_commit.install(app)
