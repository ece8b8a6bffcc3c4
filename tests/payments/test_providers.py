"""The payment providers over real HTTP: localstripe for PaymentIntents and refunds, the Connect
fake (in front of it) for accounts, account links, transfers, idempotency and injected faults.
No mock of the SDK anywhere; no database."""

from __future__ import annotations

import ast
import json
import re
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from marketplace.payments.providers.interface import (
    DuplicateTransfer,
    IdempotencyConflict,
    InvalidSignature,
    InvalidWebhook,
    PaymentProvider,
    ProviderDeclined,
    ProviderError,
    ProviderUnavailable,
    check_money,
    normalise_reference,
)
from marketplace.payments.providers.manual_provider import ManualProvider
from marketplace.payments.providers.registry import provider_from_config
from marketplace.payments.providers.stripe_formats import (
    CROSS_BORDER_PAYOUT_COUNTRIES,
    from_stripe_amount,
    to_stripe_amount,
)
from marketplace.payments.providers.stripe_provider import StripeProvider
from tests.payments.conftest import STRIPE_TEST_KEY, WEBHOOK_SECRET
from tests.payments.fake_stripe_connect import sign_payload

PAYMENTS_PACKAGE = Path(__file__).resolve().parents[2] / "marketplace" / "payments"
RETURN_URL = "https://innobridge.example/me/payout-account/done"
REFRESH_URL = "https://innobridge.example/me/payout-account/refresh"


def onboarded_account(provider: StripeProvider, country: str = "DE", ref: str = "user:1") -> str:
    account = provider.create_payout_account(ref, f"{ref.replace(':', '')}@example.org", country, f"acct-{ref}")
    link = provider.onboarding_link(account.external_id, RETURN_URL, REFRESH_URL)
    assert requests.get(link, allow_redirects=False, timeout=5).status_code == 302
    return account.external_id


def localstripe_get(localstripe_url: str, path: str) -> dict:
    answer = requests.get(f"{localstripe_url}{path}", headers={"Authorization": f"Bearer {STRIPE_TEST_KEY}"},
                          timeout=5)
    answer.raise_for_status()
    return answer.json()


# --- Pure parts --------------------------------------------------------------------------


def test_factory_chooses_manual_without_a_key_and_stripe_with_one():
    assert isinstance(provider_from_config({"STRIPE_SECRET_KEY": None}), ManualProvider)
    stripe_provider = provider_from_config({
        "STRIPE_SECRET_KEY": "sk_test_factory", "STRIPE_API_BASE": "http://127.0.0.1:9",
        "STRIPE_PAYOUT_COUNTRIES": "de, cn", "STRIPE_MAX_NETWORK_RETRIES": "0",
    })
    assert isinstance(stripe_provider, StripeProvider)
    assert stripe_provider.max_network_retries == 0
    assert stripe_provider.supports_country("CN") and not stripe_provider.supports_country("US")
    assert isinstance(stripe_provider, PaymentProvider) and isinstance(ManualProvider(), PaymentProvider)


def test_stripe_pays_out_only_to_the_documented_countries():
    provider = StripeProvider("sk_test_countries", api_base="http://127.0.0.1:9")
    for country in ("US", "GB", "DE", "fr", "CH", "CA", "NO"):
        assert provider.supports_country(country)
    for country in ("CN", "IN", "BR", "RU", "JP"):
        assert not provider.supports_country(country)
    assert len(CROSS_BORDER_PAYOUT_COUNTRIES) == 34  # EU 27 + IS, LI, NO + US, GB, CA, CH


@pytest.mark.parametrize(("amount_minor", "currency", "on_the_wire"), [
    (123456, "USD", 123456),
    (150000, "JPY", 150000),   # zero-decimal both in ISO and at Stripe
    (5000, "ISK", 500000),     # ISO has no minor unit, Stripe wants hundredths
    (700, "HUF", 70000),       # zero-decimal in ISO, two-decimal at Stripe
    (12340, "KWD", 12340),     # three decimals; Stripe needs the last one to be 0
])
def test_amounts_convert_between_iso_minor_units_and_stripe_units(amount_minor, currency, on_the_wire):
    assert to_stripe_amount(amount_minor, currency) == on_the_wire
    assert from_stripe_amount(on_the_wire, currency) == amount_minor


def test_amounts_stripe_cannot_represent_are_refused():
    with pytest.raises(ValueError, match="KWD"):
        to_stripe_amount(12345, "KWD")
    with pytest.raises(ProviderError):
        from_stripe_amount(500050, "ISK")


@pytest.mark.parametrize("amount", [10.5, Decimal("10"), "10", True, None])
def test_money_must_be_an_integer_amount(amount):
    with pytest.raises(TypeError):
        check_money(amount, "USD")


@pytest.mark.parametrize(("amount", "currency"), [(0, "USD"), (-5, "USD"), (5, "usd"), (5, "US"), (5, "")])
def test_money_must_be_positive_with_an_iso_code(amount, currency):
    with pytest.raises(ValueError):
        check_money(amount, currency)


def test_only_the_registry_names_a_provider_implementation():
    modules = ("providers.stripe_provider", "providers.manual_provider")
    for source in PAYMENTS_PACKAGE.rglob("*.py"):
        if source.name in ("registry.py", "stripe_provider.py", "manual_provider.py"):
            continue
        nodes = list(ast.walk(ast.parse(source.read_text())))
        classes = {n.id for n in nodes if isinstance(n, ast.Name)} & {"StripeProvider", "ManualProvider"}
        imports = [n.module for n in nodes if isinstance(n, ast.ImportFrom) and (n.module or "").endswith(modules)]
        assert not classes and not imports, source.name


def test_no_floats_in_the_payments_package():
    for source in PAYMENTS_PACKAGE.rglob("*.py"):
        text = source.read_text()
        assert not re.search(r"\bfloat\b", text), f"'float' appears in {source.name}"
        constants = [node.value for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Constant)]
        assert not [c for c in constants if type(c) is float], f"a float literal in {source.name}"


# --- Funding against localstripe --------------------------------------------------------


def test_funding_intent_is_created_once_per_idempotency_key_and_paid_with_a_test_card(stripe_provider, stripe_wire):
    first = stripe_provider.create_funding("challenge:41", 2_500_000, "USD", "challenge-41-funding")
    again = stripe_provider.create_funding("challenge:41", 2_500_000, "USD", "challenge-41-funding")

    assert first.external_id.startswith("pi_") and again.external_id == first.external_id
    assert first.status == "pending" and first.client_secret and first.amount_minor == 2_500_000
    assert [r.outcome for r in stripe_wire.requests_to("/v1/payment_intents")] == ["executed", "replayed"]

    paid = stripe_provider.confirm_test_funding(first.external_id, "pm_card_visa")
    assert paid.status == "succeeded" and paid.charge_id.startswith("ch_")
    assert stripe_provider.retrieve_funding(first.external_id).status == "succeeded"


def test_reusing_a_funding_key_for_another_amount_is_a_conflict(stripe_provider):
    stripe_provider.create_funding("challenge:42", 100_000, "EUR", "challenge-42-funding")
    with pytest.raises(IdempotencyConflict):
        stripe_provider.create_funding("challenge:42", 999_999, "EUR", "challenge-42-funding")


def test_funding_amounts_reach_stripe_in_stripe_units(stripe_provider, localstripe_url):
    funding = stripe_provider.create_funding("challenge:43", 5000, "ISK", "challenge-43-funding")
    assert localstripe_get(localstripe_url, f"/v1/payment_intents/{funding.external_id}")["amount"] == 500000
    assert funding.amount_minor == 5000 and funding.currency == "ISK"


def test_a_declined_card_raises_provider_declined_and_leaves_the_funding_pending(stripe_provider):
    funding = stripe_provider.create_funding("challenge:44", 80_000, "USD", "challenge-44-funding")
    with pytest.raises(ProviderDeclined) as declined:
        stripe_provider.confirm_test_funding(funding.external_id, "pm_card_chargeCustomerFail")  # 4000000000000341
    assert declined.value.code == "card_declined" and declined.value.http_status == 402
    assert not declined.value.retryable
    assert stripe_provider.retrieve_funding(funding.external_id).status == "pending"


def test_partial_refund_of_a_funding(stripe_provider, stripe_wire, localstripe_url):
    funding = stripe_provider.create_funding("challenge:45", 90_000, "USD", "challenge-45-funding")
    stripe_provider.confirm_test_funding(funding.external_id)

    refund = stripe_provider.refund_funding(funding.external_id, 30_000, "USD", "challenge-45-refund")
    replay = stripe_provider.refund_funding(funding.external_id, 30_000, "USD", "challenge-45-refund")

    assert refund.status == "succeeded" and refund.amount_minor == 30_000 and refund.funding_id == funding.external_id
    assert replay.external_id == refund.external_id
    charge = localstripe_get(localstripe_url, f"/v1/payment_intents/{funding.external_id}")["latest_charge"]
    assert charge["amount_refunded"] == 30_000  # refunded once, not twice


def test_refund_in_the_wrong_currency_is_refused_before_anything_moves(stripe_provider, stripe_wire):
    funding = stripe_provider.create_funding("challenge:46", 90_000, "USD", "challenge-46-funding")
    stripe_provider.confirm_test_funding(funding.external_id)
    with pytest.raises(ProviderError, match="USD"):
        stripe_provider.refund_funding(funding.external_id, 30_000, "EUR", "challenge-46-refund")
    assert stripe_wire.requests_to("/v1/refunds") == []


def test_a_bad_api_key_is_a_provider_error_not_a_retryable_one(make_stripe_provider):
    provider = make_stripe_provider(api_key="sk_x")
    with pytest.raises(ProviderError) as funding_error:
        provider.create_funding("challenge:47", 1000, "USD", "challenge-47-funding")
    with pytest.raises(ProviderError) as transfer_error:
        provider.transfer(1000, "USD", "acct_x", "award-47", {}, transfer_group="award-47")
    for error in (funding_error.value, transfer_error.value):
        assert error.http_status == 401 and not error.retryable
        assert not isinstance(error, ProviderUnavailable | ProviderDeclined)


# --- Connect accounts through the fake ---------------------------------------------------


def test_payout_account_onboarding_through_the_hosted_link(stripe_provider, stripe_wire):
    account = stripe_provider.create_payout_account("user:7", "lena@example.org", "de", "user-7-payout-account")
    assert account.external_id.startswith("acct_") and not account.ready and account.requirements_due
    stored = stripe_wire.accounts[account.external_id]
    assert stored["type"] == "express" and stored["country"] == "DE"
    assert stored["capabilities"] == {"transfers": "inactive"}
    assert stored["tos_acceptance"]["service_agreement"] == "recipient"  # cross-border from a US platform

    link = stripe_provider.onboarding_link(account.external_id, RETURN_URL, REFRESH_URL)
    assert not stripe_provider.payout_account_ready(account.external_id)
    visit = requests.get(link, allow_redirects=False, timeout=5)
    assert visit.status_code == 302 and visit.headers["Location"] == RETURN_URL
    assert stripe_provider.payout_account_ready(account.external_id)

    spent = requests.get(link, allow_redirects=False, timeout=5)  # links are single-use
    assert spent.headers["Location"] == REFRESH_URL


def test_domestic_payout_accounts_keep_the_full_agreement(stripe_provider, stripe_wire):
    account = stripe_provider.create_payout_account("user:8", "sam@example.org", "US", "user-8-payout-account")
    assert stripe_wire.accounts[account.external_id]["tos_acceptance"]["service_agreement"] == "full"


def test_payout_account_creation_is_idempotent(stripe_provider, stripe_wire):
    first = stripe_provider.create_payout_account("user:9", "kim@example.org", "GB", "user-9-payout-account")
    again = stripe_provider.create_payout_account("user:9", "kim@example.org", "GB", "user-9-payout-account")
    assert again.external_id == first.external_id and len(stripe_wire.accounts) == 1


def test_no_stripe_account_for_a_country_stripe_cannot_pay(stripe_provider, stripe_wire):
    with pytest.raises(ProviderError) as refused:
        stripe_provider.create_payout_account("user:10", "wei@example.org", "CN", "user-10-payout-account")
    assert refused.value.code == "country_unsupported"
    assert stripe_wire.requests_to("/v1/accounts") == []


# --- Transfers: exactly once -------------------------------------------------------------


def test_transfer_pays_the_connected_account(stripe_provider, stripe_wire):
    destination = onboarded_account(stripe_provider)
    paid = stripe_provider.transfer(600_000, "USD", destination, "award-1-payout", {"award_id": "1"},
                                    transfer_group="award-1")
    assert paid.status == "paid" and paid.external_id.startswith("tr_")
    assert (paid.amount_minor, paid.currency, paid.destination) == (600_000, "USD", destination)
    assert paid.metadata == {"award_id": "1", "idempotency_key": "award-1-payout"}
    [sent] = stripe_wire.transfers
    assert (sent["amount"], sent["currency"], sent["transfer_group"]) == (600_000, "usd", "award-1")


def test_the_same_transfer_key_twice_moves_money_once(stripe_provider, stripe_wire):
    destination = onboarded_account(stripe_provider)
    first = stripe_provider.transfer(400_000, "USD", destination, "award-2-payout", {}, transfer_group="award-2")
    second = stripe_provider.transfer(400_000, "USD", destination, "award-2-payout", {}, transfer_group="award-2")
    assert second.external_id == first.external_id
    assert len(stripe_wire.transfers) == 1
    assert [r.outcome for r in stripe_wire.requests_to("/v1/transfers")] == ["executed", "replayed"]


def test_the_same_transfer_key_with_another_amount_is_refused(stripe_provider, stripe_wire):
    destination = onboarded_account(stripe_provider)
    stripe_provider.transfer(400_000, "USD", destination, "award-3-payout", {}, transfer_group="award-3")
    with pytest.raises(IdempotencyConflict):
        stripe_provider.transfer(500_000, "USD", destination, "award-3-payout", {}, transfer_group="award-3")
    assert len(stripe_wire.transfers) == 1


def test_sdk_retry_after_a_500_creates_one_transfer(stripe_provider, stripe_wire):
    destination = onboarded_account(stripe_provider)
    stripe_wire.fail_next("transfers", status=500)
    paid = stripe_provider.transfer(100_000, "USD", destination, "award-4-payout", {}, transfer_group="award-4")
    attempts = stripe_wire.requests_to("/v1/transfers")
    assert [r.outcome for r in attempts] == ["failed", "executed"]
    assert {r.idempotency_key for r in attempts} == {"award-4-payout"}
    assert [t["id"] for t in stripe_wire.transfers] == [paid.external_id]


def test_persistent_5xx_is_unavailable_and_a_later_retry_pays_once(stripe_provider, stripe_wire):
    destination = onboarded_account(stripe_provider)
    stripe_wire.fail_next("transfers", status=503, times=3)  # the first call and both SDK retries
    with pytest.raises(ProviderUnavailable) as unavailable:
        stripe_provider.transfer(100_000, "USD", destination, "award-5-payout", {}, transfer_group="award-5")
    assert unavailable.value.retryable and stripe_wire.transfers == []

    paid = stripe_provider.transfer(100_000, "USD", destination, "award-5-payout", {}, transfer_group="award-5")
    assert [t["id"] for t in stripe_wire.transfers] == [paid.external_id]


def test_sdk_retry_after_a_dropped_answer_replays_the_transfer(stripe_provider, stripe_wire):
    destination = onboarded_account(stripe_provider)
    stripe_wire.crash_after_next("transfers")
    paid = stripe_provider.transfer(250_000, "USD", destination, "award-6-payout", {}, transfer_group="award-6")
    assert [r.outcome for r in stripe_wire.requests_to("/v1/transfers")] == ["crashed", "replayed"]
    assert [t["id"] for t in stripe_wire.transfers] == [paid.external_id]


def test_sdk_retry_after_a_client_timeout_replays_the_transfer(make_stripe_provider, stripe_wire):
    provider = make_stripe_provider(timeout_ms=300, max_network_retries=1)
    destination = onboarded_account(provider)
    stripe_wire.delay_next("transfers", seconds=2)
    paid = provider.transfer(250_000, "USD", destination, "award-7-payout", {}, transfer_group="award-7")
    assert [r.outcome for r in stripe_wire.requests_to("/v1/transfers")] == ["executed", "replayed"]
    assert [t["id"] for t in stripe_wire.transfers] == [paid.external_id]


def test_find_transfer_after_a_crash_without_retries(make_stripe_provider, stripe_wire):
    provider = make_stripe_provider(max_network_retries=0)
    destination = onboarded_account(provider)
    assert provider.find_transfer(transfer_group="award-8", idempotency_key="award-8-payout") is None

    stripe_wire.crash_after_next("transfers")
    with pytest.raises(ProviderUnavailable):  # the answer was lost: outcome unknown
        provider.transfer(300_000, "USD", destination, "award-8-payout", {"award_id": "8"}, transfer_group="award-8")

    found = provider.find_transfer(transfer_group="award-8", idempotency_key="award-8-payout")
    assert found is not None and found.amount_minor == 300_000 and found.metadata["award_id"] == "8"
    assert [t["id"] for t in stripe_wire.transfers] == [found.external_id]
    # A reconcile that retries with the same key instead gets the same transfer back.
    retried = provider.transfer(300_000, "USD", destination, "award-8-payout", {"award_id": "8"},
                                transfer_group="award-8")
    assert retried.external_id == found.external_id and len(stripe_wire.transfers) == 1


def test_find_transfer_pages_through_the_group_and_matches_the_key(stripe_provider, stripe_wire):
    destination = onboarded_account(stripe_provider)
    keys = [f"batch-{n}" for n in range(105)]
    for key in keys:
        stripe_provider.transfer(1_000, "EUR", destination, key, {}, transfer_group="batch-1")
    stripe_provider.transfer(1_000, "EUR", destination, "other-0", {}, transfer_group="batch-2")

    oldest = stripe_provider.find_transfer(transfer_group="batch-1", idempotency_key="batch-0")
    assert oldest.external_id == stripe_wire.transfers[0]["id"]
    assert len(stripe_wire.requests_to("/v1/transfers", method="GET")) == 2  # 100 + 5
    assert stripe_provider.find_transfer(transfer_group="batch-1", idempotency_key="batch-999") is None
    assert stripe_provider.find_transfer(transfer_group="batch-2").external_id == stripe_wire.transfers[-1]["id"]
    with pytest.raises(DuplicateTransfer):
        stripe_provider.find_transfer(transfer_group="batch-1")


def test_concurrent_requests_with_one_key_create_one_transfer(make_stripe_provider, stripe_wire):
    provider = make_stripe_provider(max_network_retries=4)
    destination = onboarded_account(provider)
    stripe_wire.delay_next("transfers", seconds=0.3)  # keep the first one in flight for a moment
    results, errors = [], []

    def pay():
        try:
            results.append(provider.transfer(70_000, "USD", destination, "award-9-payout", {},
                                             transfer_group="award-9").external_id)
        except ProviderUnavailable as error:
            errors.append(error)

    threads = [threading.Thread(target=pay) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == [] and len(results) == 8 and len(set(results)) == 1
    assert len(stripe_wire.transfers) == 1


def test_transfers_to_accounts_that_cannot_receive_are_declined(stripe_provider, stripe_wire):
    pending = stripe_provider.create_payout_account("user:11", "ana@example.org", "ES", "user-11-payout-account")
    with pytest.raises(ProviderDeclined) as not_onboarded:
        stripe_provider.transfer(5_000, "EUR", pending.external_id, "award-10-payout", {}, transfer_group="award-10")
    assert not_onboarded.value.code == "insufficient_capabilities_for_transfer"

    destination = onboarded_account(stripe_provider, ref="user:12")
    stripe_wire.available_balance = {"eur": 4_000}
    with pytest.raises(ProviderDeclined) as no_balance:
        stripe_provider.transfer(5_000, "EUR", destination, "award-11-payout", {}, transfer_group="award-11")
    assert no_balance.value.code == "balance_insufficient" and stripe_wire.transfers == []


# --- Webhooks ----------------------------------------------------------------------------


def signed(stripe_wire, event_type: str, obj: dict, *, secret: str = WEBHOOK_SECRET, age_seconds: int = 0):
    event = stripe_wire.make_event(event_type, obj)
    payload, header = stripe_wire.signed_event(event, secret, int(time.time()) - age_seconds)
    return event, payload, header


def test_a_signed_transfer_event_is_parsed(stripe_provider, stripe_wire):
    transfer = {"id": "tr_123", "object": "transfer", "amount": 5000, "currency": "jpy", "reversed": False}
    event, payload, header = signed(stripe_wire, "transfer.created", transfer)
    parsed = stripe_provider.parse_webhook(payload, header)
    assert (parsed.id, parsed.type, parsed.kind, parsed.object_id) == (event["id"], "transfer.created",
                                                                        "transfer.paid", "tr_123")
    assert (parsed.amount_minor, parsed.currency, parsed.created) == (5000, "JPY", event["created"])


def test_unknown_event_types_parse_as_other(stripe_provider, stripe_wire):
    _, payload, header = signed(stripe_wire, "customer.created", {"id": "cus_1", "object": "customer"})
    parsed = stripe_provider.parse_webhook(payload, header)
    assert parsed.kind == "other" and parsed.amount_minor is None


@pytest.mark.parametrize("tamper", ["payload", "secret", "old", "missing", "garbage", "no_v1"])
def test_webhooks_with_a_bad_signature_are_rejected(stripe_provider, stripe_wire, tamper):
    obj = {"id": "tr_9", "object": "transfer", "amount": 100, "currency": "usd"}
    _, payload, header = signed(stripe_wire, "transfer.created", obj,
                                secret="whsec_wrong" if tamper == "secret" else WEBHOOK_SECRET,
                                age_seconds=400 if tamper == "old" else 0)
    if tamper == "payload":
        payload = payload.replace(b'"amount": 100', b'"amount": 100000')
    header = {"missing": None, "garbage": "not a signature", "no_v1": header.split(",")[0]}.get(tamper, header)
    with pytest.raises(InvalidSignature):
        stripe_provider.parse_webhook(payload, header)


def test_webhook_timestamp_tolerance_is_enforced_at_its_edge(make_stripe_provider, stripe_wire):
    provider = make_stripe_provider(webhook_tolerance_seconds=60)
    obj = {"id": "tr_10", "object": "transfer", "amount": 100, "currency": "usd"}
    _, fresh, fresh_header = signed(stripe_wire, "transfer.created", obj, age_seconds=30)
    assert provider.parse_webhook(fresh, fresh_header).object_id == "tr_10"
    _, stale, stale_header = signed(stripe_wire, "transfer.created", obj, age_seconds=90)
    with pytest.raises(InvalidSignature, match="tolerance"):
        provider.parse_webhook(stale, stale_header)


def test_signed_garbage_is_an_invalid_webhook(stripe_provider):
    for body in (b"not json", b'{"id": "evt_1"}', b"[1, 2]"):
        with pytest.raises(InvalidWebhook) as rejected:
            stripe_provider.parse_webhook(body, sign_payload(body, WEBHOOK_SECRET))
        assert not isinstance(rejected.value, InvalidSignature)


def test_webhooks_need_a_configured_secret(make_stripe_provider):
    body = b'{"id": "evt_1", "object": "event", "type": "x", "data": {"object": {}}}'
    with pytest.raises(ProviderError, match="STRIPE_WEBHOOK_SECRET"):
        make_stripe_provider(webhook_secret=None).parse_webhook(body, sign_payload(body, WEBHOOK_SECRET))


def test_a_webhook_signed_and_sent_by_localstripe_is_accepted(stripe_provider, webhook_inbox):
    funding = stripe_provider.create_funding("challenge:50", 45_000, "EUR", "challenge-50-funding")
    stripe_provider.confirm_test_funding(funding.external_id)
    headers, body = webhook_inbox.wait_for(
        lambda e: e["type"] == "payment_intent.succeeded" and e["data"]["object"]["id"] == funding.external_id)

    event = stripe_provider.parse_webhook(body, headers["Stripe-Signature"])
    assert (event.kind, event.object_id, event.amount_minor, event.currency) == (
        "funding.received", funding.external_id, 45_000, "EUR")
    assert event.data["metadata"] == {"challenge_ref": "challenge:50"}
    with pytest.raises(InvalidSignature):
        stripe_provider.parse_webhook(body.replace(b"45000", b"95000"), headers["Stripe-Signature"])


# --- The fake's wire behaviour, without the SDK ------------------------------------------


def test_the_fake_answers_like_stripe_on_the_wire(stripe_wire):
    auth = {"Authorization": f"Bearer {STRIPE_TEST_KEY}"}
    missing = requests.get(f"{stripe_wire.url}/v1/transfers/tr_nope", headers=auth, timeout=5)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "resource_missing"
    assert requests.get(f"{stripe_wire.url}/v1/transfers", timeout=5).status_code == 401

    key = {**auth, "Idempotency-Key": "shared-key"}
    created = requests.post(f"{stripe_wire.url}/v1/accounts", data={"type": "express", "country": "FR"},
                            headers=key, timeout=5)
    replayed = requests.post(f"{stripe_wire.url}/v1/accounts", data={"country": "FR", "type": "express"},
                             headers=key, timeout=5)
    elsewhere = requests.post(f"{stripe_wire.url}/v1/customers", data={"email": "x@example.org"},
                              headers=key, timeout=5)
    assert created.status_code == 200 and replayed.json() == created.json()
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert elsewhere.status_code == 400 and elsewhere.json()["error"]["type"] == "idempotency_error"

    invalid = requests.post(f"{stripe_wire.url}/v1/accounts", data={"type": "weird"},
                            headers={**auth, "Idempotency-Key": "invalid-once"}, timeout=5)
    fixed = requests.post(f"{stripe_wire.url}/v1/accounts", data={"type": "express"},
                          headers={**auth, "Idempotency-Key": "invalid-once"}, timeout=5)
    assert invalid.status_code == 400 and fixed.status_code == 200  # validation refusals are not saved


# --- The manual provider -----------------------------------------------------------------


def test_manual_funding_is_pending_until_a_receipt_is_recorded():
    provider = ManualProvider()
    funding = provider.create_funding("challenge:60", 1_000_000, "CNY", "challenge-60-funding")
    assert funding.status == "pending" and funding.client_secret is None and funding.provider == "manual"
    assert provider.create_funding("challenge:60", 1_000_000, "CNY", "challenge-60-funding") == funding
    assert provider.create_funding("challenge:61", 1_000_000, "CNY", "challenge-61-funding") != funding

    receipt = provider.record_receipt(funding.external_id, " boc 2027 0105 ", 600_000, "CNY", "2027-01-05")
    same = provider.record_receipt(funding.external_id, "BOC  2027 0105", 600_000, "CNY", "2027-01-05")
    other = provider.record_receipt(funding.external_id, "BOC-2027-0107", 400_000, "CNY", "2027-01-07")
    assert (receipt.kind, receipt.object_id, receipt.amount_minor) == ("funding.received", funding.external_id, 600_000)
    assert receipt.id == same.id != other.id  # the same receipt recorded twice is one event
    assert receipt.data == {"reference": "BOC 2027 0105", "received_on": "2027-01-05"}
    with pytest.raises(ProviderError):
        provider.retrieve_funding(funding.external_id)


def test_manual_transfer_is_pending_until_the_wire_is_recorded():
    provider = ManualProvider()
    account = provider.create_payout_account("user:70", "wei@example.org", "CN", "user-70-payout-account")
    assert account.ready and provider.payout_account_ready(account.external_id)
    assert provider.onboarding_link(account.external_id, RETURN_URL, REFRESH_URL) == RETURN_URL
    assert provider.supports_country("CN") and provider.supports_country("IR")  # sanctions are screened elsewhere

    transfer = provider.transfer(500_000, "CNY", account.external_id, "award-70-payout", {"award_id": "70"},
                                 transfer_group="award-70")
    assert transfer.status == "pending" and transfer.metadata["idempotency_key"] == "award-70-payout"
    assert provider.transfer(500_000, "CNY", account.external_id, "award-70-payout", {"award_id": "70"},
                             transfer_group="award-70") == transfer
    assert provider.find_transfer(transfer_group="award-70", idempotency_key="award-70-payout") is None

    wire = provider.record_wire(transfer.external_id, "icbc ref 99812")
    assert (wire.kind, wire.object_id, wire.data) == ("transfer.paid", transfer.external_id,
                                                      {"reference": "ICBC REF 99812"})
    assert provider.record_wire(transfer.external_id, "another ref").id == wire.id  # one wire per transfer
    refund = provider.refund_funding("mfund_x", 1_000, "CNY", "refund-1")
    assert refund.status == "pending" and refund.amount_minor == 1_000


def test_manual_provider_validates_money_and_refuses_webhooks():
    provider = ManualProvider()
    with pytest.raises(TypeError):
        provider.transfer(10.0, "CNY", "mpayee_x", "k", {}, transfer_group="g")
    with pytest.raises(ValueError):
        provider.create_funding("challenge:1", 0, "CNY", "k")
    with pytest.raises(ValueError):
        normalise_reference("   ")
    with pytest.raises(InvalidWebhook):
        provider.parse_webhook(json.dumps({"id": "evt"}).encode(), "t=1,v1=x")
