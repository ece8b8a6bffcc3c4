"""Keep the challenge search index in step with the database.

Services call `schedule(id)` for every publish, close, edit or cancel. The ids collected in a
transaction are indexed once it commits: in-process right after the request by default, by an
RQ worker ("search" queue) when REDIS_URL is set. Commands call `flush_scheduled()` themselves.
Only open, public challenges are in the index; everything else is removed from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from marketplace import after_commit, http_cache
from marketplace.challenges.models import Challenge
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.search.engine import SearchDoc, SearchIndex

KIND = "challenges"
BATCH = 500


def schedule(challenge_id: int) -> None:
    after_commit.add(KIND, challenge_id)


def search_index() -> SearchIndex:
    from marketplace.search.backends import open_index

    return open_index(KIND)


def to_doc(challenge: Challenge) -> SearchDoc:
    texts: dict[str, str] = {}
    for text in challenge.texts:
        texts[text.locale] = "\n".join(part for part in (text.title, text.summary, text.description) if part)
    for criterion in challenge.all_criteria:
        for locale, name in criterion.name.items():
            texts[locale] = texts.get(locale, "") + "\n" + name
    return SearchDoc(
        id=challenge.id, texts=texts, titles=challenge.text_map("title"),
        facets={"field": challenge.field, "challenge_type": challenge.challenge_type, "status": challenge.status,
                "currency": challenge.award_currency, "organization": challenge.organization_id},
        award=challenge.award_minor, published=challenge.published_at, deadline=challenge.deadline)


def _searchable(challenge: Challenge) -> bool:
    return challenge.status == "open" and not challenge.invite_only


def index_challenges(ids: Iterable[int]) -> None:
    ids = sorted(set(ids))
    if not ids:
        return
    rows = db.session.scalars(select(Challenge).where(Challenge.id.in_(ids))
                              .options(selectinload(Challenge.all_criteria))).all()
    public = [c for c in rows if _searchable(c)]
    index = search_index()
    gone = set(ids) - {c.id for c in public}
    if gone:
        index.delete(gone)
    if public:
        index.upsert(to_doc(c) for c in public)
    http_cache.public_data_changed()  # search answers kept before this update are out of date


def flush_scheduled() -> None:
    """Index what this session scheduled (for commands, which have no request to hook into)."""
    index_challenges(after_commit.take(KIND))


def search_ids(query: str, args: dict, page: int, per_page: int) -> tuple[list[int], int]:
    # No status filter: only open, listed challenges are ever indexed (`_searchable`), so every document's
    # status is "open" and checking it on each match only costs time. A deadline passed since indexing is
    # filtered here until `close-due` removes the challenge.
    filters = {"field": args.get("field"), "challenge_type": args.get("challenge_type"), "deadline_after": utcnow()}
    if args.get("currency"):
        filters["currency"] = args["currency"]
    if args.get("min_award") is not None:
        from decimal import Decimal

        from marketplace.money import Money

        currency = args.get("currency") or "USD"
        filters["currency"] = currency
        filters["min_award"] = Money.from_decimal(Decimal(args["min_award"]), currency).minor
    sort = args.get("sort") or "relevance"
    result = search_index().search(query, filters=filters, sort=sort, page=page, per_page=per_page)
    return result.ids, result.total


def reindex_source() -> tuple[int, Iterator[list[SearchDoc]]]:
    """Every searchable challenge, in batches, for `flask search reindex`."""
    condition = (Challenge.status == "open") & Challenge.invite_only.is_(False)
    total = db.session.scalar(select(func.count(Challenge.id)).where(condition))

    def batches() -> Iterator[list[SearchDoc]]:
        last_id = 0
        while True:
            rows = db.session.scalars(select(Challenge).where(condition, Challenge.id > last_id)
                                      .options(selectinload(Challenge.all_criteria))
                                      .order_by(Challenge.id).limit(BATCH)).all()
            if not rows:
                return
            yield [to_doc(c) for c in rows]
            last_id = rows[-1].id

    return total, batches()


def _enqueue_or_index(ids: list[int]) -> None:
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        from redis import Redis
        from rq import Queue

        Queue("search", connection=Redis.from_url(redis_url)).enqueue("marketplace.challenges.indexing.index_job", ids)
    else:
        index_challenges(ids)


def index_job(ids: list[int]) -> None:
    """RQ job: index challenges in a worker process (one application per worker, as for mail)."""
    from marketplace.jobs import worker_app

    with worker_app().app_context():
        index_challenges(ids)


def install(app) -> None:
    """Challenges changed by a request are indexed once it has committed (see marketplace.after_commit)."""
    after_commit.register_queue(KIND, _enqueue_or_index, "challenges to index")
    after_commit.install(app)
