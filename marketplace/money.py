"""Money: integer minor units plus an ISO 4217 code inside, `{"amount": "1234.50", "currency": "USD"}` outside.

Minor digits come from Babel (JPY has none). No float ever touches an amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import marshmallow as ma
from babel.numbers import get_currency_precision, list_currencies
from flask_babel import lazy_gettext as _l

from marketplace.errors import ValidationFailed

_KNOWN_CURRENCIES = frozenset(list_currencies())
MAX_MINOR = 10**15  # far above any award, far below BIGINT
MAX_AMOUNT = MAX_MINOR // 10**4  # MAX_MINOR in major units of any currency (Babel's largest precision is 4)


def is_currency(code: str) -> bool:
    return isinstance(code, str) and code in _KNOWN_CURRENCIES and code.isupper() and len(code) == 3


def digits(currency: str) -> int:
    return get_currency_precision(currency)


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit."""
    return amount.quantize(Decimal(1).scaleb(-digits(currency)), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Money:
    minor: int
    currency: str

    @classmethod
    def from_decimal(cls, amount: Decimal, currency: str) -> Money:
        return cls(int(quantize(amount, currency).scaleb(digits(currency))), currency)

    @property
    def amount(self) -> Decimal:
        return Decimal(self.minor).scaleb(-digits(self.currency))

    def as_dict(self) -> dict[str, str]:
        return {"amount": f"{self.amount:.{digits(self.currency)}f}", "currency": self.currency}


def parse_money(value, *, field: str = "amount") -> Money:
    """Read {"amount": "12.50", "currency": "EUR"}: exact decimals only, never more digits than the currency has."""
    if not isinstance(value, dict):
        raise ValidationFailed(
            _l("Give an amount and a currency."), errors={field: [_l("Give an amount and a currency.")]}
        )
    currency = value.get("currency")
    if not is_currency(currency):
        raise ValidationFailed(
            _l("Unknown currency."), errors={field: [_l("Use an ISO 4217 currency code such as USD.")]}
        )
    raw = value.get("amount")
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ValidationFailed(
            _l("Write the amount as a decimal string."),
            errors={field: [_l('Write the amount as a decimal string, such as "1234.50".')]},
        )
    try:
        amount = Decimal(str(raw).strip())
    except InvalidOperation as error:
        raise ValidationFailed(_l("Not a number."), errors={field: [_l("Not a number.")]}) from error
    if not amount.is_finite() or amount < 0:
        raise ValidationFailed(
            _l("The amount must be zero or more."), errors={field: [_l("The amount must be zero or more.")]}
        )
    if amount.scaleb(digits(currency)) > MAX_MINOR:
        raise ValidationFailed(_l("The amount is too large."), errors={field: [_l("The amount is too large.")]})
    if amount != amount.quantize(Decimal(1).scaleb(-digits(currency)), rounding=ROUND_HALF_UP):
        raise ValidationFailed(
            _l("Too many decimal places for %(currency)s.", currency=currency),
            errors={field: [_l("Too many decimal places for %(currency)s.", currency=currency)]},
        )
    return Money(int(amount.scaleb(digits(currency))), currency)


class MoneyField(ma.fields.Field):
    """Marshmallow field for the contract's Money object."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.as_dict()

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_money(value)
        except ValidationFailed as error:
            messages = [str(m) for msgs in error.errors.values() for m in msgs] or [str(error.detail)]
            raise ma.ValidationError(messages) from error


class CurrencyField(ma.fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        code = super()._deserialize(value, attr, data, **kwargs)
        if not is_currency(code):
            raise ma.ValidationError(str(_l("Use an ISO 4217 currency code such as USD.")))
        return code
