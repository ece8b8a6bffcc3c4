"""Award splits in minor units: exact totals, fair remainders, clear refusals."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.awards.money_split import split_award


@pytest.mark.parametrize(("total", "shares", "expected"), [
    (100_000_00, [60, 40], [60_000_00, 40_000_00]),
    (100, ["33.33", "33.33", "33.34"], [33, 33, 34]),
    (100, [Decimal(1) / 3 * 100] * 3, [34, 33, 33]),  # equal remainders: the earlier share gets the cent
    (10, [50, 25], [5, 3]),  # 7.5 in total rounds half up to 8; 2.5 has the larger remainder
    (1, [50, 50], [1, 0]),
    (99_999, ["12.345", "60"], [12_345, 59_999]),
    (0, [100], [0]),
    (5_000, [], []),
    (7, [0, 100], [0, 7]),
])
def test_examples(total, shares, expected):
    assert split_award(total, shares) == expected


def test_larger_share_wins_an_equal_remainder():
    # Both exact shares end in .5; the 30 % share outranks the 10 % share although it comes later.
    assert split_award(5, [10, 30]) == [0, 2]


@pytest.mark.parametrize(("total", "shares", "error"), [
    (100, [60, 41], ValueError),
    (100, [-1, 50], ValueError),
    (100, [0.5], TypeError),
    (-1, [50], ValueError),
    (10.0, [50], ValueError),
    (100, ["NaN"], ValueError),
])
def test_bad_input_is_refused(total, shares, error):
    with pytest.raises(error):
        split_award(total, shares)


# Shares as the gaps between sorted cut points in [0, 100]: any split of at most 100 %, no filtering needed.
shares = st.lists(st.decimals(min_value=0, max_value=100, places=3), min_size=1, max_size=8).map(
    lambda cuts: [b - a for a, b in pairwise([Decimal(0), *sorted(cuts)])])


@given(total=st.integers(0, 10**13), shares=shares)
def test_amounts_always_add_up_exactly(total, shares):
    amounts = split_award(total, shares)
    exact = [Fraction(total) * Fraction(s) / 100 for s in shares]
    assert sum(amounts) == math.floor(sum(exact) + Fraction(1, 2))  # the rounded total, not a cent more or less
    assert all(abs(a - e) < 1 for a, e in zip(amounts, exact, strict=True))  # each within one minor unit
    assert all(a >= 0 for a in amounts)
    assert split_award(total, shares) == amounts


@given(total=st.integers(0, 10**9), shares=shares)
def test_full_award_is_paid_in_full(total, shares):
    rest = Decimal(100) - sum(shares)
    assert sum(split_award(total, [*shares, rest])) == total
