"""The public list of challenges: filters, search and sorting, with a fixed number of SQL queries."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from marketplace.challenges.models import Challenge
from marketplace.challenges.presenters import challenge_summary
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.money import Money

SORTS = {
    "newest": (Challenge.published_at.desc(), Challenge.id.desc()),
    "deadline": (Challenge.deadline.asc(), Challenge.id.asc()),
    "award": (Challenge.award_minor.desc(), Challenge.id.desc()),
}


def public_statement(args: dict):
    """Open, public challenges matching the filters (without text search)."""
    # Past the deadline but not yet closed by `close-due`: no longer listed.
    statement = select(Challenge).where(Challenge.status == "open", Challenge.invite_only.is_(False),
                                        Challenge.deadline > utcnow())
    if args.get("field"):
        statement = statement.where(Challenge.field == args["field"])
    if args.get("challenge_type"):
        statement = statement.where(Challenge.challenge_type == args["challenge_type"])
    if args.get("min_award") is not None:
        currency = args.get("currency") or "USD"
        minimum = Money.from_decimal(Decimal(args["min_award"]), currency)
        statement = statement.where(Challenge.award_currency == currency, Challenge.award_minor >= minimum.minor)
    elif args.get("currency"):
        statement = statement.where(Challenge.award_currency == args["currency"])
    return statement


def public_page(args: dict, locale: str) -> dict:
    page, per_page = args.get("page", 1), args.get("per_page", 20)
    query = (args.get("q") or "").strip()
    if query:
        from marketplace.challenges.indexing import search_ids

        ids, total = search_ids(query, args, page, per_page)
        rows = _load_in_order(ids)
    else:
        statement = public_statement(args)
        total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
        order = SORTS.get(args.get("sort"), SORTS["newest"])
        rows = db.session.scalars(
            statement.options(selectinload(Challenge.texts), selectinload(Challenge.organization))
            .order_by(*order).limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [challenge_summary(c, locale) for c in rows], "page": page, "per_page": per_page,
            "total": total}


def _load_in_order(ids: list[int]) -> list[Challenge]:
    """Load search hits in one query, keep the engine's order, and re-check that each is public."""
    if not ids:
        return []
    rows = db.session.scalars(select(Challenge).where(Challenge.id.in_(ids))
                              .options(selectinload(Challenge.texts), selectinload(Challenge.organization))).all()
    now = utcnow()
    by_id = {c.id: c for c in rows if c.is_public and c.status == "open" and c.deadline > now}
    return [by_id[i] for i in ids if i in by_id]
