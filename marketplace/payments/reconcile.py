"""`flask payments reconcile`: compare our records with the provider and finish what a crash left half-done.

- A payout still `pending` was committed before its provider call, whose outcome we never recorded.
  Ask the provider for it (transfer group + the key in its metadata). Found: complete it. Not
  found: send it again with the SAME idempotency key, so even a transfer still in flight at the
  provider is answered with the first one (or a 409 "in use", which leaves it pending).
- A manual payout `pending` gets its (deterministic) wire instruction; `sent` ones are listed for
  finance with their age.
- A refund left `sending` is sent again with its key.
- A Stripe funding intent still `pending` whose payment succeeded (a lost webhook) is applied.
- Finally the ledger is checked: every transaction balanced, no account below zero.

Safe to run at any time, also while the application runs: every step is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from marketplace.audit.services import record
from marketplace.awards.models import Award, AwardRecipient
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.payments import escrow, funding, ledger, payouts, refunds, release
from marketplace.payments.models import Payout, Refund
from marketplace.payments.providers.interface import (
    DuplicateTransfer,
    ProviderError,
    ProviderEvent,
    ProviderUnavailable,
)
from marketplace.payments.providers.registry import current_provider, provider_named


@dataclass(frozen=True)
class Line:
    subject: str  # "payout 12", "refund 3", "funding pi_...", "ledger"
    action: str  # completed | resent | sent | failed | unknown | waiting | alert | ok
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.subject}: {self.action}" + (f" ({self.detail})" if self.detail else "")


def reconcile(*, retry_failed: bool = False, min_age: timedelta = timedelta(0)) -> list[Line]:
    lines: list[Line] = []
    lines += _pending_payouts(min_age)
    if retry_failed:
        lines += _retry_failed_payouts()
    lines += _waiting_wires()
    lines += _sending_refunds(min_age)
    lines += _pending_fundings()
    lines += _check_ledger()
    return lines


def _pending_payouts(min_age: timedelta) -> list[Line]:
    lines = []
    cutoff = utcnow() - min_age
    ids = db.session.scalars(select(Payout.id).where(Payout.status == "pending", Payout.created_at <= cutoff)
                             .order_by(Payout.id)).all()
    for payout_id in ids:
        payout = db.session.get(Payout, payout_id)
        subject = f"payout {payout.id} ({payout.idempotency_key})"
        try:
            provider = provider_named(payout.provider)
        except RuntimeError as error:
            lines.append(Line(subject, "alert", str(error)))
            continue
        order = payouts.order_for(payout)
        found = None
        if provider.has_remote_state:
            try:
                found = provider.find_transfer(transfer_group=payout.transfer_group,
                                               idempotency_key=payout.idempotency_key)
            except DuplicateTransfer as error:
                lines.append(Line(subject, "alert", f"paid more than once at the provider: {error.message}"))
                continue
            except ProviderError as error:
                lines.append(Line(subject, "unknown", f"provider not reachable: {error.message}"))
                continue
        result = payouts.PayoutResult(payout.id, transfer=found) if found else payouts.send(order, provider)
        payout = payouts.record_result(result)
        db.session.commit()
        if payout.status == "paid":
            lines.append(Line(subject, "completed" if found else "resent",
                              f"transfer {payout.external_id}" + (" found at the provider" if found else "")))
        elif payout.status == "sent":
            lines.append(Line(subject, "sent", f"wire instruction {payout.external_id} for finance"))
        elif payout.status == "failed":
            lines.append(Line(subject, "failed", payout.last_error or ""))
        else:
            lines.append(Line(subject, "unknown", payout.last_error or "no answer"))
    return lines


def _retry_failed_payouts() -> list[Line]:
    """Declined payouts (nothing moved) get a fresh key once their cause is fixed, and are sent again.

    A retry pays again, so it passes the same eligibility screen as an approval; a refusal is audited.
    """
    lines, retried = [], False
    for payout in db.session.scalars(select(Payout).where(Payout.status == "failed").order_by(Payout.id)).all():
        refused = _retry_problems(payout)
        if refused:
            lines.append(Line(f"payout {payout.id}", "refused", " ".join(refused)))
            continue
        base, _, attempt = payout.idempotency_key.partition("-retry")
        key = f"{base}-retry{int(attempt or 1) + 1}"
        payout.idempotency_key = key
        payouts.move(payout, "pending", actor=None, reason="reconcile retry", idempotency_key=key)
        db.session.commit()
        retried = True
        lines.append(Line(f"payout {payout.id}", "retrying", f"new key {key}"))
    return lines + (_pending_payouts(timedelta(0)) if retried else [])


def _retry_problems(payout: Payout) -> list[str]:
    """The approval's eligibility screen for this payout's recipient; refusals are audited and committed."""
    recipient = db.session.get(AwardRecipient, payout.award_recipient_id)
    award = db.session.get(Award, recipient.award_id)
    found = [p.message for p in release.problems(award, release.refresh_onboarding(release.facts_of(award)))
             if p.recipient_id == recipient.id]
    if found:
        record("payout.retry_refused", "award", award.id, actor=None, payout_id=payout.id, problems=found)
        db.session.commit()
    return found


def _waiting_wires() -> list[Line]:
    now = utcnow()
    return [Line(f"payout {p.id}", "waiting", f"bank wire {p.external_id} sent {(now - p.created_at).days} days ago; "
                 "record its reference (payout-confirmation)")
            for p in db.session.scalars(select(Payout).where(Payout.status == "sent").order_by(Payout.id))]


def _sending_refunds(min_age: timedelta) -> list[Line]:
    lines = []
    cutoff = utcnow() - min_age
    for refund_id in db.session.scalars(select(Refund.id).where(Refund.status == "sending",
                                                                Refund.created_at <= cutoff)).all():
        refund = db.session.get(Refund, refund_id)
        result = refunds.send_refund(refund)
        refund = refunds.record_refund_result(result)
        db.session.commit()
        lines.append(Line(f"refund {refund.id}", refund.status, refund.last_error or ""))
    return lines


def _pending_fundings() -> list[Line]:
    from marketplace.payments.models import FundingIntent

    provider = current_provider()
    if not provider.has_remote_state:
        return []
    lines = []
    pending = db.session.scalars(select(FundingIntent).where(FundingIntent.provider == provider.name,
                                                             FundingIntent.status == "pending",
                                                             FundingIntent.external_id.is_not(None))).all()
    for intent in pending:
        try:
            remote = provider.retrieve_funding(intent.external_id)
        except ProviderUnavailable as error:
            lines.append(Line(f"funding {intent.external_id}", "unknown", error.message))
            continue
        except ProviderError as error:
            lines.append(Line(f"funding {intent.external_id}", "alert", error.message))
            continue
        if remote.status != "succeeded":
            continue
        event = ProviderEvent(provider=provider.name, id=f"reconcile:{intent.external_id}",
                              type="reconcile.funding_succeeded", kind="funding.received",
                              object_id=intent.external_id, data={}, amount_minor=remote.amount_minor,
                              currency=remote.currency)
        if escrow.store_event(event):
            outcome = funding.apply_funding_received(event)
            lines.append(Line(f"funding {intent.external_id}", "completed" if outcome == "applied" else outcome,
                              "paid at the provider; the webhook never arrived"))
        db.session.commit()
    return lines


def _check_ledger() -> list[Line]:
    lines = [Line(f"ledger transaction {tx_id}", "alert", "entries do not add up to zero")
             for tx_id in ledger.unbalanced_transactions()]
    lines += [Line(f"ledger account {code} {currency}", "alert", f"held below zero: {amount}")
              for code, currency, amount in ledger.overdrawn_accounts()]
    return lines or [Line("ledger", "ok", "every transaction balanced, no account below zero")]
