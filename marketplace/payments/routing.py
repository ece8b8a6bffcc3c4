"""Which provider moves a given payment, and the provider objects themselves (one per configuration)."""

from __future__ import annotations

from flask import current_app

from marketplace.payments.manual_provider import ManualProvider
from marketplace.payments.providers import PaymentProvider, provider_from_config

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


def provider_named(name: str) -> PaymentProvider:
    """The provider a stored record names. A Stripe record needs Stripe to be configured."""
    if name == "manual":
        return ManualProvider()
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
