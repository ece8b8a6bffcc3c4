"""Facet counts of the PostgreSQL search backend: every count from one pass over the matches.

A facet is counted without its own filter (a browse page shows what choosing another value would
give), so each facet counts a different set. The filters no counted facet leaves out select the
rows once (a materialised CTE of their narrow columns, found through the GIN index when there is
text); each count then applies the filters the others leave out to those rows. One statement,
one read of the table, where a statement per facet read it once per facet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from marketplace.search.models import SearchDocument
from marketplace.search.queries import RANGE_FILTERS, checked_bound, utc_naive

TABLE = SearchDocument.__table__


def own_filters(field_names: Sequence[str], ranges: Mapping[str, object]) -> dict[str, list[str]]:
    """Counted facet -> the filter keys left out when counting it."""
    own = {name: [name] for name in field_names}
    own.update((name, [key for key, (target, _) in RANGE_FILTERS.items() if target == name]) for name in ranges)
    return own


def count_facets(index, connection, tsquery: str | None, filters, field_names: Sequence[str],
                 ranges: Mapping[str, Mapping[object, tuple[object, object]]]) -> dict[str, dict]:
    """{facet: {value: count}} and {range field: {label: count}} over the rows `tsquery` and `filters`
    match (`index` is the PostgresIndex, for its conditions); absent values are not listed."""
    own = own_filters(field_names, ranges)
    skipped = {key for keys in own.values() for key in keys}
    hits = (sa.select(TABLE.c.facets, TABLE.c.award, TABLE.c.published, TABLE.c.deadline)
            .where(*index._where(tsquery, filters, skipped)).cte("hits").prefix_with("MATERIALIZED"))

    def others(name: str) -> list:  # the left-out filters that still apply when counting `name`
        rest = {key: value for key, value in (filters or {}).items() if key in skipped and key not in own[name]}
        return index._conditions(rest, as_tags=False, source=hits)[1]

    parts = []
    for name in field_names:
        value = hits.c.facets[name].as_string()
        parts.append(sa.select(sa.literal(name, sa.Text).label("facet"), value.label("value"),
                               sa.func.count().label("count"))
                     .where(value.is_not(None), *others(name)).group_by(value))
    labels: dict[tuple[str, str], object] = {}
    for name, buckets in ranges.items():
        for position, (label, (low, high)) in enumerate(buckets.items()):
            labels[name, str(position)] = label
            parts.append(sa.select(sa.literal(name, sa.Text), sa.literal(str(position), sa.Text), sa.func.count())
                         .select_from(hits).where(*others(name), *between(hits.c[name], name, low, high)))
    found: dict[str, dict] = {}
    if parts:
        for facet, value, count in connection.execute(sa.union_all(*parts)):
            found.setdefault(facet, {})[labels.get((facet, value), value)] = count
    return found


def bound(name: str, value) -> object:
    """A range filter's bound as stored: award in minor units, dates naive UTC."""
    value = checked_bound(name, value)
    return value if name == "award" else utc_naive(value)


def between(column, name: str, low, high) -> list:
    """Conditions for `low <= column <= high` (None: open-ended)."""
    return ([] if low is None else [column >= bound(name, low)]) + ([] if high is None else
                                                                    [column <= bound(name, high)])
