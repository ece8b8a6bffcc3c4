"""Stripe-wire fixtures: localstripe plus the Connect fake in front of it, started once per session.

Tests point the SDK at `stripe_wire.url` only. After each test that used the wire, its faults,
accounts, transfers, saved idempotency keys and request log are forgotten.
"""

from __future__ import annotations

import pytest

from marketplace.payments.providers.stripe_provider import StripeProvider
from tests.payments.servers import LocalStripeServer, StripeWireFake, WebhookInbox

STRIPE_TEST_KEY = "sk_test_innobridge_payments"
WEBHOOK_SECRET = "whsec_innobridge_test_secret"


@pytest.fixture(scope="session")
def localstripe():
    with LocalStripeServer() as server:
        yield server


@pytest.fixture(scope="session")
def localstripe_url(localstripe) -> str:
    return localstripe.url


@pytest.fixture(scope="session")
def stripe_wire(localstripe_url):
    with StripeWireFake(upstream=localstripe_url) as wire:
        yield wire


@pytest.fixture(autouse=True)
def _fresh_stripe_wire(request):
    yield
    if "stripe_wire" in request.fixturenames:
        request.getfixturevalue("stripe_wire").reset()


@pytest.fixture(scope="session")
def make_stripe_provider(stripe_wire):
    """StripeProvider against the wire, with overridable settings (short timeouts, no retries...)."""

    def make(**overrides) -> StripeProvider:
        settings = {"api_base": stripe_wire.url, "webhook_secret": WEBHOOK_SECRET,
                    "max_network_retries": 2, "timeout_ms": 5_000} | overrides
        return StripeProvider(settings.pop("api_key", STRIPE_TEST_KEY), **settings)

    return make


@pytest.fixture(scope="session")
def stripe_provider(make_stripe_provider) -> StripeProvider:
    return make_stripe_provider()


@pytest.fixture(scope="session")
def webhook_inbox(localstripe):
    """Receives the signed webhooks localstripe sends (payment_intent.* and charge.* events)."""
    inbox = WebhookInbox().start()
    localstripe.register_webhook("innobridge-tests", inbox.url, WEBHOOK_SECRET)
    yield inbox
    inbox.stop()


# --- money-flow fixtures (database) --------------------------------------------------------



@pytest.fixture
def world(app, client, make_org, make_user, api_token, challenge_factory):  # noqa: F811 - the imported fixture
    """A center (manager, finance officers A and B) and builders for solvers, funding and awards."""
    from tests.payments.world import World

    return World(app, client, make_org, make_user, api_token, challenge_factory)
