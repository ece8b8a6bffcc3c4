"""One home for what tests build: objects and worlds, made through the real services (no shortcuts into tables).

Fixtures (every test package gets them: tests/conftest.py exposes them; a package's own conftest may override):
    make_org(slug=None, **fields) -> Organization      make_user(email=None, *, roles=[(role, org)], ...) -> User
    api_token(user) -> bearer headers                  login(user) -> the `client`, signed in through the form
    browser(user=None, password=TEST_PASSWORD) -> a fresh client, signed in as `user` through the login form
    pricing_rates -> the admin who set benchmark and FX rates (so awards can be quoted)
    challenge_factory(org, manager, *, status="open", **overrides) -> Challenge, walked along the real workflow
    api_center(slug="sh-icc") -> Center driving the challenges API (rates set first); `center` is api_center("sh-icc")
    build_world(topics=..., close=True, reviewers=..., challenge_overrides=None) -> ReviewWorld (ids only)
    world -> OpenWorld: solvers, open challenges, proposals, awards and payouts for the openness figures
    profile_factory(user, **fields) -> `user` with an expert profile saved through the service
    s3_endpoint, s3_bucket -> an S3-compatible server on 127.0.0.1 and a fresh bucket in it

Plain builders (import them from here):
    TEST_PASSWORD, sign_in(client, user_or_email, ...), challenge_data(**overrides), utc(*parts)
    RATES, FX, challenge_body(org_slug, **changes), iso_in_days(days), Center: the challenges API's payloads
    add_pool, accept_all, assign, review_all, save_profile, token: steps of the review workflow on a ReviewWorld

Two worlds stay with the one package they serve: tests/core/matrix_world.py (the demo seed the permission matrix
walks) and tests/payments/world.py (money flows with the Stripe fakes).
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from marketplace.extensions import db
from tests.helpers import csrf_token_from

TEST_PASSWORD = "correct-horse-battery-staple"


# --- people -------------------------------------------------------------------------------------------------------

def sign_in(client, who, password: str = TEST_PASSWORD, *, next_path: str | None = None):
    """Post the real login form (CSRF token included) for `who` (a User or an e-mail); returns the response."""
    token = csrf_token_from(client.get("/auth/login"))
    return client.post("/auth/login", query_string={"next": next_path} if next_path else None,
                       data={"email": getattr(who, "email", who), "password": password, "csrf_token": token})


@pytest.fixture
def make_org(app):
    from marketplace.accounts import services

    counter = iter(range(1, 10_000))

    def make(slug: str | None = None, **kwargs):
        with app.test_request_context():
            org = services.create_organization(
                slug=slug or f"center-{next(counter)}", name=kwargs.pop("name", "Test Innovation Center"),
                country=kwargs.pop("country", "CN"), **kwargs)
            db.session.commit()
            return db.session.get(type(org), org.id)

    return make


@pytest.fixture
def make_user(app):
    """make_user(email=None, roles=[("center_manager", org)], confirmed=True, country="DE") -> User."""
    from marketplace.accounts import services

    counter = iter(range(1, 100_000))

    def make(email: str | None = None, *, roles=(), confirmed: bool = True, country: str = "DE",
             locale: str = "en", name: str | None = None):
        with app.test_request_context():
            user = services.register_user(
                email=email or f"user{next(counter)}@example.org", password=TEST_PASSWORD,
                display_name=name or "Test User", country=country, locale=locale, confirmed=confirmed)
            for role, org in roles:
                services.grant_role(user, role, db.session.merge(org) if org is not None else None)
            db.session.commit()
            user_id = user.id
        with app.app_context():
            from marketplace.accounts.models import User

            return db.session.get(User, user_id)

    return make


@pytest.fixture
def api_token(app):
    """api_token(user) -> headers dict with a fresh bearer token for that user."""

    def issue(user) -> dict[str, str]:
        from marketplace.accounts import services
        from marketplace.accounts.models import User

        with app.test_request_context():
            token, _row = services.issue_api_token(db.session.get(User, user.id))
            db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return issue


@pytest.fixture
def login(client):
    """login(user, password=TEST_PASSWORD) -> the `client`, signed in through the real login form."""

    def log_in(user, password: str = TEST_PASSWORD):
        response = sign_in(client, user, password)
        assert response.status_code == 302, response.data
        return client

    return log_in


@pytest.fixture
def browser(app):
    """browser(user=None, password=TEST_PASSWORD) -> a fresh test client, signed in as `user` through the form."""

    def open_browser(user=None, password: str = TEST_PASSWORD):
        client = app.test_client()
        if user is not None:
            response = sign_in(client, user, password)
            assert response.status_code == 302, response.data
        return client

    return open_browser


# --- challenges ---------------------------------------------------------------------------------------------------

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
        from marketplace.challenges import indexing, services
        from marketplace.challenges.models import Challenge
        from marketplace.payments import funding

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
def profile_factory(app):
    """profile_factory(user, **fields) -> `user`, with the expert profile (API-shaped fields) saved by the service."""
    from marketplace.accounts.models import User
    from marketplace.solvers import profiles

    def make(user, **fields):
        with app.test_request_context():
            row = db.session.get(User, user.id)
            profiles.save_profile(row, fields, actor=row)
            db.session.commit()
        return user

    return make


# --- challenges through the API (the way a partner portal drives them) -----------------------------------------

RATES = {
    "rates": [
        {"country": c, "challenge_type": t, "field": f, "amount": {"amount": a, "currency": cur}}
        for f in ("semiconductors", "sensors")
        for t in ("ideation", "theoretical", "rtp", "erfp")
        for c, a, cur in (("US", "50000.00", "USD"), ("GB", "40000.00", "GBP"), ("DE", "45000.00", "EUR"))
    ]
}
FX = {
    "base": "USD",
    "as_of": "2027-01-01",
    "rates": {"CNY": "7.1000", "EUR": "0.9200", "GBP": "0.7900", "JPY": "150.00"},
}


def iso_in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def challenge_body(org_slug: str, **changes) -> dict:
    body = {
        "organization": org_slug,
        "default_locale": "en",
        "title": {
            "en": "Low-noise readout circuit for wafer defect sensors",
            "zh_Hans": "用于晶圆缺陷检测的低噪声读出电路",
        },
        "summary": {"en": "Design a readout chain below 2 nV/√Hz.", "zh_Hans": "设计噪声低于 2 nV/√Hz 的读出链路。"},
        "description": {"en": "Full technical description.", "zh_Hans": "完整技术描述。"},
        "challenge_type": "rtp",
        "field": "semiconductors",
        "deadline": iso_in_days(30),
        "award_currency": "CNY",
        "premium_pct": "15",
        "criteria": [
            {"name": {"en": "Noise performance", "zh_Hans": "噪声性能"}, "weight": 60},
            {"name": {"en": "Manufacturability", "zh_Hans": "可制造性"}, "weight": 40},
        ],
        "eligibility": {"excluded_countries": ["KP"]},
        "seeker_anonymous": False,
    }
    body.update(changes)
    return body


class Center:
    """An organization with one person per staff role, each with an API token."""

    def __init__(self, client, make_org, make_user, api_token, slug: str):
        self.client = client
        self.org = make_org(slug)
        self.slug = slug
        self.manager_user = make_user(roles=[("center_manager", self.org)])
        self.manager = api_token(self.manager_user)
        self.officer = api_token(make_user(roles=[("security_officer", self.org)]))
        self.finance = api_token(make_user(roles=[("finance_officer", self.org)]))

    def create(self, **changes):
        return self.client.post("/api/v1/challenges", json=challenge_body(self.slug, **changes), headers=self.manager)

    def post(self, path: str, who: dict, **kwargs):
        return self.client.post(f"/api/v1{path}", headers=who, **kwargs)

    def drive(self, challenge_id: int, to: str) -> dict:
        """Move a draft along the real workflow until it reaches `to`."""
        steps = {
            "in_clearance": lambda: self.post(f"/challenges/{challenge_id}/clearance-request", self.manager),
            "cleared": lambda: self.post(
                f"/challenges/{challenge_id}/clearance",
                self.officer,
                json={"decision": "approve", "note": "unclassified"},
            ),
            "funded": lambda: self.fund(challenge_id),
            "open": lambda: self.post(f"/challenges/{challenge_id}/publish", self.manager),
        }
        order = ["in_clearance", "cleared", "funded", "open"]
        response = None
        for step in order[: order.index(to) + 1]:
            response = steps[step]()
            assert response.status_code in (200, 201), response.get_json()
        return response.get_json()

    def fund(self, challenge_id: int):
        award = self.client.get(f"/api/v1/challenges/{challenge_id}", headers=self.manager).get_json()["award"]
        return self.post(
            f"/challenges/{challenge_id}/funding/receipts",
            self.finance,
            json={"reference": f"BOC-{challenge_id}", "amount": award, "received_on": "2026-11-05"},
        )

    def open_challenge(self, **changes) -> int:
        created = self.create(**changes)
        assert created.status_code == 201, created.get_json()
        self.drive(created.get_json()["id"], "open")
        return created.get_json()["id"]


@pytest.fixture
def api_center(client, make_org, make_user, api_token):
    """api_center(slug) -> Center: a center with one API token per staff role, benchmark and FX rates set first."""
    rates_set: list[bool] = []

    def make(slug: str = "sh-icc") -> Center:
        if not rates_set:
            admin = api_token(make_user(roles=[("admin", None)]))
            assert client.put("/api/v1/benchmark-rates", json=RATES, headers=admin).status_code == 200
            assert client.put("/api/v1/fx-rates", json=FX, headers=admin).status_code == 200
            rates_set.append(True)
        return Center(client, make_org, make_user, api_token, slug)

    return make


@pytest.fixture
def center(api_center) -> Center:
    """The "sh-icc" center of the API tests (a module may define its own `center`)."""
    return api_center("sh-icc")


# --- the review workflow's world ----------------------------------------------------------------------------------

TOPICS = {
    "readout": ("Chopper-stabilised low-noise readout amplifier",
                "A chopper amplifier readout chain with input noise below 2 nV per root hertz.",
                "We design a chopper-stabilised amplifier and ripple-reduction loop for capacitive readout."),
    "thermal": ("Compact thermal model of chiplet interposers",
                "A thermal network model predicting interposer hot spots.",
                "Finite element calibration of a compact thermal resistance network for chiplet interposers."),
    "gas": ("Metal-oxide nanowire gas sensor array",
            "Tin oxide nanowire gas sensors detect electrolyte venting early.",
            "A gas sensor array of metal oxide nanowires with temperature cycling."),
    "humidity": ("Self-calibrating MEMS humidity sensor",
                 "A MEMS humidity sensor with drift compensation.",
                 "Capacitive MEMS humidity sensing with an in-situ calibration of drift."),
}

EXPERTISE = {
    "readout": ("Analog IC designer for low-noise readout", "chopper amplifier low noise readout circuits",
                ["analog-design", "readout-circuits"], ["A chopper amplifier for capacitive readout"]),
    "thermal": ("Thermal modelling of advanced packages", "compact thermal models of chiplet interposers",
                ["thermal"], ["Thermal resistance networks for interposers"]),
    "gas": ("Gas sensing with metal oxides", "metal oxide nanowire gas sensor arrays", ["gas-sensing"],
            ["Nanowire gas sensors for battery venting"]),
    "humidity": ("MEMS humidity sensors", "capacitive MEMS humidity sensor calibration drift", ["mems"],
                 ["Drift compensation of MEMS humidity sensors"]),
    "general": ("Semiconductor generalist", "sensors and circuits", ["semiconductors"], []),
}


@dataclass
class ReviewWorld:
    """The review workflow's world: a closed challenge with proposals, reviewers with expert profiles.

    Ids of what a test needs; `ctx()` opens a request context for service calls."""

    app: object
    org_id: int = 0
    manager_id: int = 0
    officer_id: int = 0
    challenge_id: int = 0
    solvers: dict[str, int] = field(default_factory=dict)  # topic -> lead user id
    proposals: dict[str, int] = field(default_factory=dict)  # topic -> proposal id
    reviewers: dict[str, int] = field(default_factory=dict)  # name -> user id
    criteria: list[int] = field(default_factory=list)

    def ctx(self):
        return self.app.test_request_context()

    def get(self, model, ident):
        return db.session.get(model, ident)

    def user(self, user_id):
        from marketplace.accounts.models import User

        return db.session.get(User, user_id)

    def challenge(self):
        from marketplace.challenges.models import Challenge

        return db.session.get(Challenge, self.challenge_id)


def save_profile(user, topic: str, *, affiliation: str | None = None, history=None, coauthors=()):
    from marketplace.solvers import profiles

    headline, bio, tags, works = EXPERTISE[topic]
    data = {"headline": headline, "bio": bio, "expertise": tags,
            "research_history": [{"year": 2025, "title": t, "kind": "publication", "coauthors": list(coauthors)}
                                 for t in works]}
    if affiliation is not None:
        data["affiliation"] = affiliation
    if history is not None:
        data["affiliation_history"] = history
    profiles.save_profile(user, data, actor=user)


class WorldBuilder:
    def __init__(self, app, make_org, make_user, factory):
        self.app, self.make_org, self.make_user, self.factory = app, make_org, make_user, factory

    def __call__(self, *, topics=("readout", "thermal", "gas", "humidity"), close: bool = True,
                 reviewers: dict[str, tuple] | None = None, challenge_overrides=None) -> ReviewWorld:
        from marketplace.challenges import agreements
        from marketplace.challenges import services as challenges
        from marketplace.proposals import services as proposals

        world = ReviewWorld(self.app)
        org = self.make_org()
        manager = self.make_user(roles=[("center_manager", org)], name="Manager Ma")
        officer = self.make_user(roles=[("security_officer", org)], name="Officer Ou")
        challenge = self.factory(org, manager, status="open", **(challenge_overrides or {}))
        world.org_id, world.manager_id, world.officer_id = org.id, manager.id, officer.id
        world.challenge_id = challenge.id
        names = {"readout": ("Anna Schmidt", "anna.schmidt@tum.example", "DE"),
                 "thermal": ("Bruno Costa", "bruno.costa@usp.example", "BR"),
                 "gas": ("Chen Yu", "chen.yu@fudan.example", "CN"),
                 "humidity": ("Dina Haddad", "dina.haddad@cu.example", "EG")}
        leads = {t: self.make_user(names[t][1], name=names[t][0], country=names[t][2]) for t in topics}
        reviewers = reviewers if reviewers is not None else {
            "Rolf Weber": ("rolf.weber@tum.example", "readout", "DE"),  # same e-mail domain as Anna
            "Grace Hopper": ("grace@navy.example", "readout", "US"),
            "Hiro Sato": ("hiro@kyoto.example", "thermal", "JP"),
            "Ivan Petrov": ("ivan@kth.example", "gas", "SE"),
            "Jana Novak": ("jana@cvut.example", "humidity", "CZ"),
            "Karl Berg": ("karl@lund.example", "general", "SE"),
        }
        reviewer_users = {name: self.make_user(email, name=name, country=country)
                          for name, (email, _topic, country) in reviewers.items()}
        with self.app.test_request_context():
            challenge = world.challenge()
            world.criteria = [c.id for c in challenge.criteria]
            for topic, lead in leads.items():
                lead = world.user(lead.id)
                save_profile(lead, topic if topic in EXPERTISE else "general",
                             affiliation="Technical University of Munich" if topic == "readout" else None)
                agreements.accept(challenge, lead, version=challenge.agreement_version)
                title, abstract, body = TOPICS[topic]
                if topic == "readout":  # the author gives herself away in the text
                    body += " As Anna Schmidt (anna.schmidt@tum.example) showed at Technical University of Munich."
                proposal = proposals.create_proposal(challenge, lead, {
                    "title": title, "abstract": abstract, "body": body, "locale": "en"})
                proposals.submit(proposal, lead)
                world.solvers[topic], world.proposals[topic] = lead.id, proposal.id
            for name, (_email, topic, _country) in reviewers.items():
                save_profile(world.user(reviewer_users[name].id), topic)
                world.reviewers[name] = reviewer_users[name].id
            if close:
                challenges.close(challenge, world.user(manager.id))
            db.session.commit()
        return world


@pytest.fixture
def build_world(app, make_org, make_user, challenge_factory):
    return WorldBuilder(app, make_org, make_user, challenge_factory)


def add_pool(world: ReviewWorld, names=None, *, accept: bool = True) -> None:
    from marketplace.reviews import pool

    with world.ctx():
        challenge = world.challenge()
        ids = [world.reviewers[n] for n in (names or world.reviewers)]
        pool.add_reviewers(challenge, world.user(world.manager_id), ids)
        if accept:
            for uid in ids:
                pool.accept_agreement(challenge, world.user(uid), version=pool.AGREEMENT_VERSION)
        db.session.commit()


def accept_all(world: ReviewWorld) -> None:
    from marketplace.reviews import pool

    with world.ctx():
        for uid in world.reviewers.values():
            pool.accept_agreement(world.challenge(), world.user(uid), version=pool.AGREEMENT_VERSION)
        db.session.commit()


def assign(world: ReviewWorld, **params):
    from marketplace.reviews.assignment import service as assigning

    with world.ctx():
        outcome = assigning.run_assignment(world.challenge(), world.user(world.manager_id),
                                           assigning.AssignmentRequest(**params))
        db.session.commit()
        return [(r.id, r.proposal_id, r.reviewer_id) for r in outcome.reviews]


def review_all(world: ReviewWorld, scores_by_reviewer: dict[str, int] | None = None, *, default: int = 6) -> None:
    """Every active review scored (each criterion the reviewer's score) and submitted."""
    from marketplace.reviews import scoring
    from marketplace.reviews.models import Review

    by_id = {uid: name for name, uid in world.reviewers.items()}
    with world.ctx():
        reviews = db.session.scalars(db.select(Review).where(Review.challenge_id == world.challenge_id,
                                                             Review.status.in_(("assigned", "draft")))).all()
        for review in reviews:
            score = (scores_by_reviewer or {}).get(by_id.get(review.reviewer_id), default)
            if callable(score):
                score = score(review)
            user = world.user(review.reviewer_id)
            scoring.save_draft(review, user, {"scores": {str(c): score for c in world.criteria},
                                              "comment": f"Comment {score}", "recommendation": "consider"})
            scoring.submit(review, user)
        db.session.commit()


def token(app, api_token, user_id):
    from marketplace.accounts.models import User

    with app.app_context():
        return api_token(db.session.get(User, user_id))


# --- the openness world (results, analytics, exports) --------------------------------------------------------------

def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


class OpenWorld:
    """A center with its four officers, built through the real services where they exist.

        world.solver(country, early_career=False) -> User (with an expert profile)
        world.challenge(published_at=None, award_minor=None, reference_minor=None, bonus_pct="0", **data) -> Challenge
        world.classified_program() -> program id (requirement R1)
        world.propose(challenge, lead, *, coauthors=(), submit=True) -> Proposal
        world.award(challenge, [(proposal, share_pct)]) -> list[Award]    closes, judges, decides (awards.decisions)
        world.pay(recipient, completed_at)                                  a paid payout row for one recipient

    Times are set on the rows afterwards where a test needs hand-computed figures.
    """

    def __init__(self, app, make_org, make_user):
        self.app = app
        self.make_user = make_user
        self.org = make_org("sh-icc", name="Shanghai IC Innovation Center")
        self.manager = make_user("manager@icc.example", roles=[("center_manager", self.org)], country="CN")
        self.officer = make_user("officer@icc.example", roles=[("security_officer", self.org)], country="CN")
        self.finance = make_user("finance@icc.example", roles=[("finance_officer", self.org)], country="CN")
        self.reviewer = make_user("reviewer@icc.example", roles=[("reviewer", self.org)], country="DE")
        self._solvers = 0

    def _get(self, model, row_id):
        return db.session.get(model, row_id)

    def solver(self, country: str = "DE", *, early_career: bool = False, name: str | None = None):
        from marketplace.solvers.models import ExpertProfile

        self._solvers += 1
        user = self.make_user(f"solver{self._solvers}@example.org", country=country,
                              name=name or f"Solver {self._solvers}")
        with self.app.app_context():
            db.session.add(ExpertProfile(user_id=user.id, early_career=early_career))
            db.session.commit()
        return user

    def challenge(self, *, published_at: datetime | None = None, award_minor: int | None = None,
                  reference_minor: int | None = None, bonus_pct: str = "0", **data):
        """An open challenge; award and benchmark reference set to round numbers when given."""
        from marketplace.accounts.models import Organization, User
        from marketplace.analytics import early_career
        from marketplace.challenges import services
        from marketplace.challenges.models import Challenge
        from marketplace.money import Money
        from marketplace.payments import funding

        with self.app.test_request_context():
            manager = self._get(User, self.manager.id)
            challenge = services.create_challenge(self._get(Organization, self.org.id), manager, challenge_data(**data))
            if award_minor is not None:
                challenge.award_minor = award_minor
            if reference_minor is not None:
                amount = Money(reference_minor, challenge.award_currency).as_dict()
                challenge.quote = {**challenge.quote, "reference": {"country": "GB", "converted": amount}}
            services.request_clearance(challenge, manager)
            services.decide_clearance(challenge, self._get(User, self.officer.id), decision="approve", note="ok")
            early_career.set_bonus(challenge, manager, bonus_pct)
            receipt = funding.record_receipt(
                challenge, self._get(User, self.finance.id), reference=f"BOC-{challenge.id}",
                amount=Money(challenge.funding_target_minor, challenge.award_currency), received_on=date.today())
            funding.post_receipt(receipt)
            services.publish(challenge, manager)
            if published_at is not None:
                challenge.published_at = published_at
            db.session.commit()
            return self._get(Challenge, challenge.id)

    def classified_program(self) -> int:
        """The id of a classified program of the center with one requirement, R1."""
        from marketplace.accounts.models import Organization, User
        from marketplace.programs import services as programs

        with self.app.test_request_context():
            program = programs.create_program(self._get(Organization, self.org.id), self._get(User, self.manager.id),
                                              title="PRJ-2027-14", objective="Inspection module.",
                                              classification="classified",
                                              requirements=[{"code": "R1", "text": "Readout noise"}])
            db.session.commit()
            return program.id

    def propose(self, challenge, lead, *, coauthors=(), submit: bool = True):
        from marketplace.accounts.models import User
        from marketplace.challenges import agreements
        from marketplace.challenges.models import Challenge
        from marketplace.proposals import services, teams
        from marketplace.proposals.models import Proposal

        with self.app.test_request_context():
            row = self._get(Challenge, challenge.id)
            people = [self._get(User, u.id) for u in (lead, *coauthors)]
            for person in people:
                if not agreements.has_accepted(row, person):
                    agreements.accept(row, person, version=row.agreement_version)
            proposal = services.create_proposal(row, people[0], {
                "title": f"Proposal by {people[0].display_name}", "abstract": "An approach.", "body": "Details.",
                "team_emails": [p.email for p in people[1:]]})
            if coauthors:
                for person in people[1:]:
                    teams.respond_to_invitation(proposal, person, accept=True)
                even = Decimal(100) / len(people)
                teams.set_shares(proposal, people[0], {p.id: even for p in people})
                for person in people:
                    teams.agree_to_shares(proposal, person)
            if submit:
                services.submit(proposal, people[0])
            db.session.commit()
            return self._get(Proposal, proposal.id)

    def award(self, challenge, winners):
        """Close the challenge, move it to judging and decide the awards through the decision service."""
        from marketplace.accounts.models import User
        from marketplace.awards import decisions
        from marketplace.awards.models import Award
        from marketplace.challenges import services
        from marketplace.challenges.models import Challenge
        from marketplace.challenges.states import move

        with self.app.test_request_context():
            row = self._get(Challenge, challenge.id)
            manager = self._get(User, self.manager.id)
            if row.status == "open":
                services.close(row, manager)
            move(row, "judging", actor=manager, action="test.judging")
            decisions.decide(row, manager, [{"proposal_id": p.id, "share_pct": share} for p, share in winners],
                             override_reason="Test world: judged without online reviews.")
            db.session.commit()
            return list(db.session.scalars(db.select(Award).where(Award.challenge_id == challenge.id)
                                           .order_by(Award.id)))

    def pay(self, recipient, completed_at: datetime) -> None:
        """A payout the provider confirmed (the payments flow itself is tested in tests/payments)."""
        from marketplace.awards.models import AwardRecipient
        from marketplace.payments.models import Payout

        with self.app.app_context():
            row = self._get(AwardRecipient, recipient.id)
            db.session.add(Payout(award_recipient_id=row.id, provider="manual", idempotency_key=f"test-payout-{row.id}",
                                  transfer_group=f"award-{row.award_id}", amount_minor=row.amount_minor,
                                  currency=row.award.currency, status="paid", reference=f"WIRE-{row.id}",
                                  completed_at=completed_at))
            row.payout_status = "paid"
            db.session.commit()


@pytest.fixture
def world(app, make_org, make_user, pricing_rates):
    return OpenWorld(app, make_org, make_user)


# --- attachments in S3 ----------------------------------------------------------------------------------------------

_FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",  # noqa: S105 - moto's
                     "AWS_DEFAULT_REGION": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """The URL of a running S3-compatible server, with dummy credentials in the environment."""
    from moto.server import ThreadedMotoServer

    saved = {name: os.environ.get(name) for name in _FAKE_CREDENTIALS}
    os.environ.update(_FAKE_CREDENTIALS)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def s3_bucket(s3_endpoint):
    """A fresh, empty bucket: (name, boto3 client)."""
    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint)
    name = f"attachments-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return name, client
