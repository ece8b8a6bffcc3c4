"""The public list of open results: full-text search through the engine, filters and facet counts.

Without a query the database answers (newest first, GROUP BY for the facet counts); with one the
search engine does (ids, then one query for the rows, re-checked for visibility). A fixed number of
SQL queries either way.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import Organization
from marketplace.extensions import db
from marketplace.results import indexing
from marketplace.results.models import ResultRecord
from marketplace.results.presenters import result_summary
from marketplace.stages.readers import stages_reached

FILTERS = ("field", "organization", "licensing", "patent")


def _filters(args: dict) -> dict:
    return {name: args[name] for name in FILTERS if args.get(name)}


def _statement(filters: dict, skip: str | None = None):
    statement = select(ResultRecord).where(ResultRecord.status == "published")
    if filters.get("field") and skip != "field":
        statement = statement.where(ResultRecord.field == filters["field"])
    if filters.get("organization") and skip != "organization":
        statement = statement.where(ResultRecord.organization_id.in_(
            select(Organization.id).where(Organization.slug == filters["organization"])))
    if filters.get("licensing") and skip != "licensing":
        statement = statement.where(ResultRecord.open_for_licensing.is_(filters["licensing"] == "open"))
    if filters.get("patent") and skip != "patent":
        filed = ResultRecord.patent_application.is_not(None)
        statement = statement.where(filed if filters["patent"] == "filed" else ~filed)
    return statement


def _sql_facets(filters: dict) -> dict[str, dict[str, int]]:
    """Counts per facet value, each facet ignoring its own filter (as the engine counts them)."""
    counts: dict[str, dict[str, int]] = {}
    columns = {
        "field": ResultRecord.field,
        "organization": Organization.slug,
        "licensing": ResultRecord.open_for_licensing,
        "patent": ResultRecord.patent_application.is_not(None),
    }
    for name, column in columns.items():
        base = _statement(filters, skip=name).subquery()
        statement = (select(column, func.count()).select_from(ResultRecord)
                     .join(Organization, Organization.id == ResultRecord.organization_id)
                     .where(ResultRecord.id.in_(select(base.c.id))).group_by(column))
        values = {}
        for value, count in db.session.execute(statement):
            if name == "licensing":
                value = "open" if value else "closed"
            elif name == "patent":
                value = "filed" if value else "none"
            values[str(value)] = count
        counts[name] = values
    return counts


def public_page(args: dict, locale: str) -> dict:
    page, per_page = args.get("page", 1), args.get("per_page", 20)
    query = (args.get("q") or "").strip()
    filters = _filters(args)
    relaxed = False
    if query:
        ids, total, relaxed = indexing.search_page(query, filters, page, per_page)
        rows = _load_in_order(ids)
        facets = indexing.facet_counts(query, filters)
    else:
        statement = _statement(filters)
        total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
        rows = db.session.scalars(statement.options(selectinload(ResultRecord.organization))
                                  .order_by(ResultRecord.published_at.desc(), ResultRecord.id.desc())
                                  .limit(per_page).offset((page - 1) * per_page)).all()
        facets = _sql_facets(filters)
    slugs = list(facets.get("organization", {}))
    names = dict(db.session.execute(select(Organization.slug, Organization.name).where(
        Organization.slug.in_(slugs))).all()) if slugs else {}
    reached = stages_reached(rows)
    return {"items": [result_summary(r, locale, stage_reached=reached[r.id]) for r in rows], "page": page,
            "per_page": per_page,
            "total": total, "facets": facets, "organization_names": names, "relaxed": relaxed}


def _load_in_order(ids: list[int]) -> list[ResultRecord]:
    if not ids:
        return []
    rows = db.session.scalars(select(ResultRecord).where(ResultRecord.id.in_(ids))
                              .options(selectinload(ResultRecord.organization))).all()
    by_id = {r.id: r for r in rows if r.status == "published"}
    return [by_id[i] for i in ids if i in by_id]


def latest(limit: int = 30) -> list[ResultRecord]:
    return list(db.session.scalars(select(ResultRecord).where(ResultRecord.status == "published")
                                   .options(selectinload(ResultRecord.organization))
                                   .order_by(ResultRecord.published_at.desc(), ResultRecord.id.desc()).limit(limit)))
