"""Award quotes: the highest converted benchmark among the reference countries, plus the premium.

    reference = max(convert(benchmark[c]) for c in reference countries)
    award     = reference x (1 + premium_pct / 100), rounded half-up to the currency's minor unit

A missing benchmark or FX rate is an error that names what is missing: never a guess.

Plausibility (defaults below, 422 with a message otherwise): an FX rate lies between
FX_RATE_MIN and FX_RATE_MAX units per one unit of its base with at most 8 decimal places (the
column's scale), a benchmark amount is positive and at most MAX_BENCHMARK_MINOR minor units, and
an award that rounds to zero (or passes MAX_MINOR) is refused. Each currency converts at ITS
latest known rate against the newest base: a new rate table that names only some currencies
does not hide the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, func, select

from marketplace.audit.services import record
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.money import MAX_MINOR, Money, is_currency
from marketplace.pricing.models import BenchmarkRate, FxRate

CHALLENGE_TYPES = ("ideation", "theoretical", "rtp", "erfp")
DEFAULT_REFERENCE_COUNTRIES = ("US", "GB", "DE")
FX_RATE_MIN = Decimal("0.000001")
FX_RATE_MAX = Decimal("1000000")
FX_RATE_PLACES = 8  # fx_rates.rate is NUMERIC(20, 8): more places would be rounded away, to 0 at worst
MAX_BENCHMARK_MINOR = 10**12  # ten thousand million in a two-digit currency


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


# --- plausibility ----------------------------------------------------------------------------


def fx_rate_plausible(rate: Decimal) -> bool:
    """Within the bounds and storable exactly (no digits beyond the column's scale)."""
    if not rate.is_finite() or not FX_RATE_MIN <= rate <= FX_RATE_MAX:
        return False
    return rate.normalize().as_tuple().exponent >= -FX_RATE_PLACES


def fx_rate_problem(base: str):
    return _l("Each rate must lie between %(low)s and %(high)s units per one %(base)s, with at most "
              "%(places)s decimal places.", low=format(FX_RATE_MIN, "f"), high=f"{FX_RATE_MAX:,}", base=base,
              places=FX_RATE_PLACES)


def check_benchmark_amount(money: Money, *, field: str) -> None:
    if not 0 < money.minor <= MAX_BENCHMARK_MINOR:
        limit = Money(MAX_BENCHMARK_MINOR, money.currency).as_dict()["amount"]
        message = _l("A benchmark amount must be more than zero and at most %(limit)s %(currency)s.",
                     limit=limit, currency=money.currency)
        raise ValidationFailed(message, errors={field: [message]})


def check_award(award: Money) -> Money:
    """An award must be a real amount: refused when it rounds to zero or passes what we can hold."""
    if award.minor <= 0:
        message = _l("The award would round to zero %(currency)s: check the benchmark and exchange rates.",
                     currency=award.currency)
        raise ValidationFailed(message, errors={"award": [message]})
    if award.minor > MAX_MINOR:
        message = _l("The award would be implausibly large: check the benchmark and exchange rates.")
        raise ValidationFailed(message, errors={"award": [message]})
    return award


# --- rates -----------------------------------------------------------------------------------


def replace_benchmark_rates(rates: list[dict], *, actor) -> list[BenchmarkRate]:
    """Set the given rates (upsert by country, type and field); others stay as they are."""
    saved = []
    for index, rate in enumerate(rates):
        money: Money = rate["amount"]
        check_benchmark_amount(money, field=f"rates.{index}.amount")
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
    implausible = {f"rates.{code}": [fx_rate_problem(base)] for code, rate in sorted(rates.items())
                   if not fx_rate_plausible(rate)}
    if implausible:
        raise ValidationFailed(fx_rate_problem(base), errors=implausible)
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


def _latest_fx() -> tuple[str | None, dict[str, date], dict[str, Decimal]]:
    """(base, as_of per currency, rate per currency): each currency at its latest rate against the newest base."""
    newest = db.session.scalars(select(FxRate).order_by(FxRate.as_of.desc(), FxRate.id.desc()).limit(1)).first()
    if newest is None:
        return None, {}, {}
    base = newest.base
    latest = (select(FxRate.currency, func.max(FxRate.as_of).label("as_of"))
              .where(FxRate.base == base).group_by(FxRate.currency).subquery())
    rows = db.session.scalars(select(FxRate).join(
        latest, and_(FxRate.currency == latest.c.currency, FxRate.as_of == latest.c.as_of)).where(FxRate.base == base))
    table, dates = {}, {}
    for row in rows:
        if row.rate > 0:  # a rate stored as 0 before rates were bounded is no rate at all
            table[row.currency], dates[row.currency] = row.rate, row.as_of
    table[base] = Decimal(1)
    return base, dates, table


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
    _base, _dates, table = _latest_fx()
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
    _base, dates, table = _latest_fx()
    benchmarks = []
    for country in countries:
        original = Money(rows[country].amount_minor, rows[country].currency)
        benchmarks.append(Benchmark(country, original, convert(original, currency, table)))
    reference = max(benchmarks, key=lambda b: (b.converted.minor, -countries.index(b.country)))
    award = check_award(Money.from_decimal(reference.converted.amount * (1 + premium_pct / 100), currency))
    used = {b.amount.currency for b in benchmarks} | {currency}
    as_of = min((dates[code] for code in used if code in dates), default=max(dates.values(), default=None))
    return Quote(benchmarks, reference, premium_pct, award, as_of)


def known_fields() -> list[str]:
    return list(db.session.scalars(select(BenchmarkRate.field).distinct().order_by(BenchmarkRate.field)))
