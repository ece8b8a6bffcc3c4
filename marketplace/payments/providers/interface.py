"""The payment-provider interface: what the ledger and award services may ask of a provider.

It names no implementation: `registry.py` is the only module that knows them and picks one
(`provider_from_config(app.config)`, `current_provider()`).

Money crosses this boundary as an integer amount in the currency's minor units *as Babel
counts them* (the same units the ledger stores) plus an upper-case ISO 4217 code. Each
provider converts to its own wire units; callers never see them.

Error contract, important for exactly-once payouts:
- `ProviderDeclined`: the provider refused (card declined, insufficient balance). Nothing
  happened; retrying with the same input will fail again.
- `ProviderUnavailable`: timeout, connection loss, 5xx, rate limit. The outcome is UNKNOWN:
  the provider may have acted. Keep the payout pending and retry with the SAME idempotency
  key, or ask `find_transfer` (reconcile).
- `ProviderError`: anything else (bad request, bad credentials): a bug or a configuration
  problem, not retryable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

FundingStatus = Literal["pending", "succeeded", "canceled"]
TransferStatus = Literal["pending", "paid", "reversed"]
RefundStatus = Literal["pending", "succeeded", "failed"]

# Normalised event kinds, so Stripe webhooks and manual confirmations can be applied by one function.
# "funding.received": money arrived in escrow (event.amount_minor says how much).
EventKind = Literal[
    "funding.received", "funding.failed", "funding.canceled", "funding.refunded",
    "transfer.paid", "transfer.reversed", "payout_account.updated", "other",
]

_CURRENCY = re.compile(r"^[A-Z]{3}$")


def check_money(amount_minor: int, currency: str, *, allow_zero: bool = False) -> None:
    """Reject anything but a positive integer amount and an upper-case ISO currency code."""
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise TypeError(f"amount_minor must be an int in minor units, got {type(amount_minor).__name__}")
    if amount_minor < 0 or (amount_minor == 0 and not allow_zero):
        raise ValueError(f"amount_minor must be positive, got {amount_minor}")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise ValueError(f"currency must be an upper-case ISO 4217 code, got {currency!r}")


# --- Value types -------------------------------------------------------------------------


def normalise_reference(reference: str) -> str:
    """Bank references compare without case and surrounding or repeated blanks."""
    cleaned = re.sub(r"\s+", " ", (reference or "").strip()).upper()
    if not cleaned:
        raise ValueError("a wire reference is required")
    if len(cleaned) > 140:  # SWIFT MT103 field 70 holds 4 x 35 characters
        raise ValueError("a wire reference has at most 140 characters")
    return cleaned


@dataclass(frozen=True)
class FundingIntent:
    provider: str
    external_id: str
    status: FundingStatus
    amount_minor: int
    currency: str
    client_secret: str | None = None  # for Stripe.js on the funding page; None for manual
    charge_id: str | None = None  # Stripe charge once paid (usable as a transfer's source_transaction)


@dataclass(frozen=True)
class PayoutAccount:
    provider: str
    external_id: str
    ready: bool = False  # onboarding finished and payouts possible
    requirements_due: tuple[str, ...] = ()


@dataclass(frozen=True)
class Transfer:
    provider: str
    external_id: str
    status: TransferStatus
    amount_minor: int
    currency: str
    destination: str
    transfer_group: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Refund:
    provider: str
    external_id: str
    status: RefundStatus
    amount_minor: int
    currency: str
    funding_id: str


@dataclass(frozen=True)
class ProviderEvent:
    """One provider notification. `id` is unique per provider: store it to apply each event once."""

    provider: str
    id: str
    type: str  # the provider's own type, e.g. "payment_intent.succeeded"
    kind: EventKind
    object_id: str | None
    data: Mapping[str, Any]  # the provider object, plain JSON types
    created: int | None = None  # Unix seconds
    amount_minor: int | None = None  # converted to Babel minor units when the object carries an amount
    currency: str | None = None


# --- Errors ------------------------------------------------------------------------------


class ProviderError(Exception):
    """A provider call failed. Not retryable unless a subclass says so."""

    retryable = False

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status


class ProviderDeclined(ProviderError):
    """The provider refused the operation (card declined, insufficient balance...)."""

    def __init__(self, message: str, *, code: str | None = None, decline_code: str | None = None,
                 http_status: int | None = None):
        super().__init__(message, code=code, http_status=http_status)
        self.decline_code = decline_code


class ProviderUnavailable(ProviderError):
    """Timeout, lost connection, 5xx or rate limit: the outcome is unknown, retry with the same key."""

    retryable = True


class IdempotencyConflict(ProviderError):
    """An idempotency key was reused with different parameters: a bug in the caller."""


class DuplicateTransfer(ProviderError):
    """More than one transfer carries the same idempotency key: money went out twice. Alert a human."""


class InvalidWebhook(ProviderError):
    """A webhook request that must be answered with 400."""


class InvalidSignature(InvalidWebhook):
    """Missing, malformed or wrong signature, or a timestamp older than the tolerance."""


# --- The interface -----------------------------------------------------------------------


@runtime_checkable
class PaymentProvider(Protocol):
    name: str
    # False for the manual provider: its state lives only in our ledger, so reconcile has nobody to ask.
    has_remote_state: bool

    def supports_country(self, country: str) -> bool:
        """Can this provider pay out to a payee resident in `country` (ISO 3166 alpha-2)?"""

    # Escrow funding
    def create_funding(self, challenge_ref: str, amount_minor: int, currency: str, idempotency_key: str
                       ) -> FundingIntent: ...

    def retrieve_funding(self, external_id: str) -> FundingIntent: ...

    def refund_funding(self, external_id: str, amount_minor: int, currency: str, idempotency_key: str
                       ) -> Refund: ...

    # Payees
    def create_payout_account(self, user_ref: str, email: str, country: str, idempotency_key: str
                              ) -> PayoutAccount: ...

    def onboarding_link(self, account_id: str, return_url: str, refresh_url: str) -> str: ...

    def retrieve_payout_account(self, account_id: str) -> PayoutAccount: ...

    def payout_account_ready(self, account_id: str) -> bool: ...

    # Payouts
    def transfer(self, amount_minor: int, currency: str, destination_account: str, idempotency_key: str,
                 metadata: Mapping[str, str], *, transfer_group: str,
                 source_transaction: str | None = None) -> Transfer: ...

    def find_transfer(self, *, transfer_group: str, idempotency_key: str | None = None) -> Transfer | None: ...

    # Notifications
    def parse_webhook(self, payload: bytes, signature_header: str | None) -> ProviderEvent: ...
