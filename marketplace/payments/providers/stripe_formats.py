"""Stripe's formats: the countries it pays, its currency units, its errors and objects in our terms.

Pure functions and tables, no network: `stripe_provider.py` calls Stripe and maps its answers with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import stripe
from babel.numbers import get_currency_precision

from marketplace.payments.providers.interface import (
    EventKind,
    IdempotencyConflict,
    ProviderDeclined,
    ProviderError,
    ProviderUnavailable,
)

# --- Countries ---------------------------------------------------------------------------
# Self-serve cross-border payouts (https://docs.stripe.com/connect/cross-border-payouts, read
# 2026): a platform based in the US, UK, EEA, Canada or Switzerland can transfer to connected
# accounts in any of those regions. Payees elsewhere (China among them) are paid by manual
# wire. A US platform that Stripe enabled for its wider cross-border list can widen this
# with STRIPE_PAYOUT_COUNTRIES.
EEA_COUNTRIES = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",  # EU
    "IS", "LI", "NO",
})
CROSS_BORDER_PAYOUT_COUNTRIES = EEA_COUNTRIES | {"US", "GB", "CA", "CH"}

# --- Currency units ----------------------------------------------------------------------
# Our minor units follow Babel (ISO 4217). Stripe's API units differ for a few currencies
# (https://docs.stripe.com/currencies): ISK and UGX are sent in hundredths although they
# have no minor unit, HUF is two-decimal at Stripe but zero-decimal in ISO.
STRIPE_ZERO_DECIMAL = frozenset({
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "VND", "VUV", "XAF", "XOF", "XPF",
})
STRIPE_THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


def stripe_exponent(currency: str) -> int:
    if currency in STRIPE_ZERO_DECIMAL:
        return 0
    if currency in STRIPE_THREE_DECIMAL:
        return 3
    return 2


def to_stripe_amount(amount_minor: int, currency: str) -> int:
    shift = stripe_exponent(currency) - get_currency_precision(currency)
    if shift >= 0:
        amount = amount_minor * 10**shift
    else:
        factor = 10**-shift
        if amount_minor % factor:
            raise ValueError(f"{amount_minor} {currency} minor units cannot be expressed in Stripe's units")
        amount = amount_minor // factor
    if currency in STRIPE_THREE_DECIMAL and amount % 10:
        # Stripe requires the last of the three decimals to be 0 for these currencies.
        raise ValueError(f"Stripe needs {currency} amounts rounded to 0.01, got {amount_minor} minor units")
    return amount


def from_stripe_amount(amount: int, currency: str) -> int:
    shift = stripe_exponent(currency) - get_currency_precision(currency)
    if shift <= 0:
        return amount * 10**-shift
    factor = 10**shift
    if amount % factor:
        raise ProviderError(f"Stripe returned {amount} {currency}, not a whole number of minor units")
    return amount // factor


# --- Errors ------------------------------------------------------------------------------
# InvalidRequestError codes that mean "refused" rather than "our request was wrong".
DECLINE_CODES = frozenset({
    "balance_insufficient", "insufficient_funds", "insufficient_capabilities_for_transfer",
    "transfers_not_allowed", "account_invalid",
})


def translate_error(error: stripe.StripeError) -> ProviderError:
    message = error.user_message or str(error) or type(error).__name__
    status = error.http_status
    code = error.code
    if isinstance(error, stripe.CardError):
        body = (error.json_body or {}).get("error") or {}
        return ProviderDeclined(message, code=code, decline_code=body.get("decline_code"), http_status=status)
    if isinstance(error, stripe.IdempotencyError):
        return IdempotencyConflict(message, code=code, http_status=status)
    if isinstance(error, stripe.APIConnectionError | stripe.RateLimitError):
        return ProviderUnavailable(message, code=code, http_status=status)
    if isinstance(error, stripe.InvalidRequestError) and code in DECLINE_CODES:
        return ProviderDeclined(message, code=code, http_status=status)
    if isinstance(error, stripe.APIError) and (status is None or status >= 500 or status == 409):
        # 409: a concurrent request holds the same idempotency key; 5xx: Stripe's side.
        return ProviderUnavailable(message, code=code, http_status=status)
    return ProviderError(message, code=code, http_status=status)


# --- Mapping Stripe objects --------------------------------------------------------------
FUNDING_STATUS = {"succeeded": "succeeded", "canceled": "canceled"}  # every other status is still pending
REFUND_STATUS = {"succeeded": "succeeded", "failed": "failed", "canceled": "failed"}
EVENT_KINDS: dict[str, EventKind] = {
    "payment_intent.succeeded": "funding.received",
    "payment_intent.payment_failed": "funding.failed",
    "payment_intent.canceled": "funding.canceled",
    "charge.refunded": "funding.refunded",
    "transfer.created": "transfer.paid",
    "transfer.reversed": "transfer.reversed",
    "account.updated": "payout_account.updated",
}
# Which field of the object holds the amount an event moves.
EVENT_AMOUNT_FIELD = {"funding.refunded": "amount_refunded", "transfer.reversed": "amount_reversed"}


def plain(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if isinstance(obj, stripe.StripeObject) else dict(obj)


def id_of(value: Any) -> str | None:
    """An expandable field: an id string, an expanded object, or nothing."""
    if isinstance(value, Mapping):
        return value.get("id")
    return value or None


def upper_currency(value: str) -> str:
    return value.upper()
