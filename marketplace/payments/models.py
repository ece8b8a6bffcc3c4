"""Money records: funding intents and receipts, the double-entry ledger, payees, payout accounts, payouts and
provider events.

Every amount is integer minor units with its ISO currency; never a binary fraction.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import IdMixin, TimestampMixin, UTCDateTime, one_of
from marketplace.extensions import db

# The payout state machine: the one home of its states (the CHECK constraint is built from it) and of
# the moves between them; `payouts.move` is the only writer of `Payout.status`.
PAYOUT_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"sent", "paid", "failed"}),  # written, provider not yet known to have acted
    "sent": frozenset({"paid", "failed"}),  # wire instruction out, waiting for its bank reference
    "failed": frozenset({"pending", "paid"}),  # declined (nothing moved): retried, or a late success event
    "paid": frozenset({"reversed"}),  # the provider may take a transfer back
    "reversed": frozenset(),
}
REFUND_STATES = ("scheduled", "sending", "sent", "succeeded", "failed")



class LedgerAccount(IdMixin, TimestampMixin, db.Model):
    """A ledger account, e.g. `escrow:challenge:12`, `payable:user:7`, `clearing:stripe`."""

    __tablename__ = "ledger_accounts"

    code: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))  # escrow | payable | clearing | fees | funder
    currency: Mapped[str] = mapped_column(String(3))
    challenge_id: Mapped[int | None] = mapped_column(ForeignKey("challenges.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    __table_args__ = (UniqueConstraint("code", "currency"),)


class LedgerTransaction(IdMixin, TimestampMixin, db.Model):
    """A balanced movement: its entries sum to zero per currency."""

    __tablename__ = "ledger_transactions"

    kind: Mapped[str] = mapped_column(String(30))  # funding | allocation | payout | refund | reversal
    memo: Mapped[str] = mapped_column(String(300), default="")
    challenge_id: Mapped[int | None] = mapped_column(ForeignKey("challenges.id"), index=True)
    award_id: Mapped[int | None] = mapped_column(ForeignKey("awards.id"), index=True)
    # Makes "apply this once" a database fact (e.g. "payout:recipient:9", "event:stripe:evt_1").
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    entries: Mapped[list[LedgerEntry]] = relationship(
        back_populates="transaction", cascade="all, delete-orphan", lazy="selectin")


class LedgerEntry(IdMixin, db.Model):
    __tablename__ = "ledger_entries"

    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # debit positive, credit negative
    currency: Mapped[str] = mapped_column(String(3))

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")
    account: Mapped[LedgerAccount] = relationship(lazy="joined")


class PayeeProfile(TimestampMixin, db.Model):
    """Who is paid: identity and tax declaration, encrypted at rest (key from the environment)."""

    __tablename__ = "payee_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    legal_name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    residence_country: Mapped[str] = mapped_column(String(2))
    date_of_birth_enc: Mapped[bytes] = mapped_column(LargeBinary)
    tax_form: Mapped[str] = mapped_column(String(10))  # W-9 | W-8BEN | none
    tax_id_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    bank_details_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # for wires: JSON, encrypted
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PayoutAccount(IdMixin, TimestampMixin, db.Model):
    """A solver's account at a payment provider (a Stripe Connect account)."""

    __tablename__ = "payout_accounts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(120), unique=True)
    ready: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (UniqueConstraint("user_id", "provider"),)


class OutgoingMoneyMixin:
    """Money the platform sends through a provider (a payout, a refund). It is written with its idempotency key
    and committed before the provider is called; `external_id` is the provider's name for it, `last_error` the
    last failure, `completed_at` when it settled. The model adds `status` and `reference` (its own states)."""

    provider: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    external_id: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @staticmethod
    def checks(states) -> tuple:
        """The model's `__table_args__`: its status is one of `states`, its amount positive."""
        return (CheckConstraint(one_of("status", states), name="status"),
                CheckConstraint("amount_minor > 0", name="amount_positive"))


class Payout(IdMixin, TimestampMixin, OutgoingMoneyMixin, db.Model):
    """One transfer of one recipient's part of an award. Written before the provider is called."""

    __tablename__ = "payouts"

    award_recipient_id: Mapped[int] = mapped_column(ForeignKey("award_recipients.id"), unique=True)
    transfer_group: Mapped[str] = mapped_column(String(120))
    # pending (written, provider not yet known to have acted) | sent (wire instruction out) | paid
    # | failed (declined: nothing moved) | reversed (the provider took it back)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reference: Mapped[str | None] = mapped_column(String(120))  # wire reference (manual provider)

    __table_args__ = OutgoingMoneyMixin.checks(PAYOUT_TRANSITIONS)


class ProviderEventRecord(IdMixin, TimestampMixin, db.Model):
    """Each provider event (webhook or manual receipt) is applied once: its id is unique here."""

    __tablename__ = "provider_events"

    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(120))
    type: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    received_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("provider", "event_id"),)


class Refund(IdMixin, TimestampMixin, OutgoingMoneyMixin, db.Model):
    """Escrow going back to the funder (challenge cancelled, no award, or what a partial award left).

    Like a payout, it is written (with its idempotency key) and committed before the provider is called.
    """

    __tablename__ = "refunds"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    funding_intent_id: Mapped[int | None] = mapped_column(ForeignKey("funding_intents.id"))
    # scheduled (waiting for finance to send it) | sending (committed, provider being called)
    # | sent (wire instruction out) | succeeded | failed
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    reason: Mapped[str] = mapped_column(Text, default="")
    reference: Mapped[str | None] = mapped_column(String(140))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = OutgoingMoneyMixin.checks(REFUND_STATES)


class FundingReceipt(IdMixin, TimestampMixin, db.Model):
    """Money received for a challenge's escrow (a bank receipt recorded by a finance officer)."""

    __tablename__ = "funding_receipts"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    reference: Mapped[str] = mapped_column(String(120))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    received_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (UniqueConstraint("challenge_id", "reference"),
                      CheckConstraint("amount_minor > 0", name="amount_positive"))


class FundingIntent(IdMixin, TimestampMixin, db.Model):
    """A request to fund a challenge's escrow through a payment provider."""

    __tablename__ = "funding_intents"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(120), unique=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)

    client_secret = None  # not stored: Stripe's secret for the card form, set when the intent is opened
