"""What user text searches for (``word_plan``), and the vocabulary of filters.

User text is never parsed as query syntax: quotes, colons, brackets, ``AND``
and ``OR`` are characters like any other, dropped or kept by the analyzer.
Each analysed word matches the body or (boosted) the title or, for a Chinese
word, the parts it may have been segmented into in a document (see
``analysis.word_parts``). Words are combined with AND for precision; the
engine falls back to OR when AND finds nothing. The Whoosh backend matches
and ranks the plan itself (``ranking``); ``text_queries`` states the same as
Whoosh queries, the reference its scores are checked against.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from whoosh.query import And, Or, Query, Term

from marketplace.search import analysis

MAX_QUERY_CHARS = 500  # longer input is cut: a query is a few words
MAX_QUERY_WORDS = 24
TITLE_BOOST = 3.0

# filter key -> (field, which end of the inclusive range it sets)
RANGE_FILTERS = {
    "min_award": ("award", "low"),
    "max_award": ("award", "high"),
    "deadline_after": ("deadline", "low"),
    "deadline_before": ("deadline", "high"),
    "published_after": ("published", "low"),
    "published_before": ("published", "high"),
}
RANGE_FIELDS = frozenset(name for name, _ in RANGE_FILTERS.values())
_EPOCH = datetime(1970, 1, 1)


def utc_naive(value: datetime) -> datetime:
    """Whoosh stores naive datetimes: aware ones become naive UTC, naive ones are taken as UTC."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def timestamp(value: datetime) -> int:
    """Microseconds since 1970 (UTC), as the index stores dates."""
    return (utc_naive(value) - _EPOCH) // timedelta(microseconds=1)


def is_set(value: object) -> bool:
    """Filter and facet values of None or "" mean "not given"."""
    return value is not None and value != ""


# The words of a query and, for a Chinese word, the parts that may stand for it (see _word_query).
WordPlan = list[tuple[str, tuple[str, ...]]]


def word_plan(text: str) -> WordPlan | None:
    """The analysed words of user text with their parts; None when it has no searchable word.

    Every backend matches from this: a word matches the body, the title or all of its parts.
    """
    words = analysis.query_words(text[:MAX_QUERY_CHARS])[:MAX_QUERY_WORDS]
    if not words:
        return None
    return [(word, analysis.word_parts(word)) for word in words]


def _word_query(word: str, parts: tuple[str, ...]) -> Query:
    alternatives: list[Query] = [Term("text", word), Term("title", word, boost=TITLE_BOOST)]
    if parts:
        alternatives.append(And([Term("text", part) for part in parts]))
    return Or(alternatives)


def text_queries(text: str) -> tuple[Query, Query | None] | None:
    """(every word, any word) for user text; None when it has no searchable word.

    The second is None for a single word (nothing to relax).
    """
    plan = word_plan(text)
    if plan is None:
        return None
    groups = [_word_query(word, parts) for word, parts in plan]
    if len(groups) == 1:
        return groups[0], None
    # scale: documents with more of the words rank higher.
    return And(groups), Or(groups, scale=0.9)


def checked_bound(name: str, value):
    """A range filter's bound, or ValueError: award in minor units (an int), the dates datetimes."""
    if name == "award":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"award bounds must be integers (minor units), got {value!r}")
    elif not isinstance(value, datetime):
        raise ValueError(f"{name} bounds must be datetimes, got {value!r}")
    return value
