"""Paying an award: two-person release, eligibility screening, exactly-once transfers.

    request_release(award, officer)           finance officer A: awarded -> release_requested
    approve_release(award, officer)           finance officer B (not A): -> paying; writes the payouts
    order_for(payout) / send(order, provider) the provider call, no database (safe in threads)
    record_result(result)                     the provider's answer -> paid / sent / failed / still pending
    confirm_wire(award, officer, reference)   finance recorded the outgoing wire -> paid
    complete_payout(payout, ...)              the ledger movement payable -> clearing, once per recipient

Exactly once: `approve_release` locks the award row, checks the state, writes one Payout per
recipient with an idempotency key derived from the recipient, and the route COMMITS before any
provider call. A crash after the provider acted leaves a `pending` payout with its key, which
`reconcile` resolves by asking the provider (or retrying with the same key, which the provider
answers with the first transfer). Recording a result locks the award row again and does nothing
when the payout is already settled, so the approve path, a webhook and reconcile may race safely.

Stripe semantics: a Transfer is synchronous. When Stripe answers the create call, the money is in
the connected account (its `transfer.created` event says the same), so that answer completes the
payout; the webhook completes it too when the answer was lost. A manual wire is `sent` until a
finance officer records the bank reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.audit.services import record
from marketplace.awards.models import Award, AwardRecipient
from marketplace.db import lock_for_update, utcnow
from marketplace.errors import Conflict, Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.money import Money
from marketplace.payments import ledger
from marketplace.payments.conflicts import require_no_conflict
from marketplace.payments.escrow import store_event
from marketplace.payments.manual_provider import ManualProvider
from marketplace.payments.models import PayeeProfile, Payout, PayoutAccount
from marketplace.payments.payout_states import RECIPIENT_STATE, move
from marketplace.payments.providers import PaymentProvider, ProviderError, ProviderUnavailable, Transfer
from marketplace.payments.routing import payout_provider_for
from marketplace.permissions import Role

AWARD_TRANSITIONS: dict[str, set[str]] = {
    "awarded": {"release_requested", "cancelled"},
    "release_requested": {"paying", "awarded", "cancelled"},
    "paying": {"paid"},
    "paid": {"paying"},  # only when the provider reverses a transfer
    "cancelled": set(),
}
SETTLED = ("paid",)


def move_award(award: Award, to: str, *, actor, action: str, **data) -> None:
    if to not in AWARD_TRANSITIONS.get(award.status, set()):
        raise Conflict(_l("This award is %(state)s; it cannot become %(target)s.", state=award.status, target=to))
    previous = award.status
    award.status = to
    record(action, "award", award.id, actor=actor, **{"from": previous, "to": to}, **data)
    from marketplace.awards.winner_notices import announce_award  # awards import payments: a late import

    announce_award(award)  # "the release is requested / approved": each step once per recipient


def _terms(award: Award) -> tuple[int, set[str]]:
    """The challenge's organization and excluded countries, in one light query (no texts, no criteria)."""
    from marketplace.challenges.models import Challenge

    organization_id, excluded = db.session.execute(
        select(Challenge.organization_id, Challenge.excluded_countries).where(Challenge.id == award.challenge_id)).one()
    return organization_id, {c.upper() for c in (excluded or [])}


def require_finance(award: Award, user) -> None:
    """A finance officer of the challenge's organization with no stake in this award's money."""
    if not (user and user.is_authenticated and user.has_role(Role.FINANCE_OFFICER, _terms(award)[0])):
        raise Forbidden(_l("Only finance officers of this organization can release its awards."))
    require_no_conflict(award, user)


def idempotency_key_for(recipient: AwardRecipient) -> str:
    return f"award-{recipient.award_id}-recipient-{recipient.id}-payout"


def transfer_group_for(award: Award) -> str:
    return f"award-{award.id}"


# --- readiness and eligibility -----------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    status: int  # 403: not allowed to be paid; 409: not yet ready
    code: str
    message: str
    recipient_id: int


def _screen(recipient: AwardRecipient, profile, excluded: set[str]) -> Problem | None:
    sanctioned = set(current_app.config.get("SANCTIONED_COUNTRIES") or ())
    name = recipient.user.display_name
    for country in sorted({recipient.user.country, profile.residence_country if profile else None} - {None}):
        if country in sanctioned:
            return Problem(403, "sanctioned_country", str(_l(
                "%(name)s is connected to %(country)s, which is under sanctions: the award cannot be paid.",
                name=name, country=country)), recipient.id)
        if country in excluded:
            return Problem(403, "excluded_country", str(_l(
                "%(name)s is connected to %(country)s, which this challenge excludes: the award cannot be paid.",
                name=name, country=country)), recipient.id)
    return None


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
    _organization, excluded = _terms(award)
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


def _account(user_id: int, provider: str) -> PayoutAccount | None:
    return db.session.scalar(select(PayoutAccount).filter_by(user_id=user_id, provider=provider))


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


# --- the provider call -------------------------------------------------------------------


@dataclass(frozen=True)
class PayoutOrder:
    """Everything the provider call needs, detached from the database session."""

    payout_id: int
    provider: str
    amount_minor: int
    currency: str
    destination: str
    idempotency_key: str
    transfer_group: str
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PayoutResult:
    payout_id: int
    transfer: Transfer | None = None
    error: ProviderError | None = None


def order_for(payout: Payout) -> PayoutOrder:
    recipient = db.session.get(AwardRecipient, payout.award_recipient_id)
    account = _account(recipient.user_id, payout.provider)
    # A wire needs no account at a provider; the manual provider derives the payee's reference from the user.
    destination = account.external_id if account else ManualProvider().create_payout_account(
        f"user:{recipient.user_id}", "", "", "").external_id
    return PayoutOrder(payout_id=payout.id, provider=payout.provider, amount_minor=payout.amount_minor,
                       currency=payout.currency, destination=destination, idempotency_key=payout.idempotency_key,
                       transfer_group=payout.transfer_group,
                       metadata={"award_id": str(recipient.award_id), "award_recipient_id": str(recipient.id),
                                 "payout_id": str(payout.id)})


def send(order: PayoutOrder, provider: PaymentProvider) -> PayoutResult:
    """One transfer at the provider. Never raises a ProviderError: the result carries it."""
    try:
        transfer = provider.transfer(order.amount_minor, order.currency, order.destination, order.idempotency_key,
                                     order.metadata, transfer_group=order.transfer_group)
    except ProviderError as error:
        return PayoutResult(order.payout_id, error=error)
    return PayoutResult(order.payout_id, transfer=transfer)


def record_result(result: PayoutResult, actor=None) -> Payout:
    """Apply the provider's answer (under the award lock; a settled payout is left alone)."""
    payout = db.session.get(Payout, result.payout_id)
    recipient = db.session.get(AwardRecipient, payout.award_recipient_id)
    award = db.session.get(Award, recipient.award_id)
    lock_for_update(db.session, award)
    db.session.refresh(payout)
    if payout.status not in ("pending", "sent"):
        return payout
    if result.transfer is not None:
        payout.external_id = result.transfer.external_id
        payout.last_error = None
        if result.transfer.status == "paid":
            complete_payout(payout, actor=actor)
        elif payout.status == "pending":
            move(payout, "sent", actor=actor, external_id=payout.external_id)
        return payout
    payout.last_error = f"{type(result.error).__name__}: {result.error.message}"[:2000]
    if isinstance(result.error, ProviderUnavailable):
        return payout  # outcome unknown: stays pending for reconcile, never marked failed
    move(payout, "failed", actor=actor, reason=result.error.message, code=result.error.code)
    return payout


def complete_payout(payout: Payout, *, actor=None, reference: str | None = None) -> None:
    """The money reached the solver: payable -> clearing, recipient paid, award paid when all are.

    The caller holds the award lock.
    """
    recipient = db.session.get(AwardRecipient, payout.award_recipient_id)
    award = db.session.get(Award, recipient.award_id)
    payout.completed_at = utcnow()
    if reference:
        payout.reference = reference
    clearing = ledger.clearing_account(payout.provider, payout.currency)
    _cover(clearing, payout, actor)
    ledger.move("payout", ledger.payable_account(recipient.user_id, payout.currency), clearing, payout.amount_minor,
                dedupe_key=f"payout:recipient:{recipient.id}", memo=f"award {award.id} to user {recipient.user_id}"
                f" via {payout.provider}", challenge_id=award.challenge_id, award_id=award.id, actor=actor)
    move(payout, "paid", actor=actor, external_id=payout.external_id, reference=reference,
         amount=Money(payout.amount_minor, payout.currency).as_dict())
    if award.status == "paying" and all(r.payout_status == "paid" for r in award.recipients):
        award.paid_at = utcnow()
        move_award(award, "paid", actor=actor, action="award.paid")


def _cover(clearing, payout: Payout, actor) -> None:
    """Money paid by card and wired out (or the reverse) moves between providers first: a treasury transfer."""
    shortfall = payout.amount_minor - ledger.held(clearing)
    if shortfall <= 0:
        return
    others = db.session.scalars(select(ledger.LedgerAccount).where(
        ledger.LedgerAccount.kind == "clearing", ledger.LedgerAccount.currency == payout.currency,
        ledger.LedgerAccount.id != clearing.id).order_by(ledger.LedgerAccount.id)).all()
    for other in others:
        take = min(shortfall, ledger.held(other))
        if take > 0:
            ledger.move("treasury", clearing, other, take, dedupe_key=f"treasury:payout:{payout.id}:{other.code}",
                        memo=f"{other.code} -> {clearing.code} for payout {payout.id}", actor=actor)
            shortfall -= take
        if shortfall <= 0:
            return


# --- manual wires ------------------------------------------------------------------------


def confirm_wire(award: Award, officer, *, reference: str, recipient_id: int | None = None) -> list[Payout]:
    """A finance officer sent the wire(s) of this award: record the bank reference, the payout is paid."""
    require_finance(award, officer)
    lock_for_update(db.session, award)
    if award.status != "paying":
        raise Conflict(_l("This award is %(state)s; only an award being paid can be confirmed.", state=award.status))
    reference = (reference or "").strip()
    if not reference:
        raise ValidationFailed(_l("Give the wire reference."), errors={"reference": [_l("Required.")]})
    payouts = [p for p in payouts_of(award) if p.provider == "manual" and p.status in ("pending", "sent")
               and (recipient_id is None or p.award_recipient_id == recipient_id)]
    if not payouts:
        raise Conflict(_l("No bank wire of this award is waiting for confirmation."))
    provider = ManualProvider()
    for payout in payouts:
        if payout.external_id is None:  # the wire instruction was never recorded (a crash): it is deterministic
            payout.external_id = provider.transfer(payout.amount_minor, payout.currency, "wire",
                                                   payout.idempotency_key, {},
                                                   transfer_group=payout.transfer_group).external_id
        try:
            event = provider.record_wire(payout.external_id, reference)
        except ValueError as error:
            raise ValidationFailed(_l("Give the wire reference."), errors={"reference": [str(error)]}) from error
        if store_event(event):
            complete_payout(payout, actor=officer, reference=event.data["reference"])
    return payouts


def payouts_of(award: Award) -> list[Payout]:
    ids = [r.id for r in award.recipients]
    return list(db.session.scalars(select(Payout).where(Payout.award_recipient_id.in_(ids or [-1]))
                                   .order_by(Payout.id)))
