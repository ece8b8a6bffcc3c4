"""Whoosh queries from user text and from the caller's filters.

User text is never parsed as query syntax: quotes, colons, brackets, ``AND``
and ``OR`` are characters like any other, dropped or kept by the analyzer.
Each analysed word matches the body or (boosted) the title, or, for a Chinese
word, the parts it may have been segmented into in a document (see
``analysis.word_parts``). Words are combined with AND for precision; the
engine falls back to OR when AND finds nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime

from whoosh import sorting
from whoosh.query import And, DateRange, Every, NullQuery, NumericRange, Or, Query, Require, Term

from marketplace.search import analysis

MAX_QUERY_CHARS = 500  # longer input is cut: a query is a few words
MAX_QUERY_WORDS = 24
TITLE_BOOST = 3.0

# filter key -> (indexed field, which end of the inclusive range it sets)
RANGE_FILTERS = {
    "min_award": ("award", "low"),
    "max_award": ("award", "high"),
    "deadline_after": ("deadline", "low"),
    "deadline_before": ("deadline", "high"),
    "published_after": ("published", "low"),
    "published_before": ("published", "high"),
}
RANGE_FIELDS = frozenset(name for name, _ in RANGE_FILTERS.values())

SORT_FACETS = {
    "newest": sorting.MultiFacet([sorting.FieldFacet("published", reverse=True)]),
    "deadline": sorting.MultiFacet([sorting.FieldFacet("deadline"), sorting.FieldFacet("award", reverse=True)]),
    "award": sorting.MultiFacet([sorting.FieldFacet("award", reverse=True), sorting.FieldFacet("deadline")]),
}


def utc_naive(value: datetime) -> datetime:
    """Whoosh stores naive datetimes: aware ones become naive UTC, naive ones are taken as UTC."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def is_set(value: object) -> bool:
    return value is not None and value != ""


def range_query(name: str, low, high) -> Query:
    """Inclusive range on award (integers) or a datetime field; None is open-ended."""
    if name == "award":
        if any(isinstance(v, bool) or not isinstance(v, int | None) for v in (low, high)):
            raise ValueError(f"award bounds must be integers (minor units), got {low!r}, {high!r}")
        return NumericRange("award", low, high)
    if any(not isinstance(v, datetime | None) for v in (low, high)):
        raise ValueError(f"{name} bounds must be datetimes, got {low!r}, {high!r}")
    return DateRange(name, low and utc_naive(low), high and utc_naive(high))


def filter_query(filters: Mapping[str, object] | None, facets: Collection[str], *,
                 skip: Iterable[str] = ()) -> Query | None:
    """The query for `filters`, None when nothing is filtered.

    facet name -> a value or a list of values (any of); min_award/max_award,
    deadline_after/deadline_before, published_after/published_before ->
    inclusive bounds. None and "" values are ignored; an empty list matches
    nothing. An unknown key is a programming error (ValueError).
    """
    skip = set(skip)
    parts: list[Query] = []
    bounds: dict[str, dict[str, object]] = {}
    for key, value in (filters or {}).items():
        if not is_set(value) or key in skip:
            continue
        if key in facets:
            values = [value] if isinstance(value, str | int) else [v for v in value if is_set(v)]
            parts.append(Or([Term(key, str(v)) for v in values]) if values else NullQuery)
        elif key in RANGE_FILTERS:
            name, end = RANGE_FILTERS[key]
            bounds.setdefault(name, {})[end] = value
        else:
            raise ValueError(f"unknown search filter {key!r}")
    parts.extend(range_query(name, ends.get("low"), ends.get("high")) for name, ends in bounds.items())
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else And(parts)


def restricted(query: Query, filtering: Query | None) -> Query:
    """`query` limited to the documents matching `filtering`, scored by `query` alone.

    (Not Whoosh's ``filter=`` argument: with a filter matching nothing, its
    result count wrongly includes every match of the query.)
    """
    if filtering is None:
        return query
    if isinstance(query, Every):
        return filtering
    return Require(query, filtering)


def _word_query(word: str) -> Query:
    alternatives: list[Query] = [Term("text", word), Term("title", word, boost=TITLE_BOOST)]
    parts = analysis.word_parts(word)
    if parts:
        alternatives.append(And([Term("text", part) for part in parts]))
    return Or(alternatives)


def text_queries(text: str) -> tuple[Query, Query | None] | None:
    """(every word, any word) for user text; None when it has no searchable word.

    The second is None for a single word (nothing to relax).
    """
    words = analysis.query_words(text[:MAX_QUERY_CHARS])[:MAX_QUERY_WORDS]
    if not words:
        return None
    groups = [_word_query(word) for word in words]
    if len(groups) == 1:
        return groups[0], None
    # scale: documents with more of the words rank higher.
    return And(groups), Or(groups, scale=0.9)
