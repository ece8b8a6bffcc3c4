"""The double-entry ledger: balanced transactions only, once per dedupe key, never below zero.

The property test drives the real services (manual provider: no network) through random sequences
of fund / award / pay / cancel award / cancel challenge / refund and checks the books after each step.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from marketplace.errors import DomainError
from marketplace.extensions import db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def books(db):
    from marketplace.payments import ledger

    # Accounts of no real challenge or user (their foreign keys stay empty): the ledger alone is under test.
    return {
        "escrow": ledger.account("escrow:test", "escrow", "EUR"),
        "payable": ledger.account("payable:test", "payable", "EUR"),
        "clearing": ledger.clearing_account("manual", "EUR"),
        "clearing_cny": ledger.clearing_account("manual", "CNY"),
        "escrow_cny": ledger.account("escrow:test", "escrow", "CNY"),
    }


def test_a_balanced_transaction_is_posted_once_per_dedupe_key(db, books):
    from marketplace.payments import ledger

    first = ledger.move("funding", books["clearing"], books["escrow"], 10_000, dedupe_key="funding:test:1")
    again = ledger.move("funding", books["clearing"], books["escrow"], 10_000, dedupe_key="funding:test:1")
    assert again.id == first.id and len(first.entries) == 2
    assert ledger.balance(books["escrow"]) == -10_000 and ledger.held(books["escrow"]) == 10_000
    assert ledger.balance(books["clearing"]) == 10_000 and ledger.held(books["clearing"]) == 10_000
    assert ledger.unbalanced_transactions() == []


@pytest.mark.parametrize("amounts", [(100, -99), (100, -100, 1)])
def test_unbalanced_transactions_are_refused(db, books, amounts):
    from marketplace.payments import ledger

    legs = [ledger.Leg(account, amount) for account, amount in
            zip((books["clearing"], books["escrow"], books["payable"]), amounts, strict=False)]
    with pytest.raises(ledger.UnbalancedTransaction):
        ledger.post("funding", legs, dedupe_key="funding:unbalanced")
    assert ledger.find_transaction("funding:unbalanced") is None


def test_balance_is_per_currency(db, books):
    from marketplace.payments import ledger

    mixed = [ledger.Leg(books["clearing"], 100), ledger.Leg(books["escrow_cny"], -100)]
    with pytest.raises(ledger.UnbalancedTransaction, match="CNY"):
        ledger.post("funding", mixed, dedupe_key="funding:mixed")
    both = [ledger.Leg(books["clearing"], 100), ledger.Leg(books["escrow"], -100),
            ledger.Leg(books["clearing_cny"], 700), ledger.Leg(books["escrow_cny"], -700)]
    assert len(ledger.post("funding", both, dedupe_key="funding:both").entries) == 4


@pytest.mark.parametrize("amount", [10.0, Decimal("10"), True, "10", 0])
def test_amounts_are_non_zero_integers(db, books, amount):
    from marketplace.payments import ledger

    with pytest.raises(ledger.UnbalancedTransaction):
        ledger.post("funding", [ledger.Leg(books["clearing"], amount), ledger.Leg(books["escrow"], -10)],
                    dedupe_key="funding:type")


def test_no_account_may_be_overdrawn(db, books):
    from marketplace.payments import ledger

    ledger.move("funding", books["clearing"], books["escrow"], 5_000, dedupe_key="funding:o")
    with pytest.raises(ledger.Overdrawn) as refused:
        ledger.move("allocation", books["escrow"], books["payable"], 5_001, dedupe_key="allocation:o")
    assert refused.value.status == 409
    ledger.move("allocation", books["escrow"], books["payable"], 5_000, dedupe_key="allocation:o")
    assert ledger.held(books["escrow"]) == 0 and ledger.held(books["payable"]) == 5_000
    with pytest.raises(ValueError):
        ledger.move("gift", books["payable"], books["clearing"], 1, dedupe_key="gift:1")
    with pytest.raises(ValueError):
        ledger.move("payout", books["payable"], books["clearing"], 1, dedupe_key="")


def test_every_posting_is_audited(db, books):
    from marketplace.audit.models import AuditEntry
    from marketplace.payments import ledger

    posted = ledger.move("funding", books["clearing"], books["escrow"], 300, dedupe_key="funding:audit")
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="ledger.posted", entity_id=posted.id))
    assert entry.data["dedupe_key"] == "funding:audit" and len(entry.data["entries"]) == 2


# --- the property ------------------------------------------------------------------------

OPERATIONS = st.lists(st.one_of(
    st.tuples(st.just("fund"), st.integers(min_value=1, max_value=100)),  # percent of the funding target
    st.tuples(st.just("award"), st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=3)),
    st.tuples(st.just("pay"), st.integers(min_value=0, max_value=2)),
    st.tuples(st.just("cancel_award"), st.integers(min_value=0, max_value=2)),
    st.tuples(st.just("cancel_challenge"), st.just(0)),
    st.tuples(st.just("refund"), st.just(0)),
), min_size=1, max_size=8)


class NothingToDo(Exception):
    """The step does not apply (no such award, already decided): skipped, not counted as refused."""


class Scenario:
    """One challenge and its awards, driven through the services as the routes would (commit per step)."""

    def __init__(self, app, world):
        from marketplace.accounts.models import User

        self.app, self.world = app, world
        self.challenge = world.challenge(status="cleared")
        self.solvers = [world.solver(country) for country in ("DE", "FR", "ES")]
        self.award_ids: list[int] = []
        self.receipts = 0
        self.users = lambda *users: [db.session.get(User, u.id) for u in users]

    def run(self, operation: str, argument) -> None:
        from marketplace.challenges.models import Challenge

        with self.app.test_request_context():
            challenge = db.session.get(Challenge, self.challenge.id)
            try:
                getattr(self, operation)(challenge, argument)
                db.session.commit()
                event(f"{operation}: done")
            except DomainError:
                db.session.rollback()  # a refused step changes nothing; the books must still hold
                event(f"{operation}: refused")
            except NothingToDo:
                db.session.rollback()

    def fund(self, challenge, percent):
        from marketplace.money import Money
        from marketplace.payments import funding

        [finance] = self.users(self.world.finance_a)
        amount = max(1, challenge.funding_target_minor * percent // 100)
        self.receipts += 1
        funding.record_receipt(challenge, finance, reference=f"WIRE-{challenge.id}-{self.receipts}",
                               amount=Money(amount, challenge.award_currency), received_on=date.today())

    def award(self, challenge, shares):
        from marketplace.awards.models import Award, AwardDecision, AwardRecipient
        from marketplace.awards.money_split import split_award
        from marketplace.payments.services import allocate_award
        from marketplace.proposals.models import Proposal

        if self.award_ids or challenge.status == "cancelled" or sum(shares) > 100:
            raise NothingToDo
        decision = AwardDecision(challenge_id=challenge.id, decided_by_id=self.world.manager.id, kind="split")
        db.session.add(decision)
        decided = []
        for solver, share, amount in zip(self.solvers, shares, split_award(challenge.award_minor, shares),
                                         strict=False):
            proposal = Proposal(challenge_id=challenge.id, lead_id=solver.id, status="submitted", title="P",
                                locale="en", version=1)
            db.session.add(proposal)
            db.session.flush()
            award = Award(challenge_id=challenge.id, proposal_id=proposal.id, decision_id=decision.id,
                          share_pct=Decimal(share), amount_minor=amount, currency=challenge.award_currency)
            db.session.add(award)
            db.session.flush()
            db.session.add(AwardRecipient(award_id=award.id, user_id=solver.id, share_pct=Decimal(100),
                                          amount_minor=amount, ip_accepted_at=challenge.created_at,
                                          ip_text_version="test", ip_text="test"))
            db.session.flush()
            db.session.refresh(award)
            allocate_award(award)  # Overdrawn (409) when escrow holds less: the whole decision is refused
            decided.append(award.id)
        challenge.status = "awarded"
        self.award_ids = decided  # only once the whole decision went through

    def pay(self, challenge, index):
        from marketplace.awards.models import Award
        from marketplace.payments import services

        if not self.award_ids:
            raise NothingToDo
        award = db.session.get(Award, self.award_ids[index % len(self.award_ids)])
        finance_a, finance_b = self.users(self.world.finance_a, self.world.finance_b)
        if award.status == "awarded":
            services.request_release(award, finance_a)
        refused = services.approve_and_pay([award.id], finance_b).refused
        if refused:
            raise refused[award.id]
        services.confirm_wire(award, finance_a, reference=f"WIRE-{award.id}")

    def cancel_award(self, challenge, index):
        from marketplace.awards.models import Award
        from marketplace.payments import escrow

        if not self.award_ids:
            raise NothingToDo
        [manager] = self.users(self.world.manager)
        escrow.cancel_award(db.session.get(Award, self.award_ids[index % len(self.award_ids)]), manager,
                            reason="Withdrawn.")

    def cancel_challenge(self, challenge, _argument):
        from marketplace.challenges import services

        [manager] = self.users(self.world.manager)
        services.cancel(challenge, manager, reason="Cancelled in a property test.")

    def refund(self, challenge, _argument):
        """Return what escrow still holds (after a cancellation, no award, or a partial award): send and confirm."""
        from marketplace.payments import refunds
        from marketplace.payments.models import Refund

        [finance_a] = self.users(self.world.finance_a)
        refunds.schedule_refunds(challenge, finance_a, reason="Remainder.")
        db.session.commit()
        for refund in db.session.scalars(db.select(Refund).filter_by(challenge_id=challenge.id, status="scheduled")):
            refunds.begin_refund(refund, finance_a)
            db.session.commit()
            refunds.record_refund_result(refunds.send_refund(refund), actor=finance_a)
            db.session.commit()
            refunds.confirm_refund_wire(refund, finance_a, reference=f"BACK-{refund.id}")


def assert_books_hold(app) -> None:
    from marketplace.payments import ledger
    from marketplace.payments.models import LedgerAccount

    with app.app_context():
        assert ledger.unbalanced_transactions() == []
        assert ledger.overdrawn_accounts() == []
        # What the platform holds at providers equals what it owes to challenges and solvers.
        held = defaultdict(int)
        for account in db.session.scalars(db.select(LedgerAccount)):
            held[(account.currency, "owed" if account.kind in ("escrow", "payable") else "cash")] += \
                ledger.held(account)
        for currency in {currency for currency, _side in held}:
            assert held[(currency, "owed")] == held[(currency, "cash")]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(funded_first=st.booleans(), operations=OPERATIONS)
def test_any_sequence_of_money_operations_keeps_the_books_balanced(app, world, funded_first, operations):
    scenario = Scenario(app, world)
    # Half the sequences start fully funded, so awards and payouts happen often, not only refusals.
    for operation, argument in ([("fund", 100)] if funded_first else []) + operations:
        scenario.run(operation, argument)
        assert_books_hold(app)


# --- no floats near money ----------------------------------------------------------------


def test_no_float_anywhere_in_money_code():
    """No float in the payments package (not even the word), nor in the awards package (a guard that refuses
    floats is fine there), code or templates; no float literal; no division inside a template expression."""
    offenders = []
    for package, forbidden in (("payments", r"\bfloat\b"), ("awards", r"\bfloat\s*\(|\|\s*float\b")):
        for path in (ROOT / "marketplace" / package).rglob("*"):
            if path.suffix not in (".py", ".html") or "__pycache__" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            if re.search(forbidden, text):
                offenders.append(f"{path.relative_to(ROOT)}: float")
            if path.suffix == ".py":
                floats = [n.value for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Constant)
                          and type(n.value) is float]
                if floats:
                    offenders.append(f"{path.relative_to(ROOT)}: float literals {floats}")
            else:
                for expression in re.findall(r"\{\{(.*?)\}\}", text, flags=re.S):
                    if re.search(r"[^/]/[^/]", expression):
                        offenders.append(f"{path.relative_to(ROOT)}: division in a template ({expression.strip()})")
    if re.search(r"\bfloat\b", (ROOT / "marketplace" / "payments" / "funding.py").read_text(encoding="utf-8")):
        offenders.append("marketplace/payments/funding.py")
    assert offenders == []
