"""Builders for money tests: a center with a manager and two finance officers, solvers, awards.

Awards are decided by the review package's code; here a small builder writes the decision rows the
way it does (one award per winning proposal, one recipient per author, amounts split exactly with
awards.money_split) and then calls the payments service that decision code calls
(`allocate_award`). Everything else goes through the real services and the HTTP API.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from marketplace.extensions import db

STRIPE_TEST_KEY = "sk_test_innobridge_payments"
WEBHOOK_SECRET = "whsec_innobridge_test_secret"


def use_stripe(app, monkeypatch, stripe_wire, **settings) -> None:
    """Point the application at localstripe + the Connect fake (as STRIPE_* settings would)."""
    values = {"STRIPE_SECRET_KEY": STRIPE_TEST_KEY, "STRIPE_API_BASE": stripe_wire.url,
              "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_MAX_NETWORK_RETRIES": 2, "STRIPE_TIMEOUT_MS": 10_000}
    values.update(settings)
    for key, value in values.items():
        monkeypatch.setitem(app.config, key, value)


class World:
    def __init__(self, app, client, make_org, make_user, api_token, challenge_factory):
        self.app = app
        self.client = client
        self.make_user = make_user
        self.api_token = api_token
        self.challenge_factory = challenge_factory
        self.org = make_org()
        self.manager = make_user(roles=[("center_manager", self.org)])
        self.finance_a = make_user(roles=[("finance_officer", self.org)])
        self.finance_b = make_user(roles=[("finance_officer", self.org)])
        self.headers = {}
        self._solvers = 0

    def token(self, user) -> dict:
        if user.id not in self.headers:
            self.headers[user.id] = self.api_token(user)
        return self.headers[user.id]

    # --- HTTP helpers --------------------------------------------------------------------

    def post(self, path: str, user, **kwargs):
        return self.client.post(f"/api/v1{path}", headers=self.token(user), **kwargs)

    def put(self, path: str, user, **kwargs):
        return self.client.put(f"/api/v1{path}", headers=self.token(user), **kwargs)

    def get(self, path: str, user, **kwargs):
        return self.client.get(f"/api/v1{path}", headers=self.token(user), **kwargs)

    # --- builders ------------------------------------------------------------------------

    def challenge(self, *, status: str = "cleared", **overrides):
        return self.challenge_factory(self.org, self.manager, status=status, **overrides)

    def fund_by_wire(self, challenge, amount_minor: int | None = None, reference: str | None = None):
        from marketplace.accounts.models import User
        from marketplace.challenges.models import Challenge
        from marketplace.money import Money
        from marketplace.payments import funding

        with self.app.test_request_context():
            row = db.session.get(Challenge, challenge.id)
            funding.record_receipt(row, db.session.get(User, self.finance_a.id),
                                   reference=reference or f"BOC-{challenge.id}",
                                   amount=Money(amount_minor or row.funding_target_minor, row.award_currency),
                                   received_on=date.today())
            db.session.commit()

    def solver(self, country: str = "DE", *, payee: bool = True, bank: bool = True, confirmed: bool = True,
               name: str | None = None):
        self._solvers += 1
        user = self.make_user(country=country, confirmed=confirmed, name=name or f"Solver {self._solvers}")
        if payee:
            self.give_payee(user, country, bank=bank)
        return user

    def give_payee(self, user, country: str, *, bank: bool = True):
        body = {"legal_name": f"{user.display_name} Example", "residence_country": country,
                "date_of_birth": "1988-04-15", "tax_form": "W-9" if country == "US" else "W-8BEN",
                "tax_id": "123-45-6789" if country == "US" else None}
        if bank:
            body["bank_account"] = {"account_number": "DE89370400440532013000", "swift_bic": "COBADEFFXXX",
                                    "bank_name": "Example Bank"}
        response = self.put("/me/payee", user, json=body)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def award(self, challenge, winners: list[tuple[list, str]]) -> list[int]:
        """winners: [([author users], share_pct), ...] -> award ids; the challenge becomes `awarded`.

        Each author of a proposal gets an equal part of its award (exact to the minor unit).
        """
        from marketplace.awards.models import Award, AwardDecision, AwardRecipient
        from marketplace.awards.money_split import split_award
        from marketplace.challenges.models import Challenge
        from marketplace.payments.services import allocate_award
        from marketplace.proposals.models import Proposal

        with self.app.test_request_context():
            row = db.session.get(Challenge, challenge.id)
            decision = AwardDecision(challenge_id=row.id, decided_by_id=self.manager.id,
                                     kind="split" if len(winners) > 1 else "full", reason="Best proposals.")
            db.session.add(decision)
            amounts = split_award(row.award_minor, [Decimal(pct) for _authors, pct in winners])
            ids = []
            for (authors, pct), amount in zip(winners, amounts, strict=True):
                proposal = Proposal(challenge_id=row.id, lead_id=authors[0].id, status="submitted",
                                    title=f"Proposal by {authors[0].display_name}", locale="en", version=1)
                db.session.add(proposal)
                db.session.flush()
                award = Award(challenge_id=row.id, proposal_id=proposal.id, decision_id=decision.id,
                              share_pct=Decimal(pct), amount_minor=amount, currency=row.award_currency,
                              status="awarded")
                db.session.add(award)
                db.session.flush()
                parts = split_award(amount, [Decimal(100) / len(authors)] * len(authors))
                if sum(parts) != amount:  # equal thirds of 100 % do not add up to 100: give the rest to the lead
                    parts[0] += amount - sum(parts)
                for author, part in zip(authors, parts, strict=True):
                    db.session.add(AwardRecipient(award_id=award.id, user_id=author.id,
                                                  share_pct=(Decimal(100) / len(authors)).quantize(Decimal("0.01")),
                                                  amount_minor=part))
                db.session.flush()
                db.session.refresh(award)
                allocate_award(award, actor=self.manager.id)
                ids.append(award.id)
            row.status = "awarded"
            db.session.commit()
            return ids

    def accept_ip(self, award_id: int, *users) -> None:
        for user in users:
            response = self.post(f"/awards/{award_id}/ip-assignment", user, json={"accept": True})
            assert response.status_code in (200, 201), response.get_json()

    def ready_award(self, challenge, winners) -> list[int]:
        """Awarded, every author accepted the IP assignment."""
        ids = self.award(challenge, winners)
        for award_id, (authors, _pct) in zip(ids, winners, strict=True):
            self.accept_ip(award_id, *authors)
        return ids


def ledger_state(app, challenge_id: int | None = None) -> dict:
    """Balances held per account code, plus the ledger's own checks."""
    from marketplace.payments import ledger
    from marketplace.payments.models import LedgerAccount

    with app.app_context():
        accounts = db.session.scalars(db.select(LedgerAccount)).all()
        return {"held": {f"{a.code}/{a.currency}": ledger.held(a) for a in accounts},
                "unbalanced": ledger.unbalanced_transactions(), "overdrawn": ledger.overdrawn_accounts()}


def count_transactions(app, **filters) -> int:
    from marketplace.payments.models import LedgerTransaction

    with app.app_context():
        return db.session.scalar(db.select(db.func.count(LedgerTransaction.id)).filter_by(**filters))
