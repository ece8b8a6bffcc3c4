"""Splitting an award among proposals in integer minor units, with no cent lost or invented.

Rounding each share on its own can make the parts add up to one cent more or less than the amount awarded. The
largest-remainder (Hamilton) method floors every exact share, then hands the missing units one each to the shares
with the largest fractional remainders, so the parts always add up to the rounded total.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

HUNDRED = Decimal(100)


def _decimal(value: Decimal | int | str) -> Decimal:
    if isinstance(value, float):
        raise TypeError("share percentages must be Decimal, int or str, never float")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError("share percentages must be finite")
    return result


def split_award(total_minor: int, shares_pct: Sequence[Decimal | int | str]) -> list[int]:
    """Amounts in minor units for each share percentage of ``total_minor``.

    The shares may add up to less than 100 (a partial award); the amounts then add up exactly to
    ``round_half_up(total_minor * sum(shares) / 100)``. Ties between equal remainders go to the larger share, then
    to the earlier one, so the same input always gives the same split.
    """
    if isinstance(total_minor, bool) or not isinstance(total_minor, int) or total_minor < 0:
        raise ValueError("the total must be a non-negative integer number of minor units")
    shares = [_decimal(s) for s in shares_pct]
    if any(s < 0 for s in shares):
        raise ValueError("share percentages must not be negative")
    if sum(shares, Decimal(0)) > HUNDRED:
        raise ValueError("share percentages add up to more than 100")
    if not shares:
        return []

    # Fractions keep every product exact, whatever the Decimal context precision and the number of digits.
    exact = [Fraction(total_minor) * Fraction(s) / 100 for s in shares]
    target = math.floor(sum(exact, Fraction(0)) + Fraction(1, 2))  # round half up
    floors = [math.floor(e) for e in exact]
    missing = target - sum(floors)
    # 0 <= missing <= len(shares): the floors lose less than one unit each, and rounding the total adds at most 0.5.
    order = sorted(range(len(shares)), key=lambda i: (-(exact[i] - floors[i]), -shares[i], i))
    amounts = floors[:]
    for i in order[:missing]:
        amounts[i] += 1
    return amounts
