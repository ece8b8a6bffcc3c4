"""Award quotes: the highest converted benchmark among the reference countries, plus the premium.

    reference = max(convert(benchmark[c]) for c in reference countries)
    award     = reference x (1 + premium_pct / 100), rounded half-up to the currency's minor unit

A missing benchmark or FX rate is an error that names what is missing: never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from marketplace.audit.services import record
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.money import Money, is_currency
from marketplace.pricing.models import BenchmarkRate, FxRate

CHALLENGE_TYPES = ("ideation", "theoretical", "rtp", "erfp")
DEFAULT_REFERENCE_COUNTRIES = ("US", "GB", "DE")


@dataclass(frozen=True)
class Benchmark:
    country: str
    amount: Money
    converted: Money


@dataclass(frozen=True)
class Quote:
    benchmarks: list[Benchmark]
    reference: Benchmark
    premium_pct: Decimal
    award: Money
    fx_as_of: date | None

    def as_dict(self) -> dict:
        return {
            "benchmarks": [
                {"country": b.country, "amount": b.amount.as_dict(), "converted": b.converted.as_dict()}
                for b in self.benchmarks
            ],
            "reference": {"country": self.reference.country, "converted": self.reference.converted.as_dict()},
            "premium_pct": format(self.premium_pct.normalize(), "f"),
            "award": self.award.as_dict(),
            "fx_as_of": self.fx_as_of.isoformat() if self.fx_as_of else None,
        }


def premium_range() -> tuple[Decimal, Decimal]:
    return current_app.config["PREMIUM_RANGE"]


def reference_countries() -> tuple[str, ...]:
    return tuple(current_app.config.get("REFERENCE_COUNTRIES", DEFAULT_REFERENCE_COUNTRIES))


def check_premium(premium_pct: Decimal) -> Decimal:
    low, high = premium_range()
    if not premium_pct.is_finite() or not low <= premium_pct <= high:
        message = _l("The premium must lie between %(low)s and %(high)s percent.", low=low, high=high)
        raise ValidationFailed(message, errors={"premium_pct": [message]})
    return premium_pct


# --- rates -----------------------------------------------------------------------------------


def replace_benchmark_rates(rates: list[dict], *, actor) -> list[BenchmarkRate]:
    """Set the given rates (upsert by country, type and field); others stay as they are."""
    saved = []
    for index, rate in enumerate(rates):
        money: Money = rate["amount"]
        if rate["challenge_type"] not in CHALLENGE_TYPES:
            raise ValidationFailed(
                _l("Unknown challenge type."), errors={f"rates.{index}.challenge_type": [_l("Unknown challenge type.")]}
            )
        row = db.session.scalar(
            select(BenchmarkRate).filter_by(
                country=rate["country"], challenge_type=rate["challenge_type"], field=rate["field"]
            )
        )
        if row is None:
            row = BenchmarkRate(country=rate["country"], challenge_type=rate["challenge_type"], field=rate["field"])
            db.session.add(row)
        row.amount_minor, row.currency, row.updated_by_id = money.minor, money.currency, actor.id
        saved.append(row)
    db.session.flush()
    record(
        "pricing.benchmarks_set",
        "benchmark_rates",
        None,
        actor=actor,
        rates=[
            {
                "country": r.country,
                "type": r.challenge_type,
                "field": r.field,
                "minor": r.amount_minor,
                "currency": r.currency,
            }
            for r in saved
        ],
    )
    return saved


def set_fx_rates(*, base: str, as_of: date, rates: dict[str, Decimal], actor) -> list[FxRate]:
    if not is_currency(base):
        raise ValidationFailed(
            _l("Unknown currency."), errors={"base": [_l("Use an ISO 4217 currency code such as USD.")]}
        )
    bad = sorted(code for code, rate in rates.items() if not is_currency(code) or not rate.is_finite() or rate <= 0)
    if bad:
        raise ValidationFailed(
            _l("Each rate needs a known currency and a positive value."), errors={"rates": [", ".join(bad)]}
        )
    db.session.execute(delete(FxRate).where(FxRate.base == base, FxRate.as_of == as_of))
    rows = [FxRate(base=base, currency=code, rate=rate, as_of=as_of) for code, rate in sorted(rates.items())]
    db.session.add_all(rows)
    db.session.flush()
    record(
        "pricing.fx_set",
        "fx_rates",
        None,
        actor=actor,
        base=base,
        as_of=as_of.isoformat(),
        rates={r.currency: str(r.rate) for r in rows},
    )
    return rows


def _latest_fx() -> tuple[str | None, date | None, dict[str, Decimal]]:
    as_of = db.session.scalar(select(func.max(FxRate.as_of)))
    if as_of is None:
        return None, None, {}
    rows = db.session.scalars(select(FxRate).where(FxRate.as_of == as_of)).all()
    base = rows[0].base
    table = {row.currency: row.rate for row in rows if row.base == base}
    table[base] = Decimal(1)
    return base, as_of, table


def convert(amount: Money, currency: str, table: dict[str, Decimal]) -> Money:
    if amount.currency == currency:
        return amount
    missing = [code for code in (amount.currency, currency) if code not in table]
    if missing:
        message = _l("No exchange rate for %(codes)s.", codes=", ".join(missing))
        raise ValidationFailed(message, errors={"currency": [message]})
    # amount / rate[from] gives base units; x rate[to] gives the target currency.
    return Money.from_decimal(amount.amount / table[amount.currency] * table[currency], currency)


def approximate(amount: Money, currency: str) -> Money | None:
    """`amount` in `currency` at the latest exchange rates, for display only; None when a rate is missing."""
    if amount.currency == currency:
        return amount
    _base, _as_of, table = _latest_fx()
    if amount.currency not in table or currency not in table:
        return None
    return convert(amount, currency, table)


def quote(*, challenge_type: str, field: str, currency: str, premium_pct: Decimal) -> Quote:
    check_premium(premium_pct)
    if challenge_type not in CHALLENGE_TYPES:
        raise ValidationFailed(
            _l("Unknown challenge type."), errors={"challenge_type": [_l("Unknown challenge type.")]}
        )
    if not is_currency(currency):
        raise ValidationFailed(
            _l("Unknown currency."), errors={"currency": [_l("Use an ISO 4217 currency code such as USD.")]}
        )
    countries = reference_countries()
    rows = {
        row.country: row
        for row in db.session.scalars(
            select(BenchmarkRate).where(
                BenchmarkRate.country.in_(countries),
                BenchmarkRate.challenge_type == challenge_type,
                BenchmarkRate.field == field,
            )
        )
    }
    missing = [c for c in countries if c not in rows]
    if missing:
        message = _l(
            "No benchmark rate for %(countries)s (type %(type)s, field %(field)s).",
            countries=", ".join(missing),
            type=challenge_type,
            field=field,
        )
        raise ValidationFailed(message, errors={"field": [message]})
    _base, as_of, table = _latest_fx()
    benchmarks = []
    for country in countries:
        original = Money(rows[country].amount_minor, rows[country].currency)
        benchmarks.append(Benchmark(country, original, convert(original, currency, table)))
    reference = max(benchmarks, key=lambda b: (b.converted.minor, -countries.index(b.country)))
    award = Money.from_decimal(reference.converted.amount * (1 + premium_pct / 100), currency)
    return Quote(benchmarks, reference, premium_pct, award, as_of)


def known_fields() -> list[str]:
    return list(db.session.scalars(select(BenchmarkRate.field).distinct().order_by(BenchmarkRate.field)))
