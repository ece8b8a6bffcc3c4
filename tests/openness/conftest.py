"""A small world for the openness tests, built through the real services where they exist.

    world.solver(country, early_career=False) -> User (with an expert profile)
    world.challenge(published_at=None, award_minor=None, reference_minor=None, bonus_pct="0", **data) -> Challenge
    world.propose(challenge, lead, *, coauthors=(), submit=True) -> Proposal
    world.award(challenge, [(proposal, share_pct)]) -> list[Award]    closes, judges, decides (awards.decisions)
    world.pay(recipient, completed_at)                                  a paid payout row for one recipient

Times are set on the rows afterwards where a test needs hand-computed figures.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from marketplace.extensions import db
from tests.challenges.conftest import browser, challenge_data, challenge_factory, pricing_rates  # noqa: F401
from tests.conftest import TEST_PASSWORD


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


class World:
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
        from marketplace.challenges import funding, services
        from marketplace.challenges.models import Challenge
        from marketplace.money import Money
        from marketplace.payments import escrow

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
            escrow.post_receipt(receipt)
            services.publish(challenge, manager)
            if published_at is not None:
                challenge.published_at = published_at
            db.session.commit()
            return self._get(Challenge, challenge.id)

    def propose(self, challenge, lead, *, coauthors=(), submit: bool = True):
        from marketplace.accounts.models import User
        from marketplace.challenges import agreements
        from marketplace.challenges.models import Challenge
        from marketplace.proposals import services
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
                    services.respond_to_invitation(proposal, person, accept=True)
                even = Decimal(100) / len(people)
                services.set_shares(proposal, people[0], {p.id: even for p in people})
                for person in people:
                    services.agree_to_shares(proposal, person)
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
def world(app, make_org, make_user, pricing_rates):  # noqa: F811
    return World(app, make_org, make_user)


@pytest.fixture
def signed_in(app):
    """signed_in(user) -> a test client signed in through the login form."""
    from tests.helpers import csrf_token_from

    def sign_in(user):
        client = app.test_client()
        token = csrf_token_from(client.get("/auth/login"))
        response = client.post("/auth/login", data={"email": user.email, "password": TEST_PASSWORD,
                                                    "csrf_token": token})
        assert response.status_code == 302, response.data
        return client

    return sign_in
