"""Benchmark and FX rates, and the award quote rule of the contract."""

from __future__ import annotations

import pytest

from tests.helpers import rows

RATES = {
    "rates": [
        {
            "country": "US",
            "challenge_type": "rtp",
            "field": "semiconductors",
            "amount": {"amount": "50000.00", "currency": "USD"},
        },
        {
            "country": "GB",
            "challenge_type": "rtp",
            "field": "semiconductors",
            "amount": {"amount": "40000.00", "currency": "GBP"},
        },
        {
            "country": "DE",
            "challenge_type": "rtp",
            "field": "semiconductors",
            "amount": {"amount": "45000.00", "currency": "EUR"},
        },
    ]
}
FX = {
    "base": "USD",
    "as_of": "2027-01-01",
    "rates": {"CNY": "7.1000", "EUR": "0.9200", "GBP": "0.7900", "JPY": "150.00"},
}


@pytest.fixture
def admin_headers(make_user, api_token):
    return api_token(make_user(roles=[("admin", None)]))


@pytest.fixture
def rates(client, admin_headers):
    assert client.put("/api/v1/benchmark-rates", json=RATES, headers=admin_headers).status_code == 200
    assert client.put("/api/v1/fx-rates", json=FX, headers=admin_headers).status_code == 200


def quote(client, **params):
    query = {"challenge_type": "rtp", "field": "semiconductors", "currency": "CNY", "premium_pct": "15", **params}
    return client.get("/api/v1/award-quote", query_string=query)


def test_quote_follows_the_contract_rule(client, rates):
    body = quote(client).get_json()
    converted = {b["country"]: b["converted"]["amount"] for b in body["benchmarks"]}
    # 50000 USD x 7.1; 40000 GBP / 0.79 x 7.1; 45000 EUR / 0.92 x 7.1 (half-up to fen)
    assert converted == {"US": "355000.00", "GB": "359493.67", "DE": "347282.61"}
    assert body["reference"] == {"country": "GB", "converted": {"amount": "359493.67", "currency": "CNY"}}
    assert body["premium_pct"] == "15"
    # 359493.67 x 1.15 = 413417.7205 -> 413417.72
    assert body["award"] == {"amount": "413417.72", "currency": "CNY"}


def test_quote_in_yen_has_no_minor_digits(client, rates):
    body = quote(client, currency="JPY", premium_pct="10").get_json()
    assert body["award"]["amount"].isdigit()
    # GB: 40000 / 0.79 x 150 = 7594936.7088 -> 7594937; x 1.10 = 8354430.7 -> 8354431
    assert body["award"] == {"amount": "8354431", "currency": "JPY"}


@pytest.mark.parametrize("premium", ["9.99", "20.01", "-5", "abc", "NaN"])
def test_premium_outside_policy_is_422(client, rates, premium):
    response = quote(client, premium_pct=premium)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"


def test_missing_benchmark_is_422_naming_it(client, rates):
    response = quote(client, field="photonics")
    assert response.status_code == 422
    assert "US" in response.get_json()["detail"] and "photonics" in response.get_json()["detail"]


def test_missing_fx_rate_is_422(client, rates):
    response = quote(client, currency="CHF")
    assert response.status_code == 422
    assert "CHF" in response.get_json()["detail"]


def test_only_admins_set_rates(app, client, make_user, api_token):
    solver = api_token(make_user())
    assert client.put("/api/v1/benchmark-rates", json=RATES, headers=solver).status_code == 403
    assert client.put("/api/v1/fx-rates", json=FX, headers=solver).status_code == 403
    assert rows(app, "benchmark_rates") == 0 and rows(app, "fx_rates") == 0


def test_bad_rates_are_refused(app, client, admin_headers):
    bad_amount = {"rates": [{**RATES["rates"][0], "amount": {"amount": "1.234", "currency": "USD"}}]}
    assert client.put("/api/v1/benchmark-rates", json=bad_amount, headers=admin_headers).status_code == 422
    negative_fx = {**FX, "rates": {"CNY": "-1"}}
    assert client.put("/api/v1/fx-rates", json=negative_fx, headers=admin_headers).status_code == 422
    unknown_type = {"rates": [{**RATES["rates"][0], "challenge_type": "magic"}]}
    assert client.put("/api/v1/benchmark-rates", json=unknown_type, headers=admin_headers).status_code == 422
    assert rows(app, "benchmark_rates") == 0 and rows(app, "fx_rates") == 0


def test_newer_fx_rates_are_used(client, rates, admin_headers):
    newer = {"base": "USD", "as_of": "2027-02-01", "rates": {"CNY": "7.2000", "EUR": "0.9200", "GBP": "0.7900"}}
    assert client.put("/api/v1/fx-rates", json=newer, headers=admin_headers).status_code == 200
    body = quote(client).get_json()
    assert body["fx_as_of"] == "2027-02-01"
    assert {b["country"]: b["converted"]["amount"] for b in body["benchmarks"]}["US"] == "360000.00"


def test_quote_page_shows_benchmarks_side_by_side(client, rates):
    page = client.get(
        "/award-quote",
        query_string={"challenge_type": "rtp", "field": "semiconductors", "currency": "CNY", "premium_pct": "15"},
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "413,417.72" in html and "<svg" in html and 'role="img"' in html
