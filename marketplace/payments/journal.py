"""The ledger journal as finance reads it: transactions with their lines, filtered, with balances per account.

One query builder (`transactions`) serves the page, its CSV export and the API, so the three always
list the same movements. A finance officer sees the transactions of their organizations'
challenges; an admin sees every transaction (platform ones, such as treasury moves, included).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain

from flask import Response, stream_with_context
from sqlalchemy import Select, func, select

from marketplace.api import page_of
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.money import Money
from marketplace.payments.ledger import unbalanced_transactions
from marketplace.payments.models import LedgerAccount, LedgerEntry, LedgerTransaction
from marketplace.payments.reports import challenge_rows, solver_rows, visible_challenge_ids

CSV_COLUMNS = ("transaction_id", "created_at", "kind", "memo", "challenge_id", "award_id", "account",
               "account_kind", "currency", "debit", "credit")


@dataclass(frozen=True)
class JournalFilter:
    challenge_id: int | None = None
    kind: str | None = None  # one of ledger.KINDS
    account: str | None = None  # a code prefix: "escrow", "payable:user:7"
    since: date | None = None
    until: date | None = None  # inclusive


def _scoped(statement: Select, user, challenge_id: int | None) -> Select:
    ids = visible_challenge_ids(user)
    if challenge_id is not None:
        if challenge_id not in ids:
            raise NotFound()
        return statement.where(LedgerTransaction.challenge_id == challenge_id)
    if user.is_admin:
        return statement
    return statement.where(LedgerTransaction.challenge_id.in_(ids or [-1]))


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _filtered(statement: Select, user, filters: JournalFilter) -> Select:
    statement = _scoped(statement, user, filters.challenge_id)
    if filters.kind:
        statement = statement.where(LedgerTransaction.kind == filters.kind)
    if filters.since:
        statement = statement.where(LedgerTransaction.created_at >= _start_of(filters.since))
    if filters.until and filters.until < date.max:  # date.max: no end (and no day after it to compute)
        statement = statement.where(LedgerTransaction.created_at < _start_of(filters.until + timedelta(days=1)))
    if filters.account:
        touching = (select(LedgerEntry.transaction_id).join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
                    .where(LedgerAccount.code.startswith(filters.account, autoescape=True)))
        statement = statement.where(LedgerTransaction.id.in_(touching))
    return statement


def transactions(user, filters: JournalFilter) -> Select:
    """The visible transactions matching `filters`, newest first."""
    return _filtered(select(LedgerTransaction), user, filters).order_by(LedgerTransaction.id.desc())


@dataclass(frozen=True)
class AccountBalance:
    code: str
    kind: str
    currency: str
    debits: Money
    credits: Money
    balance: Money  # debits minus credits, as an amount on `side`
    side: str  # "debit", "credit", or "" when the lines cancel out


def balances(user, filters: JournalFilter) -> list[AccountBalance]:
    """Per account touched by the matching transactions: debits, credits and what it holds, from those lines."""
    matching = _filtered(select(LedgerTransaction.id), user, filters)
    debit = func.coalesce(func.sum(LedgerEntry.amount_minor).filter(LedgerEntry.amount_minor > 0), 0)
    credit = func.coalesce(func.sum(LedgerEntry.amount_minor).filter(LedgerEntry.amount_minor < 0), 0)
    rows = db.session.execute(
        select(LedgerAccount.code, LedgerAccount.kind, LedgerEntry.currency, debit, credit)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerEntry.transaction_id.in_(matching))
        .group_by(LedgerAccount.code, LedgerAccount.kind, LedgerEntry.currency)
        .order_by(LedgerAccount.kind, LedgerAccount.code, LedgerEntry.currency)).all()
    result = []
    for code, kind, currency, debits, credits in rows:
        net = int(debits) + int(credits)
        side = "debit" if net > 0 else "credit" if net < 0 else ""
        result.append(AccountBalance(code, kind, currency, Money(int(debits), currency), Money(-int(credits), currency),
                                     Money(abs(net), currency), side))
    return result


def transaction_json(transaction: LedgerTransaction) -> dict:
    def side(entry: LedgerEntry, sign: int) -> dict | None:
        return Money(abs(entry.amount_minor), entry.currency).as_dict() if entry.amount_minor * sign > 0 else None

    return {
        "id": transaction.id, "kind": transaction.kind, "memo": transaction.memo,
        "challenge_id": transaction.challenge_id, "award_id": transaction.award_id,
        "dedupe_key": transaction.dedupe_key, "created_at": transaction.created_at.isoformat(),
        "entries": [{"account": e.account.code, "account_kind": e.account.kind,
                     "debit": side(e, 1), "credit": side(e, -1)} for e in transaction.entries],
        "balanced": sum(e.amount_minor for e in transaction.entries) == 0,
    }


def ledger_json(user, filters: JournalFilter, *, page: int, per_page: int) -> dict:
    """The API's ledger: a page of the journal, balances per account, challenge and solver, and the check."""
    body = page_of(db.session, transactions(user, filters), page, per_page, transaction_json)
    ids = [filters.challenge_id] if filters.challenge_id is not None else visible_challenge_ids(user)
    body["balances"] = {
        "accounts": [{"account": b.code, "account_kind": b.kind, "debits": b.debits.as_dict(),
                      "credits": b.credits.as_dict(), "balance": b.balance.as_dict(), "side": b.side}
                     for b in balances(user, filters)],
        "challenges": [{"challenge_id": row["challenge"].id, "currency": row["currency"],
                        **{name: row[name].as_dict() for name in ("funded", "allocated", "paid", "refunded",
                                                                   "escrow")}}
                       for row in challenge_rows(ids)],
        "solvers": [{"user_id": row["user"].id, "display_name": row["user"].display_name, "currency": row["currency"],
                     **{name: row[name].as_dict() for name in ("awarded", "paid", "owed")}}
                    for row in solver_rows(ids)],
    }
    # Admins check the whole ledger; officers the transactions of the challenges they see.
    body["all_balanced"] = not unbalanced_transactions(None if user.is_admin and filters.challenge_id is None
                                                       else (ids or [-1]))
    return body


def csv_lines(user, filters: JournalFilter, *, batch: int = 1000) -> Iterator[str]:
    """The journal as CSV, one row per line of a transaction, streamed in batches."""
    statement = transactions(user, filters).execution_options(yield_per=batch)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield _drain(buffer)
    for transaction in db.session.scalars(statement):
        for entry in transaction.entries:
            amount = Money(abs(entry.amount_minor), entry.currency).as_dict()["amount"]
            writer.writerow((transaction.id, transaction.created_at.isoformat(), transaction.kind, transaction.memo,
                             transaction.challenge_id or "", transaction.award_id or "", entry.account.code,
                             entry.account.kind, entry.currency, amount if entry.amount_minor > 0 else "",
                             amount if entry.amount_minor < 0 else ""))
        yield _drain(buffer)


def csv_response(user, filters: JournalFilter) -> Response:
    lines = csv_lines(user, filters)
    first = next(lines)  # runs the permission check before the answer starts
    return Response(stream_with_context(chain([first], lines)), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=ledger.csv"})


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
