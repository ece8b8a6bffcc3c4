"""Money parsing and formatting: exact decimals, the currency's minor digits, never a float."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.errors import ValidationFailed
from marketplace.money import Money, parse_money


@pytest.mark.parametrize(("given", "minor"), [
    ({"amount": "1234.50", "currency": "USD"}, 123450),
    ({"amount": "1234.5", "currency": "EUR"}, 123450),
    ({"amount": "150000", "currency": "JPY"}, 150000),
    ({"amount": 42, "currency": "CNY"}, 4200),
    ({"amount": "0.001", "currency": "BHD"}, 1),  # three minor digits
])
def test_parse_money(given, minor):
    assert parse_money(given).minor == minor


@pytest.mark.parametrize("bad", [
    {"amount": "12.345", "currency": "USD"},
    {"amount": "1.5", "currency": "JPY"},
    {"amount": "-1", "currency": "USD"},
    {"amount": "NaN", "currency": "USD"},
    {"amount": "Infinity", "currency": "USD"},
    {"amount": "1e40", "currency": "USD"},
    {"amount": 1.5, "currency": "USD"},
    {"amount": True, "currency": "USD"},
    {"amount": "12", "currency": "usd"},
    {"amount": "12", "currency": "XYZ"},
    {"amount": "twelve", "currency": "USD"},
    "12 USD",
])
def test_bad_money_is_a_validation_error(bad):
    with pytest.raises(ValidationFailed):
        parse_money(bad)


def test_as_dict_has_exactly_the_minor_digits():
    assert Money(123450, "USD").as_dict() == {"amount": "1234.50", "currency": "USD"}
    assert Money(150000, "JPY").as_dict() == {"amount": "150000", "currency": "JPY"}
    assert Money(5, "EUR").as_dict() == {"amount": "0.05", "currency": "EUR"}


def test_from_decimal_rounds_half_up():
    assert Money.from_decimal(Decimal("0.005"), "USD").minor == 1
    assert Money.from_decimal(Decimal("0.0049"), "USD").minor == 0
    assert Money.from_decimal(Decimal("2.5"), "JPY").minor == 3


@given(st.integers(min_value=0, max_value=10**14), st.sampled_from(["USD", "EUR", "JPY", "CNY", "GBP", "KWD"]))
def test_round_trip(minor, currency):
    money = Money(minor, currency)
    assert parse_money(money.as_dict()) == money
