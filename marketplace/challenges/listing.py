"""The public list of challenges: filters, search and sorting, with a fixed number of SQL queries.

Built to stay fast at 100,000 challenges (see bench/bench_load.py):
- open, listed challenges have partial indexes per sort key (models.PUBLIC_LIST_WHERE), so a page
  walks an index of the listed rows only;
- the list loads only the columns it shows (not the award quote, eligibility or clearance notes);
- the total is counted once per filter combination and kept LIST_COUNT_SECONDS (default 60) in each
  worker process: `total_is_estimate` says it came from that cache and may be a little old;
- `?page=` reaches MAX_PAGE pages (an index walk of at most MAX_PAGE x per_page rows); every page
  also hands out `next_cursor`, and `?cursor=` continues from it by keyset (any depth, same cost).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from datetime import datetime
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import joinedload, lazyload, load_only, selectinload

from marketplace.accounts.models import Organization
from marketplace.challenges.models import Challenge
from marketplace.challenges.presenters import challenge_summary
from marketplace.db import utcnow
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.money import Money

SORTS = {
    "newest": (Challenge.published_at, "desc"),
    "deadline": (Challenge.deadline, "asc"),
    "award": (Challenge.award_minor, "desc"),
}
MAX_PAGE = 50
DEFAULT_COUNT_SECONDS = 60
# What challenge_summary reads: the wide columns (quote, excluded_countries, notes) stay on disk.
LIST_COLUMNS = (Challenge.id, Challenge.organization_id, Challenge.status, Challenge.funded, Challenge.award_minor,
                Challenge.award_currency, Challenge.deadline, Challenge.default_locale, Challenge.challenge_type,
                Challenge.field, Challenge.ip_terms, Challenge.target_trl, Challenge.published_at,
                Challenge.seeker_anonymous, Challenge.invite_only)
# Two queries a page: the challenges joined with their organization, then their texts.
LIST_LOADING = (load_only(*LIST_COLUMNS), selectinload(Challenge.texts), lazyload(Challenge.requirements),
                joinedload(Challenge.organization).load_only(Organization.slug, Organization.name))
_counts: dict[tuple, tuple[float, int]] = {}


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
        return {"items": [challenge_summary(c, locale) for c in _load_in_order(ids)], "page": page,
                "per_page": per_page, "total": total, "total_is_estimate": False, "next_cursor": None}
    sort = args.get("sort") if args.get("sort") in SORTS else "newest"
    statement = public_statement(args)
    total, estimate = _total(statement, args)
    rows = _rows(statement, sort, page, per_page, args.get("cursor"))
    more = len(rows) > per_page
    rows = rows[:per_page]
    return {"items": [challenge_summary(c, locale) for c in rows], "page": page, "per_page": per_page,
            "total": total, "total_is_estimate": estimate,
            "next_cursor": encode_cursor(sort, rows[-1]) if more else None}


def _rows(statement, sort: str, page: int, per_page: int, cursor: str | None) -> list[Challenge]:
    """One page plus one row (to know whether there is a next page), by keyset or by a bounded offset."""
    column, direction = SORTS[sort]
    if cursor:
        value, last_id = decode_cursor(sort, cursor)
        keys, after = tuple_(column, Challenge.id), tuple_(value, last_id)
        statement = statement.where(keys < after if direction == "desc" else keys > after)
    elif page > MAX_PAGE:
        raise ValidationFailed(_l("Only the first %(pages)d pages can be opened by number: narrow the search "
                                  "with a word or a filter, or use the link to the next page.", pages=MAX_PAGE),
                               errors={"page": [f"at most {MAX_PAGE} without a cursor"]})
    order = (column.desc(), Challenge.id.desc()) if direction == "desc" else (column.asc(), Challenge.id.asc())
    statement = statement.options(*LIST_LOADING).order_by(*order).limit(per_page + 1)
    if not cursor:
        statement = statement.offset((page - 1) * per_page)
    return list(db.session.scalars(statement))


def _total(statement, args: dict) -> tuple[int, bool]:
    """(total, came from the cache): one COUNT per filter combination every LIST_COUNT_SECONDS per process."""
    seconds = int(current_app.config.get("LIST_COUNT_SECONDS", 0 if current_app.testing else DEFAULT_COUNT_SECONDS))
    key = tuple(str(args.get(name) or "") for name in ("field", "challenge_type", "currency", "min_award"))
    now = time.monotonic()
    hit = _counts.get(key)
    if seconds > 0 and hit is not None and now - hit[0] < seconds:
        return hit[1], True
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    if seconds > 0:
        if len(_counts) > 500:
            _counts.clear()
        _counts[key] = (now, total)
    return total, False


def encode_cursor(sort: str, challenge: Challenge) -> str:
    value = getattr(challenge, SORTS[sort][0].key)
    plain = json.dumps([sort, value.isoformat() if isinstance(value, datetime) else value, challenge.id])
    return base64.urlsafe_b64encode(plain.encode()).decode().rstrip("=")


def decode_cursor(sort: str, cursor: str) -> tuple[object, int]:
    """The (sort value, id) a cursor continues after; a cursor of another sort or a forged one is a 422."""
    try:
        kind, value, last_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if kind != sort or not isinstance(last_id, int) or not 0 < last_id < 2**31:
            raise ValueError(kind)
        if sort == "award":
            if not isinstance(value, int) or abs(value) >= 2**63:
                raise ValueError(value)
        else:
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError(value)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(_l("This link to the next page is not valid any more. Start again from the "
                                  "first page."), errors={"cursor": ["not a cursor of this list"]}) from None
    return value, last_id


def _load_in_order(ids: list[int]) -> list[Challenge]:
    """Load search hits in one query, keep the engine's order, and re-check that each is public."""
    if not ids:
        return []
    rows = db.session.scalars(select(Challenge).where(Challenge.id.in_(ids)).options(*LIST_LOADING)).all()
    now = utcnow()
    by_id = {c.id: c for c in rows if c.is_public and c.status == "open" and c.deadline > now}
    return [by_id[i] for i in ids if i in by_id]
