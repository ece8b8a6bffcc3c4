"""Builders for challenge tests that drive the real services (no HTTP, no shortcuts into the tables).

    pricing_rates                       benchmark rates and FX rates, so awards can be quoted
    challenge_factory(org, manager, *, status="open", **overrides) -> Challenge
    challenge_factory.officers(org)     -> (security officer, finance officer) of `org`

`challenge_factory` walks the workflow a center follows: create (draft) -> request clearance ->
approve by a separate security officer -> bank receipt by a finance officer -> publish. It stops
at `status`. Other test packages import these fixtures from here (see tests/programs/conftest.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from marketplace.extensions import db

FIELDS = ("semiconductors", "sensors", "materials")
CHALLENGE_TYPES = ("ideation", "theoretical", "rtp", "erfp")
# The going rate per reference country, in its own currency (the same for every type and field).
BENCHMARKS = (("US", "50000.00", "USD"), ("GB", "40000.00", "GBP"), ("DE", "45000.00", "EUR"))
FX_AS_OF = date(2027, 1, 1)
FX_RATES = {"CNY": "7.1000", "EUR": "0.9200", "GBP": "0.7900", "JPY": "150.00"}  # per USD

# What the factory walks through, in order; each status is reached after the step of the same name.
WORKFLOW = ("draft", "in_clearance", "cleared", "funded", "open")


@pytest.fixture
def pricing_rates(app, make_user):
    """Set benchmark rates (US, GB, DE x every challenge type x FIELDS) and USD-based FX rates.

    Returns the admin who set them.
    """
    from marketplace.money import Money
    from marketplace.pricing import services as pricing

    admin = make_user(roles=[("admin", None)])
    with app.test_request_context():
        rates = [{"country": country, "challenge_type": kind, "field": field,
                  "amount": Money.from_decimal(Decimal(amount), currency)}
                 for field in FIELDS for kind in CHALLENGE_TYPES for country, amount, currency in BENCHMARKS]
        pricing.replace_benchmark_rates(rates, actor=admin)
        pricing.set_fx_rates(base="USD", as_of=FX_AS_OF, rates={k: Decimal(v) for k, v in FX_RATES.items()},
                             actor=admin)
        db.session.commit()
    return admin


def challenge_data(**overrides) -> dict:
    """A valid create_challenge payload (English and Chinese), with `overrides` applied.

    When `title` is overridden, the default summary, description and criteria names keep only
    the title's languages, so `title={"en": "..."}` alone gives an English-only challenge.
    """
    data = {
        "default_locale": "en",
        "title": {"en": "Low-noise readout circuit for wafer defect sensors",
                  "zh_Hans": "用于晶圆缺陷检测的低噪声读出电路"},
        "summary": {"en": "Design a readout chain below 2 nV/√Hz.", "zh_Hans": "设计噪声低于 2 nV/√Hz 的读出链路。"},
        "description": {"en": "## Background\n\nThe full technical description.", "zh_Hans": "完整技术描述。"},
        "challenge_type": "rtp",
        "field": "semiconductors",
        "deadline": datetime.now(UTC) + timedelta(days=30),
        "award_currency": "CNY",
        "premium_pct": Decimal("15"),
        "criteria": [{"name": {"en": "Noise performance", "zh_Hans": "噪声性能"}, "weight": 60},
                     {"name": {"en": "Manufacturability", "zh_Hans": "可制造性"}, "weight": 40}],
        "eligibility": {"excluded_countries": ["KP"]},
        "seeker_anonymous": False,
    }
    data.update(overrides)
    if "title" in overrides:
        locales = set(overrides["title"])
        for name in ("summary", "description"):
            if name not in overrides:
                data[name] = {k: v for k, v in data[name].items() if k in locales} or {
                    data["default_locale"]: next(iter(data[name].values()))}
        if "criteria" not in overrides:
            data["criteria"] = [{**c, "name": {k: v for k, v in c["name"].items() if k in locales} or {
                data["default_locale"]: next(iter(c["name"].values()))}} for c in data["criteria"]]
    return data


class ChallengeFactory:
    """Create challenges through the services and move them along the real workflow."""

    def __init__(self, app, make_user):
        self.app = app
        self.make_user = make_user
        self._officers: dict[int, tuple] = {}

    def officers(self, org):
        """The security officer and the finance officer of `org` (created on first use)."""
        if org.id not in self._officers:
            self._officers[org.id] = (self.make_user(roles=[("security_officer", org)]),
                                      self.make_user(roles=[("finance_officer", org)]))
        return self._officers[org.id]

    def __call__(self, org, manager, *, status: str = "open", **overrides):
        """A challenge of `org` authored by `manager`, in `status`.

        status: draft, in_clearance, cleared, funded (cleared and funded), open, closed or cancelled.
        overrides: any create_challenge field (title={...}, deadline=..., award_currency=..., ...).
        """
        from marketplace.accounts.models import Organization, User
        from marketplace.challenges import funding, indexing, services
        from marketplace.challenges.models import Challenge

        target = {"closed": "open", "cancelled": "draft"}.get(status, status)
        if target not in WORKFLOW:
            raise ValueError(f"challenge_factory cannot reach {status!r}")
        officer, finance = self.officers(org)
        with self.app.test_request_context():
            org_row, author = db.session.get(Organization, org.id), db.session.get(User, manager.id)
            challenge = services.create_challenge(org_row, author, challenge_data(**overrides))
            steps = WORKFLOW[1: WORKFLOW.index(target) + 1]
            for step in steps:
                if step == "in_clearance":
                    services.request_clearance(challenge, author)
                elif step == "cleared":
                    services.decide_clearance(challenge, db.session.get(User, officer.id), decision="approve",
                                              note="Unclassified; fine to publish.")
                elif step == "funded":
                    funding.record_receipt(challenge, db.session.get(User, finance.id),
                                           reference=f"BOC-{challenge.id}", amount=challenge.award,
                                           received_on=date.today())
                elif step == "open":
                    services.publish(challenge, author)
            if status == "closed":
                services.close(challenge, author)
            elif status == "cancelled":
                services.cancel(challenge, author, reason="Superseded by another challenge.")
            db.session.commit()
            indexing.flush_scheduled()  # no request ends here, so index what the commit scheduled now
            challenge_id = challenge.id
        with self.app.app_context():
            return db.session.get(Challenge, challenge_id)


@pytest.fixture
def challenge_factory(app, make_user, pricing_rates):
    """challenge_factory(org, manager, *, status="open", **overrides) -> Challenge (see ChallengeFactory)."""
    return ChallengeFactory(app, make_user)


@pytest.fixture
def browser(app):
    """browser(user=None) -> a fresh test client, signed in as `user` through the real login form."""
    from tests.conftest import TEST_PASSWORD
    from tests.helpers import csrf_token_from

    def open_browser(user=None):
        client = app.test_client()
        if user is not None:
            token = csrf_token_from(client.get("/auth/login"))
            response = client.post("/auth/login", data={"email": user.email, "password": TEST_PASSWORD,
                                                        "csrf_token": token})
            assert response.status_code == 302, response.data
        return client

    return open_browser
