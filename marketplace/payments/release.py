"""Releasing an award: screening, the two-person release, and `approve_and_pay`, its one unit of work.

    problems(award) / ensure_payable(award)   everything that stops an award from being paid now, recipient by
                                              recipient (eligibility: marketplace/eligibility.py)
    request_release(award, officer)           finance officer A: awarded -> release_requested
    approve_release(award, officer)           finance officer B (not A): -> paying; writes the pending payouts
    approve_and_pay(award_ids, approver)      approve, COMMIT the pending payouts, then call the provider and
                                              record its answers: the API, the finance page and
                                              `flask payments release-batch` all release through it

Exactly once: `approve_release` locks the award row, checks the state and writes one Payout per recipient
with an idempotency key derived from the recipient; `approve_and_pay` COMMITS them before any provider call,
so a crash after the provider acted leaves a `pending` payout with its key, which `reconcile` resolves.
Many awards (the batch job): approved a chunk per transaction (a chunk with a refusal is redone one award
per transaction, the refused award audited and skipped), paid from a small thread pool (network only, no
database), answers recorded a few dozen per transaction. This module and reconcile are the only ones in
the package that commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.awards.models import Award, AwardRecipient
from marketplace.db import lock_for_update, utcnow
from marketplace.eligibility import payout_refusal, payout_refusal_message
from marketplace.errors import Conflict, DomainError, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.money import Money
from marketplace.payments.models import PayeeProfile, Payout, PayoutAccount
from marketplace.payments.payouts import (
    RECIPIENT_STATE,
    PayoutOrder,
    award_terms,
    idempotency_key_for,
    move_award,
    order_for,
    record_result,
    require_finance,
    send,
    transfer_group_for,
)
from marketplace.payments.providers.interface import ProviderError
from marketplace.payments.providers.registry import payout_provider_for, provider_named
from marketplace.payments.refusals import audit_refusal

APPROVE_CHUNK = 25
RECORD_CHUNK = 50


# --- readiness and eligibility -----------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    status: int  # 403: not allowed to be paid; 409: not yet ready
    code: str
    message: str
    recipient_id: int


def _screen(recipient: AwardRecipient, profile, excluded: set[str]) -> Problem | None:
    refusal = payout_refusal([recipient.user.country, profile.residence_country if profile else None], excluded)
    if refusal is None:
        return None
    return Problem(403, refusal.code, payout_refusal_message(recipient.user.display_name, refusal), recipient.id)


@dataclass(frozen=True)
class Facts:
    """What paying one recipient depends on, read in two queries for the whole award."""

    recipient: AwardRecipient
    profile: PayeeProfile | None
    provider: str | None  # stripe | manual; None without a payee declaration
    account: PayoutAccount | None


def facts_of(award: Award) -> list[Facts]:
    user_ids = [r.user_id for r in award.recipients] or [-1]
    profiles = {p.user_id: p for p in
                db.session.scalars(select(PayeeProfile).where(PayeeProfile.user_id.in_(user_ids)))}
    accounts = {(a.user_id, a.provider): a for a in
                db.session.scalars(select(PayoutAccount).where(PayoutAccount.user_id.in_(user_ids)))}
    found = []
    for recipient in award.recipients:
        profile = profiles.get(recipient.user_id)
        provider = payout_provider_for(profile.residence_country) if profile else None
        found.append(Facts(recipient, profile, provider, accounts.get((recipient.user_id, provider))))
    return found


def problems(award: Award, facts: list[Facts] | None = None) -> list[Problem]:
    """Everything that stops this award from being paid now, recipient by recipient."""
    found: list[Problem] = []
    _organization, excluded = award_terms(award)
    for fact in facts if facts is not None else facts_of(award):
        recipient, profile = fact.recipient, fact.profile
        if recipient.amount_minor <= 0:
            continue
        user, name = recipient.user, recipient.user.display_name
        if not user.email_confirmed:
            found.append(Problem(403, "email_unconfirmed", str(_l(
                "%(name)s has not confirmed their e-mail address; unconfirmed accounts cannot be paid.", name=name)),
                recipient.id))
        screened = _screen(recipient, profile, excluded)
        if screened:
            found.append(screened)
        if recipient.ip_accepted_at is None:
            found.append(Problem(409, "ip_not_assigned", str(_l(
                "%(name)s has not accepted the IP assignment yet.", name=name)), recipient.id))
        if profile is None:
            found.append(Problem(409, "no_payee", str(_l(
                "%(name)s has not given their payee details (legal name, residence, tax form).", name=name)),
                recipient.id))
        elif fact.provider == "manual" and not profile.bank_details_enc:
            found.append(Problem(409, "no_bank_account", str(_l(
                "%(name)s is paid by bank wire but has not given a bank account.", name=name)), recipient.id))
        elif fact.provider != "manual" and not (fact.account and fact.account.ready):
            found.append(Problem(409, "no_payout_account", str(_l(
                "%(name)s has not finished connecting a payout account.", name=name)), recipient.id))
    return found


def refresh_onboarding(facts: list[Facts]) -> list[Facts]:
    """Ask the provider about accounts still onboarding (a network read, only when one is not ready yet)."""
    from marketplace.payments.payout_accounts import refresh

    waiting = [f for f in facts if f.account is not None and not f.account.ready]
    for fact in waiting:
        try:
            refresh(fact.account)
        except ProviderError:
            pass  # readiness stays as stored; the check refuses with a clear reason
    return facts


def ensure_payable(award: Award, facts: list[Facts] | None = None) -> None:
    found = problems(award, facts)
    if not found:
        return
    worst = [p for p in found if p.status == 403] or found
    detail = " ".join(p.message for p in worst)
    errors = {"recipients": [p.message for p in found]}
    if worst[0].status == 403:
        raise Forbidden(detail, errors=errors)
    raise Conflict(detail, errors=errors)


# --- the two-person release --------------------------------------------------------------


def request_release(award: Award, officer) -> Award:
    require_finance(award, officer)
    lock_for_update(db.session, award)
    if award.status != "awarded":
        raise Conflict(_l("This award is %(state)s; a release can be requested only once it is awarded.",
                          state=award.status))
    ensure_payable(award, refresh_onboarding(facts_of(award)))
    award.release_requested_by_id = officer.id
    award.release_requested_at = utcnow()
    move_award(award, "release_requested", actor=officer, action="award.release_requested",
               amount=Money(award.amount_minor, award.currency).as_dict())
    return award


def approve_release(award: Award, officer) -> list[Payout]:
    """The second finance officer approves: the payouts are written (pending) and the award is `paying`.

    The caller must commit before calling the provider (`send`), so a crash cannot lose the key.
    """
    require_finance(award, officer)
    lock_for_update(db.session, award)
    if award.status != "release_requested":
        raise Conflict(_l("This award is %(state)s; only a requested release can be approved.", state=award.status))
    if award.release_requested_by_id == officer.id:
        raise Forbidden(_l("Another finance officer must approve the release you requested."))
    facts = refresh_onboarding(facts_of(award))
    ensure_payable(award, facts)
    written: list[Payout] = []
    for fact in facts:
        recipient = fact.recipient
        if recipient.amount_minor <= 0:
            recipient.payout_status = "paid"
            continue
        payout = Payout(award_recipient_id=recipient.id, provider=fact.provider,
                        idempotency_key=idempotency_key_for(recipient), transfer_group=transfer_group_for(award),
                        amount_minor=recipient.amount_minor, currency=award.currency, status="pending")
        db.session.add(payout)
        recipient.payout_status = RECIPIENT_STATE["pending"]
        written.append(payout)
    award.approved_by_id = officer.id
    award.approved_at = utcnow()
    db.session.flush()
    move_award(award, "paying", actor=officer, action="award.release_approved",
               requested_by=award.release_requested_by_id,
               payouts=[{"payout_id": p.id, "provider": p.provider, "idempotency_key": p.idempotency_key,
                         "amount": Money(p.amount_minor, p.currency).as_dict()} for p in written])
    return written

# --- approve and pay: the one unit of work -----------------------------------------------


@dataclass
class ReleaseReport:
    approved: list[int] = field(default_factory=list)
    refused: dict[int, DomainError] = field(default_factory=dict)
    orders: list[PayoutOrder] = field(default_factory=list)
    payouts: dict[str, int] = field(default_factory=dict)  # payout status -> count


def _ignore(_count: int) -> None:
    return None


def approve_and_pay(award_ids: Iterable[int], approver, *, workers: int = 1, chunk: int = 1,
                    on_approved: Callable[[int], None] = _ignore, on_paying: Callable[[int], None] = _ignore,
                    on_paid: Callable[[int], None] = _ignore) -> ReleaseReport:
    """Approve the awards and pay them: the pending payouts are COMMITTED before the provider is called.

    A refused award is rolled back, audited (committed) and reported in `refused`, the others go on.
    `on_approved(n)`, `on_paying(total)` and `on_paid(n)` report progress (the batch command's bars).
    """
    report = _approve_all(award_ids, approver, chunk=chunk, on_progress=on_approved)
    on_paying(len(report.orders))
    _pay_all(report, approver, workers=workers, on_progress=on_paid)
    return report


def _approve_all(award_ids: Iterable[int], approver, *, chunk: int,
                 on_progress: Callable[[int], None]) -> ReleaseReport:
    report = ReleaseReport()
    ids = list(award_ids)
    for start in range(0, len(ids), chunk):
        batch = sorted(ids[start:start + chunk])  # locks taken in id order: no deadlock between batches
        if len(batch) == 1:
            _approve_alone(batch[0], approver, report)
        else:
            _approve_chunk(batch, approver, report)
        on_progress(len(batch))
    return report


def _approve_chunk(batch: list[int], approver, report: ReleaseReport) -> None:
    try:
        orders = [order for award_id in batch for order in _approve(award_id, approver)]
        db.session.commit()  # the pending payouts and their keys, before any provider call
    except DomainError:
        db.session.rollback()
        for award_id in batch:
            _approve_alone(award_id, approver, report)
    else:
        report.approved.extend(batch)
        report.orders.extend(orders)


def _approve(award_id: int, approver) -> list[PayoutOrder]:
    award = db.session.get(Award, award_id)
    if award is None:
        raise NotFound(f"no award {award_id}")
    return [order_for(p) for p in approve_release(award, approver)]


def _approve_alone(award_id: int, approver, report: ReleaseReport) -> None:
    try:
        orders = _approve(award_id, approver)
        db.session.commit()  # the pending payouts and their keys, before any provider call
    except DomainError as error:
        report.refused[award_id] = error
        if db.session.get(Award, award_id) is not None:
            audit_refusal("award.approval_refused", award_id, approver, error)
            db.session.commit()  # the refusal stays on record
        else:
            db.session.rollback()
    else:
        report.approved.append(award_id)
        report.orders.extend(orders)


def _pay_all(report: ReleaseReport, actor, *, workers: int, on_progress: Callable[[int], None]) -> None:
    """Provider calls (from a thread pool when workers > 1), answers recorded as they come, in chunks."""
    orders = report.orders
    providers = {name: provider_named(name) for name in {o.provider for o in orders}}

    def call(order: PayoutOrder):
        return send(order, providers[order.provider])

    uncommitted = 0
    with ThreadPoolExecutor(max_workers=workers) if workers > 1 else _InThisThread() as pool:
        for result in pool.map(call, orders):
            payout = record_result(result, actor=actor)
            report.payouts[payout.status] = report.payouts.get(payout.status, 0) + 1
            uncommitted += 1
            if uncommitted >= RECORD_CHUNK:
                db.session.commit()
                on_progress(uncommitted)
                uncommitted = 0
    db.session.commit()
    on_progress(uncommitted)


class _InThisThread:
    """One worker: no thread at all (a web request pays its award's few recipients itself)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    @staticmethod
    def map(function, items):
        return map(function, items)
