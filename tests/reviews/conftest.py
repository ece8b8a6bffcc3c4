"""Builders for the review workflow tests: a closed challenge with proposals, reviewers with expert profiles.

Everything goes through the real services (challenges, proposals, profiles, pool, assignment, scoring), the way
the application does it; tests then drive the API or the pages. Builders return ids, never live objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from marketplace.extensions import db
from tests.challenges.conftest import browser, challenge_factory, pricing_rates  # noqa: F401 - fixtures

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
class World:
    """Ids of what a test needs; `ctx()` opens a request context for service calls."""

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
                 reviewers: dict[str, tuple] | None = None, challenge_overrides=None) -> World:
        from marketplace.challenges import agreements
        from marketplace.challenges import services as challenges
        from marketplace.proposals import services as proposals

        world = World(self.app)
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
def build_world(app, make_org, make_user, challenge_factory):  # noqa: F811 - the imported fixture
    return WorldBuilder(app, make_org, make_user, challenge_factory)


def add_pool(world: World, names=None, *, accept: bool = True) -> None:
    from marketplace.reviews import pool

    with world.ctx():
        challenge = world.challenge()
        ids = [world.reviewers[n] for n in (names or world.reviewers)]
        pool.add_reviewers(challenge, world.user(world.manager_id), ids)
        if accept:
            for uid in ids:
                pool.accept_agreement(challenge, world.user(uid), version=pool.AGREEMENT_VERSION)
        db.session.commit()


def accept_all(world: World) -> None:
    from marketplace.reviews import pool

    with world.ctx():
        for uid in world.reviewers.values():
            pool.accept_agreement(world.challenge(), world.user(uid), version=pool.AGREEMENT_VERSION)
        db.session.commit()


def assign(world: World, **params):
    from marketplace.reviews import assign as assigning

    with world.ctx():
        outcome = assigning.run_assignment(world.challenge(), world.user(world.manager_id),
                                           assigning.AssignmentRequest(**params))
        db.session.commit()
        return [(r.id, r.proposal_id, r.reviewer_id) for r in outcome.reviews]


def review_all(world: World, scores_by_reviewer: dict[str, int] | None = None, *, default: int = 6) -> None:
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
