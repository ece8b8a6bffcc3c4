"""The country rule both proposals and payouts ask (marketplace/eligibility.py), without a database."""

from __future__ import annotations

from types import SimpleNamespace

from flask import Flask
from flask_babel import Babel

from marketplace.eligibility import (
    EXCLUDED,
    SANCTIONED,
    CountryRefusal,
    country_refusals,
    participation_problem,
    payout_refusal,
)


def test_refusals_come_country_by_country_sanctions_first():
    found = country_refusals(["KP", None, "BR"], excluded=["kp", "br"], sanctioned={"KP"})
    assert found == [CountryRefusal(EXCLUDED, "BR"), CountryRefusal(SANCTIONED, "KP"), CountryRefusal(EXCLUDED, "KP")]
    assert country_refusals([None, "DE"], excluded=[], sanctioned={"KP"}) == []


def _app(sanctioned):
    app = Flask(__name__)
    app.config["SANCTIONED_COUNTRIES"] = sanctioned
    Babel(app)
    return app


def test_a_solver_is_told_the_centers_exclusion_first_and_a_payee_the_sanctions_first():
    challenge = SimpleNamespace(excluded_countries=["KP"])
    with _app(["KP", "IR"]).test_request_context():
        assert "excluded by the center" in participation_problem(challenge, SimpleNamespace(country="KP"))
        assert "sanctions list" in participation_problem(challenge, SimpleNamespace(country="IR"))
        assert participation_problem(challenge, SimpleNamespace(country="DE")) is None
        assert participation_problem(challenge, SimpleNamespace()) is None  # a visitor has no country
        assert payout_refusal(["KP"], ["KP"]) == CountryRefusal(SANCTIONED, "KP")
        assert payout_refusal(["DE", "BR"], ["BR"]) == CountryRefusal(EXCLUDED, "BR")
        assert payout_refusal(["DE", None], []) is None
