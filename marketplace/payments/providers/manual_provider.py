"""Bank wire, no network: money moves when people move it and a finance officer records it.

A funding intent stays `pending` until a finance officer records the incoming wire
(`record_receipt`); a transfer stays `pending` until the outgoing wire reference is recorded
(`record_wire`). Both return a `ProviderEvent`, so the ledger applies manual confirmations
and Stripe webhooks through one code path, and stores their ids the same way (a receipt
recorded twice is applied once).

External ids are derived from the idempotency key, so a retried call returns the same
intent or transfer. The provider keeps no state of its own: the ledger is the record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from marketplace.payments.providers.interface import (
    FundingIntent,
    InvalidWebhook,
    PayoutAccount,
    ProviderError,
    ProviderEvent,
    Refund,
    Transfer,
    check_money,
    normalise_reference,
)


def _derived_id(prefix: str, *parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]
    return f"{prefix}_{digest}"


class ManualProvider:
    name = "manual"
    has_remote_state = False

    def _pending(self, record, prefix: str, idempotency_key: str, amount_minor: int, currency: str, **fields):
        """A funding, refund or wire of this provider: pending until finance records the money moving,
        its id derived from the idempotency key (a retry names the same operation)."""
        check_money(amount_minor, currency)
        return record(provider=self.name, external_id=_derived_id(prefix, idempotency_key), status="pending",
                      amount_minor=amount_minor, currency=currency, **fields)

    def supports_country(self, country: str) -> bool:
        # A wire reaches every country; sanctions and excluded countries are screened before release.
        return bool(country) and len(country) == 2

    # --- Escrow funding ----------------------------------------------------------------

    def create_funding(self, challenge_ref: str, amount_minor: int, currency: str, idempotency_key: str
                       ) -> FundingIntent:
        return self._pending(FundingIntent, "mfund", idempotency_key, amount_minor, currency)

    def retrieve_funding(self, external_id: str) -> FundingIntent:
        raise ProviderError("manual funding has no remote state: the recorded receipts are the truth",
                            code="no_remote_state")

    def refund_funding(self, external_id: str, amount_minor: int, currency: str, idempotency_key: str) -> Refund:
        """A refund by wire: pending until finance records the outgoing wire."""
        return self._pending(Refund, "mrefund", idempotency_key, amount_minor, currency, funding_id=external_id)

    def record_receipt(self, funding_external_id: str, reference: str, amount_minor: int, currency: str,
                       received_on: str) -> ProviderEvent:
        """A finance officer saw `amount_minor` arrive for this funding intent (`received_on`: ISO date)."""
        check_money(amount_minor, currency)
        reference = normalise_reference(reference)
        return ProviderEvent(
            provider=self.name,
            id=_derived_id("mevt", "receipt", funding_external_id, reference),
            type="manual.receipt_recorded",
            kind="funding.received",
            object_id=funding_external_id,
            data={"reference": reference, "received_on": received_on},
            amount_minor=amount_minor,
            currency=currency,
        )

    # --- Payees ------------------------------------------------------------------------

    def create_payout_account(self, user_ref: str, email: str, country: str, idempotency_key: str
                              ) -> PayoutAccount:
        # Bank details are part of the payee declaration; there is nothing to open elsewhere.
        return PayoutAccount(provider=self.name, external_id=_derived_id("mpayee", user_ref), ready=True)

    def onboarding_link(self, account_id: str, return_url: str, refresh_url: str) -> str:
        return return_url  # no provider-hosted step: the payee form in our app is the onboarding

    def retrieve_payout_account(self, account_id: str) -> PayoutAccount:
        return PayoutAccount(provider=self.name, external_id=account_id, ready=True)

    def payout_account_ready(self, account_id: str) -> bool:
        return True

    # --- Payouts -----------------------------------------------------------------------

    def transfer(self, amount_minor: int, currency: str, destination_account: str, idempotency_key: str,
                 metadata: Mapping[str, str], *, transfer_group: str,
                 source_transaction: str | None = None) -> Transfer:
        """A wire instruction for finance: pending until `record_wire`."""
        if not idempotency_key:
            raise ValueError("a transfer needs an idempotency key")
        tagged = {str(key): str(value) for key, value in metadata.items()}
        tagged["idempotency_key"] = idempotency_key
        return self._pending(Transfer, "mwire", idempotency_key, amount_minor, currency,
                             destination=destination_account, transfer_group=transfer_group, metadata=tagged)

    def find_transfer(self, *, transfer_group: str, idempotency_key: str | None = None) -> Transfer | None:
        # Nothing leaves without a person: a pending manual payout is never half-done at a provider.
        return None

    def record_wire(self, transfer_external_id: str, reference: str) -> ProviderEvent:
        """Finance sent the wire. One wire per transfer: the event id ignores the reference."""
        reference = normalise_reference(reference)
        return ProviderEvent(
            provider=self.name,
            id=_derived_id("mevt", "wire", transfer_external_id),
            type="manual.wire_recorded",
            kind="transfer.paid",
            object_id=transfer_external_id,
            data={"reference": reference},
        )

    # --- Webhooks ----------------------------------------------------------------------

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> ProviderEvent:
        raise InvalidWebhook("the manual provider receives no webhooks")
