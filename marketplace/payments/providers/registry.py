"""The provider registry: the only module naming an implementation (Stripe, manual).

    provider_from_config(config)   Stripe when STRIPE_SECRET_KEY is set, manual bank wires otherwise
    current_provider()             the configured provider, built once per settings
    manual_provider()              the bank-wire provider (wires are recorded whatever is configured)
    provider_named(name)           the provider a stored record names
    payout_provider_for(country)   which provider pays a payee resident in `country`
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app

from marketplace.payments.providers.interface import PaymentProvider
from marketplace.payments.providers.manual_provider import ManualProvider

_SETTINGS = ("STRIPE_SECRET_KEY", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET", "STRIPE_WEBHOOK_TOLERANCE_SECONDS",
             "STRIPE_MAX_NETWORK_RETRIES", "STRIPE_TIMEOUT_MS", "STRIPE_PLATFORM_COUNTRY", "STRIPE_PAYOUT_COUNTRIES")


def current_provider() -> PaymentProvider:
    """The configured provider (Stripe with STRIPE_SECRET_KEY, manual otherwise), built once per settings."""
    key = tuple(str(current_app.config.get(name)) for name in _SETTINGS)
    cache = current_app.extensions.setdefault("payments.providers", {})
    if key not in cache:
        cache.clear()
        cache[key] = provider_from_config(current_app.config)
    return cache[key]


def manual_provider() -> ManualProvider:
    return ManualProvider()


def provider_named(name: str) -> PaymentProvider:
    """The provider a stored record names. A Stripe record needs Stripe to be configured."""
    if name == "manual":
        return manual_provider()
    provider = current_provider()
    if provider.name != name:
        raise RuntimeError(f"a {name} payment is recorded but the configured provider is {provider.name}")
    return provider


def payout_provider_for(country: str) -> str:
    """'stripe' when Stripe is configured and can pay a payee resident in `country`; 'manual' (wire) otherwise."""
    provider = current_provider()
    if provider.name != "manual" and provider.supports_country(country):
        return provider.name
    return "manual"


def provider_from_config(config: Mapping[str, Any]) -> PaymentProvider:
    """Stripe when STRIPE_SECRET_KEY is set, the manual bank-wire provider otherwise.

    Keys read: STRIPE_SECRET_KEY, STRIPE_API_BASE (a local Stripe-compatible server),
    STRIPE_WEBHOOK_SECRET, STRIPE_WEBHOOK_TOLERANCE_SECONDS (default 300),
    STRIPE_MAX_NETWORK_RETRIES (default 2), STRIPE_TIMEOUT_MS (default 30000),
    STRIPE_PLATFORM_COUNTRY (default US), STRIPE_PAYOUT_COUNTRIES (comma-separated override of
    the documented cross-border list in stripe_provider.py).
    """
    secret_key = config.get("STRIPE_SECRET_KEY")
    if not secret_key:
        return ManualProvider()

    # Imported here: the Stripe SDK loads only where Stripe is configured.
    from marketplace.payments.providers.stripe_provider import StripeProvider

    countries = config.get("STRIPE_PAYOUT_COUNTRIES")
    if isinstance(countries, str):
        countries = [part.strip() for part in countries.split(",") if part.strip()]
    return StripeProvider(
        secret_key,
        api_base=config.get("STRIPE_API_BASE") or None,
        webhook_secret=config.get("STRIPE_WEBHOOK_SECRET") or None,
        webhook_tolerance_seconds=_int_setting(config, "STRIPE_WEBHOOK_TOLERANCE_SECONDS", 300),
        max_network_retries=_int_setting(config, "STRIPE_MAX_NETWORK_RETRIES", 2),
        timeout_ms=_int_setting(config, "STRIPE_TIMEOUT_MS", 30_000),
        platform_country=str(config.get("STRIPE_PLATFORM_COUNTRY") or "US"),
        payout_countries=countries or None,
    )


def _int_setting(config: Mapping[str, Any], key: str, default: int) -> int:
    value = config.get(key)
    return default if value is None or value == "" else int(value)
