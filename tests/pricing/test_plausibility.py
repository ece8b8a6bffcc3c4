"""Money input plausibility: FX rate and benchmark bounds, per-currency rate fallback, no zero award."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.pricing.models import BenchmarkRate, FxRate
from tests.factories import FX, RATES, challenge_body
from tests.helpers import rows, text_of


@pytest.fixture
def admin(make_user, api_token):
    return api_token(make_user(roles=[("admin", None)]))


@pytest.fixture
def rates(client, admin):
    assert client.put("/api/v1/benchmark-rates", json=RATES, headers=admin).status_code == 200
    assert client.put("/api/v1/fx-rates", json=FX, headers=admin).status_code == 200


def quote(client, currency="CNY", field="semiconductors"):
    return client.get(f"/api/v1/award-quote?challenge_type=rtp&field={field}&currency={currency}&premium_pct=15")


@pytest.mark.parametrize("rate", ["1e308", 1e308, "0.000000001", "0.0000001", "1000000.01", "7.123456789"])
def test_implausible_fx_rates_are_422_with_the_bounds_and_nothing_is_stored(app, client, admin, rate):
    body = {"base": "USD", "as_of": "2027-01-01", "rates": {"CNY": "7.10", "EUR": rate}}
    response = client.put("/api/v1/fx-rates", json=body, headers=admin)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert "between 0.000001 and 1,000,000 units per one USD" in problem["detail"]
    assert list(problem["errors"]) == ["rates.EUR"]
    assert rows(app, FxRate) == 0


def test_fx_rates_at_the_bounds_are_stored_exactly(app, client, admin):
    body = {"base": "USD", "as_of": "2027-01-01",
            "rates": {"IRR": "1000000", "KWD": "0.000001", "EUR": "0.92000000000"}}
    response = client.put("/api/v1/fx-rates", json=body, headers=admin)
    assert response.status_code == 200
    with app.app_context():
        stored = {r.currency: r.rate for r in db.session.scalars(select(FxRate))}
    assert stored["KWD"] > 0 and format(stored["KWD"].normalize(), "f") == "0.000001"
    assert stored["IRR"] == 1_000_000


@pytest.mark.parametrize(("amount", "message"), [
    ("0.00", "more than zero"),
    ("10000000001.00", "at most 10000000000.00 USD"),
])
def test_implausible_benchmark_amounts_are_422(app, client, admin, amount, message):
    body = {"rates": [{"country": "US", "challenge_type": "rtp", "field": "semiconductors",
                       "amount": {"amount": amount, "currency": "USD"}}]}
    response = client.put("/api/v1/benchmark-rates", json=body, headers=admin)
    assert response.status_code == 422
    assert message in response.get_json()["errors"]["rates.0.amount"][0]
    assert rows(app, BenchmarkRate) == 0


def test_a_new_rate_for_one_currency_does_not_hide_the_others(client, admin, rates):
    assert quote(client).get_json()["award"] == {"amount": "413417.72", "currency": "CNY"}
    newer = {"base": "USD", "as_of": "2027-02-01", "rates": {"GBP": "0.70"}}
    assert client.put("/api/v1/fx-rates", json=newer, headers=admin).status_code == 200
    response = quote(client)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    # GB: 40,000 GBP / 0.70 x 7.10 (CNY still at its 1 January rate) = 405,714.29; x 1.15 = 466,571.43
    assert body["reference"] == {"country": "GB", "converted": {"amount": "405714.29", "currency": "CNY"}}
    assert body["award"] == {"amount": "466571.43", "currency": "CNY"}
    assert body["fx_as_of"] == "2027-01-01"  # the oldest rate the quote used


@pytest.fixture
def tiny_benchmarks(client, admin, rates):
    tiny = {"rates": [{"country": c, "challenge_type": "rtp", "field": "tiny", "amount": {"amount": "0.01",
                                                                                       "currency": "USD"}}
                      for c in ("US", "GB", "DE")]}
    assert client.put("/api/v1/benchmark-rates", json=tiny, headers=admin).status_code == 200
    fx = {"base": "USD", "as_of": "2027-01-01", "rates": {**FX["rates"], "BHD": "0.001"}}
    assert client.put("/api/v1/fx-rates", json=fx, headers=admin).status_code == 200


def test_an_award_that_rounds_to_zero_is_refused_in_the_api(client, tiny_benchmarks):
    response = quote(client, currency="BHD", field="tiny")
    assert response.status_code == 422
    assert "would round to zero BHD" in response.get_json()["detail"]


def test_a_challenge_whose_award_rounds_to_zero_is_not_created(app, client, make_org, make_user, api_token,
                                                              tiny_benchmarks):
    from marketplace.challenges.models import Challenge

    org = make_org("sh-zero")
    manager = api_token(make_user(roles=[("center_manager", org)]))
    body = challenge_body("sh-zero", award_currency="BHD", field="tiny")
    response = client.post("/api/v1/challenges", json=body, headers=manager)
    assert response.status_code == 422
    assert "would round to zero" in response.get_json()["detail"]
    assert rows(app, Challenge) == 0


def test_the_quote_page_says_why_an_award_rounding_to_zero_is_refused(client, tiny_benchmarks):
    page = client.get("/award-quote?challenge_type=rtp&field=tiny&currency=BHD&premium_pct=15&lang=en")
    assert "would round to zero BHD" in text_of(page)
