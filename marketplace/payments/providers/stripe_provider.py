"""Stripe: PaymentIntents fund a challenge's escrow; Connect Express accounts receive Transfers.

Fund flow is Stripe's "separate charges and transfers": the center pays the platform, the
platform transfers each award to the solver's connected account. Every write carries the
caller's idempotency key (a retry, by us or by the SDK, replays Stripe's first answer), and
every transfer carries a `transfer_group` plus the key in its metadata, so a payout whose
answer was lost can be found again by listing the group (Stripe forgets idempotency keys
after 24 hours; the group and metadata stay).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import stripe

from marketplace.payments.providers.interface import (
    DuplicateTransfer,
    FundingIntent,
    InvalidSignature,
    InvalidWebhook,
    PayoutAccount,
    ProviderError,
    ProviderEvent,
    Refund,
    Transfer,
    check_money,
)
from marketplace.payments.providers.stripe_formats import (
    CROSS_BORDER_PAYOUT_COUNTRIES,
    EVENT_AMOUNT_FIELD,
    EVENT_KINDS,
    FUNDING_STATUS,
    REFUND_STATUS,
    from_stripe_amount,
    id_of,
    plain,
    to_stripe_amount,
    translate_error,
    upper_currency,
)

log = logging.getLogger(__name__)


class StripeProvider:
    name = "stripe"
    has_remote_state = True  # reconcile can ask Stripe what happened

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str | None = None,
        webhook_secret: str | None = None,
        webhook_tolerance_seconds: int = 300,
        max_network_retries: int = 2,
        timeout_ms: int = 30_000,
        platform_country: str = "US",
        payout_countries: Iterable[str] | None = None,
    ):
        if not api_key:
            raise ValueError("a Stripe secret key is required")
        if webhook_tolerance_seconds <= 0:
            raise ValueError("webhook tolerance must be positive (0 would disable the timestamp check)")
        self.test_mode = api_key.startswith(("sk_test_", "rk_test_"))
        self.max_network_retries = max_network_retries
        self.webhook_secret = webhook_secret
        self.webhook_tolerance_seconds = webhook_tolerance_seconds
        self.platform_country = platform_country.upper()
        self.payout_countries = frozenset(
            c.upper() for c in (payout_countries if payout_countries is not None else CROSS_BORDER_PAYOUT_COUNTRIES)
        )
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base.rstrip("/")} if api_base else None,
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout_ms / 1000),
        )

    @contextmanager
    def _errors(self, operation: str) -> Iterator[None]:
        try:
            yield
        except stripe.StripeError as error:
            translated = translate_error(error)
            log.warning("stripe %s failed: %s (%s, http %s)", operation, translated.message,
                        translated.code, translated.http_status)
            raise translated from error

    # --- Countries ---------------------------------------------------------------------

    def supports_country(self, country: str) -> bool:
        return country.upper() in self.payout_countries

    # --- Escrow funding ----------------------------------------------------------------

    def create_funding(self, challenge_ref: str, amount_minor: int, currency: str, idempotency_key: str
                       ) -> FundingIntent:
        """A PaymentIntent the center pays on the funding page (Stripe.js uses `client_secret`)."""
        check_money(amount_minor, currency)
        params = {
            "amount": to_stripe_amount(amount_minor, currency),
            "currency": currency.lower(),
            "payment_method_types": ["card"],
            "metadata": {"challenge_ref": challenge_ref},
        }
        with self._errors("create_funding"):
            intent = self._client.v1.payment_intents.create(params, {"idempotency_key": idempotency_key})
        return self._funding(intent)

    def retrieve_funding(self, external_id: str) -> FundingIntent:
        with self._errors("retrieve_funding"):
            return self._funding(self._client.v1.payment_intents.retrieve(external_id))

    def confirm_test_funding(self, external_id: str, payment_method: str = "pm_card_visa") -> FundingIntent:
        """Pay a funding intent with a Stripe test card (tests and `demo seed`; refused with live keys)."""
        if not self.test_mode:
            raise ProviderError("confirm_test_funding needs a test-mode key")
        with self._errors("confirm_test_funding"):
            # Attach then confirm: what Stripe.js does, and the form localstripe supports.
            self._client.v1.payment_intents.update(external_id, {"payment_method": payment_method})
            intent = self._client.v1.payment_intents.confirm(external_id)
        return self._funding(intent)

    def refund_funding(self, external_id: str, amount_minor: int, currency: str, idempotency_key: str) -> Refund:
        check_money(amount_minor, currency)
        with self._errors("refund_funding"):
            intent = self._client.v1.payment_intents.retrieve(external_id)
            if upper_currency(intent.currency) != currency:
                raise ProviderError(f"funding {external_id} is in {intent.currency.upper()}, not {currency}")
            refund = self._client.v1.refunds.create(
                {"payment_intent": external_id, "amount": to_stripe_amount(amount_minor, currency),
                 "metadata": {"idempotency_key": idempotency_key}},
                {"idempotency_key": idempotency_key},
            )
        return self._money_record(Refund, plain(refund), currency, REFUND_STATUS, funding_id=external_id)

    def _funding(self, intent: Any) -> FundingIntent:
        data = plain(intent)
        return self._money_record(
            FundingIntent, data, upper_currency(data["currency"]), FUNDING_STATUS,
            client_secret=data.get("client_secret"),
            charge_id=id_of(data.get("latest_charge")),
        )

    def _money_record(self, record, data: dict, currency: str, statuses: Mapping[str, str], **fields):
        """A funding or refund read from its Stripe object: a status Stripe may add later reads as pending."""
        return record(provider=self.name, external_id=data["id"], status=statuses.get(data.get("status"), "pending"),
                      amount_minor=from_stripe_amount(data["amount"], currency), currency=currency, **fields)

    # --- Payees ------------------------------------------------------------------------

    def create_payout_account(self, user_ref: str, email: str, country: str, idempotency_key: str
                              ) -> PayoutAccount:
        """An Express connected account that can only receive transfers."""
        country = country.upper()
        if not self.supports_country(country):
            raise ProviderError(f"Stripe cannot pay out to {country}; use the manual wire provider",
                                code="country_unsupported")
        params: dict[str, Any] = {
            "type": "express",
            "country": country,
            "email": email,
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"user_ref": user_ref},
        }
        if country != self.platform_country:
            # Cross-border payouts work only under the recipient service agreement.
            params["tos_acceptance"] = {"service_agreement": "recipient"}
        with self._errors("create_payout_account"):
            account = self._client.v1.accounts.create(params, {"idempotency_key": idempotency_key})
        return self._payout_account(account)

    def onboarding_link(self, account_id: str, return_url: str, refresh_url: str) -> str:
        """A single-use Stripe-hosted onboarding URL; make a new one when `refresh_url` is hit."""
        with self._errors("onboarding_link"):
            link = self._client.v1.account_links.create({
                "account": account_id,
                "return_url": return_url,
                "refresh_url": refresh_url,
                "type": "account_onboarding",
            })
        return link.url

    def retrieve_payout_account(self, account_id: str) -> PayoutAccount:
        with self._errors("retrieve_payout_account"):
            return self._payout_account(self._client.v1.accounts.retrieve(account_id))

    def payout_account_ready(self, account_id: str) -> bool:
        return self.retrieve_payout_account(account_id).ready

    def _payout_account(self, account: Any) -> PayoutAccount:
        data = plain(account)
        capabilities = data.get("capabilities") or {}
        requirements = data.get("requirements") or {}
        ready = bool(data.get("details_submitted") and data.get("payouts_enabled")
                     and capabilities.get("transfers") == "active")
        return PayoutAccount(
            provider=self.name,
            external_id=data["id"],
            ready=ready,
            requirements_due=tuple(requirements.get("currently_due") or ()),
        )

    # --- Payouts -----------------------------------------------------------------------

    def transfer(self, amount_minor: int, currency: str, destination_account: str, idempotency_key: str,
                 metadata: Mapping[str, str], *, transfer_group: str,
                 source_transaction: str | None = None) -> Transfer:
        """Move an award to the payee's connected account. Synchronous: a returned transfer is paid.

        Raises ProviderUnavailable when the answer was lost: the transfer may exist. Retry with
        the same idempotency key (within 24 h) or look for it with `find_transfer`.
        """
        check_money(amount_minor, currency)
        if not idempotency_key:
            raise ValueError("a transfer needs an idempotency key")
        tagged = {str(key): str(value) for key, value in metadata.items()}
        tagged["idempotency_key"] = idempotency_key
        params: dict[str, Any] = {
            "amount": to_stripe_amount(amount_minor, currency),
            "currency": currency.lower(),
            "destination": destination_account,
            "transfer_group": transfer_group,
            "metadata": tagged,
        }
        if source_transaction:
            params["source_transaction"] = source_transaction
        with self._errors("transfer"):
            created = self._client.v1.transfers.create(params, {"idempotency_key": idempotency_key})
        return self._transfer(created)

    def find_transfer(self, *, transfer_group: str, idempotency_key: str | None = None) -> Transfer | None:
        """The transfer in `transfer_group` (with that idempotency key, when given), or None.

        Raises DuplicateTransfer when more than one matches: the award was paid twice.
        """
        with self._errors("find_transfer"):
            page = self._client.v1.transfers.list({"transfer_group": transfer_group, "limit": 100})
            in_group = [self._transfer(item) for item in page.auto_paging_iter()]
        found = [t for t in in_group if idempotency_key is None or t.metadata.get("idempotency_key") == idempotency_key]
        if len(found) > 1:
            ids = ", ".join(t.external_id for t in found)
            raise DuplicateTransfer(f"{len(found)} transfers in group {transfer_group}: {ids}")
        return found[0] if found else None

    def _transfer(self, obj: Any) -> Transfer:
        data = plain(obj)
        currency = upper_currency(data["currency"])
        return Transfer(
            provider=self.name,
            external_id=data["id"],
            status="reversed" if data.get("reversed") else "paid",
            amount_minor=from_stripe_amount(data["amount"], currency),
            currency=currency,
            destination=id_of(data.get("destination")) or "",
            transfer_group=data.get("transfer_group"),
            metadata=dict(data.get("metadata") or {}),
        )

    # --- Webhooks ----------------------------------------------------------------------

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> ProviderEvent:
        """Verify the Stripe-Signature header (HMAC and timestamp tolerance) and read the event."""
        if not self.webhook_secret:
            raise ProviderError("STRIPE_WEBHOOK_SECRET is not configured")
        try:
            stripe.WebhookSignature.verify_header(
                payload, signature_header, self.webhook_secret, self.webhook_tolerance_seconds
            )
        except stripe.SignatureVerificationError as error:
            raise InvalidSignature(str(error)) from error
        except UnicodeDecodeError as error:
            raise InvalidSignature("the payload is not UTF-8") from error
        try:
            event = json.loads(payload)
        except ValueError as error:
            raise InvalidWebhook("the payload is not JSON") from error
        obj = (event.get("data") or {}).get("object") if isinstance(event, dict) else None
        if not (isinstance(obj, dict) and isinstance(event.get("id"), str) and isinstance(event.get("type"), str)):
            raise InvalidWebhook("the payload is not a Stripe event")
        kind = EVENT_KINDS.get(event["type"], "other")
        amount_minor = currency = None
        amount = obj.get(EVENT_AMOUNT_FIELD.get(kind, "amount"))
        if isinstance(amount, int) and not isinstance(amount, bool) and isinstance(obj.get("currency"), str):
            currency = upper_currency(obj["currency"])
            amount_minor = from_stripe_amount(amount, currency)
        return ProviderEvent(
            provider=self.name,
            id=event["id"],
            type=event["type"],
            kind=kind,
            object_id=obj.get("id"),
            data=obj,
            created=event.get("created"),
            amount_minor=amount_minor,
            currency=currency,
        )
