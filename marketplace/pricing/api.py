from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint

from marketplace.accounts.schemas import rule
from marketplace.api import login_required_api, problem
from marketplace.countries import country_problems
from marketplace.extensions import db
from marketplace.money import CurrencyField, Money, MoneyField
from marketplace.permissions import Role
from marketplace.pricing import services

blp = Blueprint("pricing_api", __name__, url_prefix="/api/v1", description="Award policy")


class BenchmarkRateIn(ma.Schema):
    country = ma.fields.String(required=True, validate=rule(country_problems))
    challenge_type = ma.fields.String(required=True, validate=ma.validate.OneOf(services.CHALLENGE_TYPES))
    field = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=60))
    amount = MoneyField(required=True)


class BenchmarkRatesIn(ma.Schema):
    rates = ma.fields.List(ma.fields.Nested(BenchmarkRateIn), required=True,
                           validate=ma.validate.Length(min=1, max=1000))


class BenchmarkRateOut(ma.Schema):
    country = ma.fields.String()
    challenge_type = ma.fields.String()
    field = ma.fields.String()
    amount = ma.fields.Function(lambda row: Money(row.amount_minor, row.currency).as_dict())


class FxRatesIn(ma.Schema):
    base = CurrencyField(required=True)
    as_of = ma.fields.Date(required=True)
    rates = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Decimal(allow_nan=False), required=True,
                           validate=ma.validate.Length(min=1, max=300))


class QuoteArgs(ma.Schema):
    challenge_type = ma.fields.String(required=True, validate=ma.validate.OneOf(services.CHALLENGE_TYPES))
    field = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=60))
    currency = CurrencyField(required=True)
    premium_pct = ma.fields.Decimal(required=True, allow_nan=False)


def _admin_only():
    if not current_user.has_role(Role.ADMIN):
        return problem(403, "Forbidden", str(_l("Only platform administrators can do this.")))
    return None


@blp.put("/benchmark-rates")
@blp.arguments(BenchmarkRatesIn)
@login_required_api
def put_benchmark_rates(data):
    if refusal := _admin_only():
        return refusal
    rows = services.replace_benchmark_rates(data["rates"], actor=current_user)
    db.session.commit()
    return {"rates": BenchmarkRateOut(many=True).dump(rows)}


@blp.put("/fx-rates")
@blp.arguments(FxRatesIn)
@login_required_api
def put_fx_rates(data):
    if refusal := _admin_only():
        return refusal
    rows = services.set_fx_rates(base=data["base"], as_of=data["as_of"], rates=data["rates"], actor=current_user)
    db.session.commit()
    return {"base": data["base"], "as_of": data["as_of"].isoformat(), "rates": {r.currency: str(r.rate) for r in rows}}


@blp.get("/award-quote")
@blp.arguments(QuoteArgs, location="query")
def award_quote(args):
    return services.quote(**args).as_dict()
