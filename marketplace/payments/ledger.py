"""The double-entry ledger: accounts per currency, balanced transactions, balances.

An entry's `amount_minor` is signed: positive for a debit, negative for a credit. The entries of a
transaction add up to zero in each currency, or it is refused. Accounts:

    clearing:<provider>     debit-normal: money the platform holds at a provider (Stripe balance, bank)
    escrow:challenge:<id>   credit-normal: what a challenge holds for its award
    payable:user:<id>       credit-normal: what the platform owes a solver

Movements (Dr = debit, Cr = credit):

    funding     clearing:<provider> Dr   escrow Cr            money arrived for a challenge
    allocation  escrow Dr                payable Cr           an award was decided
    payout      payable Dr               clearing Cr          the provider paid the solver
    refund      escrow Dr                clearing Cr          escrow went back to the funder
    reversal    payable Dr / escrow Cr   (award cancelled)    or clearing Dr / payable Cr (transfer reversed)
    treasury    clearing:<a> Dr          clearing:<b> Cr      money moved between providers (card in, wire out)

"Held" is an account's balance in its normal direction; no account may be held below zero, so a
transaction that would overdraw one is refused. Every transaction carries a unique `dedupe_key`
("payout:recipient:9"): posting the same key twice returns the first transaction, so a retried or
replayed operation cannot move money twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from marketplace.audit.services import record
from marketplace.errors import Conflict
from marketplace.extensions import db
from marketplace.payments.models import LedgerAccount, LedgerEntry, LedgerTransaction

CREDIT_NORMAL = frozenset({"escrow", "payable"})
KINDS = frozenset({"funding", "allocation", "payout", "refund", "reversal", "treasury"})


class UnbalancedTransaction(ValueError):
    """Entries that do not add up to zero per currency, or are not integers: a programming error."""


class Overdrawn(Conflict):
    """The transaction would take an account below zero (409: the money is not there)."""


@dataclass(frozen=True)
class Leg:
    account: LedgerAccount
    amount_minor: int  # + debit, - credit


# --- accounts ----------------------------------------------------------------------------


def insert_once(model, values: dict, conflict_columns: list[str]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when this call inserted the row.

    Race-safe on both databases: a concurrent insert of the same key makes one of them a no-op
    (PostgreSQL waits for the other transaction before deciding).
    """
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = (module.insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict_columns)
                 .returning(*model.__table__.primary_key.columns))
    return db.session.execute(statement).first() is not None  # rowcount is -1 with RETURNING on psycopg


def account(code: str, kind: str, currency: str, *, challenge_id: int | None = None,
            user_id: int | None = None) -> LedgerAccount:
    """The account `code` in `currency`, created on first use."""
    found = find_account(code, currency)
    if found is None:
        insert_once(LedgerAccount, {"code": code, "kind": kind, "currency": currency,
                                                    "challenge_id": challenge_id, "user_id": user_id},
                                    ["code", "currency"])
        found = find_account(code, currency)
    return found


def find_account(code: str, currency: str) -> LedgerAccount | None:
    return db.session.scalar(select(LedgerAccount).filter_by(code=code, currency=currency))


def escrow_account(challenge_id: int, currency: str) -> LedgerAccount:
    return account(f"escrow:challenge:{challenge_id}", "escrow", currency, challenge_id=challenge_id)


def payable_account(user_id: int, currency: str) -> LedgerAccount:
    return account(f"payable:user:{user_id}", "payable", currency, user_id=user_id)


def clearing_account(provider: str, currency: str) -> LedgerAccount:
    return account(f"clearing:{provider}", "clearing", currency)


# --- balances ----------------------------------------------------------------------------


def balance(ledger_account: LedgerAccount) -> int:
    """The signed sum of the account's entries (debits positive)."""
    return db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0))
                             .where(LedgerEntry.account_id == ledger_account.id)) or 0


def held(ledger_account: LedgerAccount) -> int:
    """The balance in the account's normal direction: what escrow holds, what a solver is owed."""
    signed = balance(ledger_account)
    return -signed if ledger_account.kind in CREDIT_NORMAL else signed


def _held_delta(ledger_account: LedgerAccount, amount_minor: int) -> int:
    return -amount_minor if ledger_account.kind in CREDIT_NORMAL else amount_minor


# --- posting -----------------------------------------------------------------------------


def check_balanced(legs: Sequence[Leg]) -> None:
    if not legs:
        raise UnbalancedTransaction("a transaction needs entries")
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        if isinstance(leg.amount_minor, bool) or not isinstance(leg.amount_minor, int):
            raise UnbalancedTransaction(f"amounts are integers in minor units, got {leg.amount_minor!r}")
        if leg.amount_minor == 0:
            raise UnbalancedTransaction("an entry of zero moves nothing")
        totals[leg.account.currency] += leg.amount_minor
    unbalanced = {currency: total for currency, total in totals.items() if total}
    if unbalanced:
        raise UnbalancedTransaction(f"entries do not add up to zero: {unbalanced}")


def find_transaction(dedupe_key: str) -> LedgerTransaction | None:
    return db.session.scalar(select(LedgerTransaction).filter_by(dedupe_key=dedupe_key))


def post(kind: str, legs: Sequence[Leg], *, dedupe_key: str, memo: str = "", challenge_id: int | None = None,
         award_id: int | None = None, actor=None) -> LedgerTransaction:
    """Write one balanced transaction, once per `dedupe_key`; refuse one that would overdraw an account."""
    if kind not in KINDS:
        raise ValueError(f"unknown ledger transaction kind {kind!r}")
    if not dedupe_key:
        raise ValueError("every ledger transaction needs a dedupe key")
    check_balanced(legs)
    existing = find_transaction(dedupe_key)
    if existing is not None:
        return existing

    deltas: dict[int, int] = defaultdict(int)
    accounts = {}
    for leg in legs:
        deltas[leg.account.id] += _held_delta(leg.account, leg.amount_minor)
        accounts[leg.account.id] = leg.account
    for account_id, delta in deltas.items():
        if delta < 0 and held(accounts[account_id]) + delta < 0:
            raise Overdrawn(_l("The account %(account)s does not hold enough money for this.",
                               account=accounts[account_id].code))

    transaction = LedgerTransaction(
        kind=kind, memo=memo[:300], challenge_id=challenge_id, award_id=award_id, dedupe_key=dedupe_key,
        actor_id=getattr(actor, "id", actor),
        entries=[LedgerEntry(account_id=leg.account.id, account=leg.account, amount_minor=leg.amount_minor,
                             currency=leg.account.currency) for leg in legs])
    if db.session.get_bind().dialect.name == "postgresql":
        # Callers lock the award or challenge first, so a concurrent twin is unexpected; if one slips
        # through, the unique dedupe key refuses it inside this savepoint and the first one stands.
        try:
            with db.session.begin_nested():
                db.session.add(transaction)
        except IntegrityError:
            return find_transaction(dedupe_key)
    else:  # SQLite serialises writers; its savepoints would end our transaction early under pysqlite
        db.session.add(transaction)
        db.session.flush()
    record("ledger.posted", "ledger_transaction", transaction.id, actor=actor, kind=kind, dedupe_key=dedupe_key,
           challenge_id=challenge_id, award_id=award_id,
           entries=[{"account": leg.account.code, "currency": leg.account.currency, "amount_minor": leg.amount_minor}
                    for leg in legs])
    return transaction


def move(kind: str, debit: LedgerAccount, credit: LedgerAccount, amount_minor: int, **options) -> LedgerTransaction:
    """The common two-leg transaction: `amount_minor` from `credit` to `debit`."""
    return post(kind, [Leg(debit, amount_minor), Leg(credit, -amount_minor)], **options)


# --- reports -----------------------------------------------------------------------------


def unbalanced_transactions(challenge_ids=None) -> list[int]:
    """Ids of transactions whose entries do not add up to zero per currency (should be none),
    over the whole ledger or only the given challenges' transactions."""
    statement = select(LedgerEntry.transaction_id).group_by(LedgerEntry.transaction_id, LedgerEntry.currency)
    if challenge_ids is not None:
        statement = statement.join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id).where(
            LedgerTransaction.challenge_id.in_(challenge_ids))
    rows = db.session.execute(statement.having(func.sum(LedgerEntry.amount_minor) != 0)).scalars().all()
    return sorted(set(rows))


def overdrawn_accounts() -> list[tuple[str, str, int]]:
    """(code, currency, held) of every account held below zero (should be none)."""
    held_amount = case((LedgerAccount.kind.in_(CREDIT_NORMAL), -func.sum(LedgerEntry.amount_minor)),
                       else_=func.sum(LedgerEntry.amount_minor))
    rows = db.session.execute(
        select(LedgerAccount.code, LedgerAccount.currency, held_amount)
        .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
        .group_by(LedgerAccount.id, LedgerAccount.code, LedgerAccount.currency, LedgerAccount.kind)).all()
    return [(code, currency, int(amount)) for code, currency, amount in rows if amount < 0]


def challenge_figures(challenge_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Per challenge: funded, allocated, paid, refunded (totals of those movements) and escrow held now."""
    ids = list(challenge_ids)
    figures: dict[int, dict[str, int]] = {cid: {"funded": 0, "allocated": 0, "paid": 0, "refunded": 0, "escrow": 0}
                                          for cid in ids}
    if not ids:
        return figures
    debits = (select(LedgerTransaction.challenge_id, LedgerTransaction.kind, func.sum(LedgerEntry.amount_minor))
              .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
              .where(LedgerTransaction.challenge_id.in_(ids), LedgerEntry.amount_minor > 0)
              .group_by(LedgerTransaction.challenge_id, LedgerTransaction.kind))
    names = {"funding": "funded", "allocation": "allocated", "payout": "paid", "refund": "refunded"}
    for challenge_id, kind, total in db.session.execute(debits):
        if kind in names:
            figures[challenge_id][names[kind]] += int(total)
    escrow = (select(LedgerAccount.challenge_id, func.sum(LedgerEntry.amount_minor))
              .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
              .where(LedgerAccount.kind == "escrow", LedgerAccount.challenge_id.in_(ids))
              .group_by(LedgerAccount.challenge_id))
    for challenge_id, total in db.session.execute(escrow):
        figures[challenge_id]["escrow"] = -int(total)
    return figures


def solver_figures(challenge_ids: Iterable[int]) -> dict[tuple[int, str], dict[str, int]]:
    """Per (solver, currency), counting only movements of these challenges: awarded, paid, owed now."""
    ids = list(challenge_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(LedgerAccount.user_id, LedgerAccount.currency, LedgerTransaction.kind,
               func.sum(LedgerEntry.amount_minor))
        .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerAccount.kind == "payable", LedgerTransaction.challenge_id.in_(ids))
        .group_by(LedgerAccount.user_id, LedgerAccount.currency, LedgerTransaction.kind))
    figures: dict[tuple[int, str], dict[str, int]] = {}
    for user_id, currency, kind, total in rows:
        row = figures.setdefault((user_id, currency), {"awarded": 0, "paid": 0, "owed": 0})
        total = int(total)
        row["owed"] -= total
        if kind == "allocation":
            row["awarded"] -= total
        elif kind == "payout":
            row["paid"] += total
    return figures
