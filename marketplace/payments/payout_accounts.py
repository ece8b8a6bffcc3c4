"""Where a solver is paid: a Stripe Connect account (onboarded on Stripe's hosted page) or a bank wire.

Stripe can pay only payees resident where its cross-border payouts reach (`supports_country`);
everyone else is paid by manual wire to the bank account in their payee declaration. The solver
is told which before any award is paid (`payout_plan`).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.audit.services import record
from marketplace.countries import country_name
from marketplace.errors import Conflict
from marketplace.extensions import db
from marketplace.payments import payees
from marketplace.payments.models import PayoutAccount
from marketplace.payments.providers.registry import current_provider, manual_provider, payout_provider_for


@dataclass(frozen=True)
class PayoutPlan:
    """How this solver will be paid, and what is still missing."""

    provider: str  # stripe | manual
    country: str
    has_payee: bool
    account: PayoutAccount | None
    ready: bool
    message: str


def account_of(user_id: int, provider: str) -> PayoutAccount | None:
    return db.session.scalar(select(PayoutAccount).filter_by(user_id=user_id, provider=provider))


def payout_plan(user) -> PayoutPlan:
    profile = payees.profile_of(user)
    country = profile.residence_country if profile else user.country
    provider = payout_provider_for(country)
    account = account_of(user.id, provider)
    if provider == "manual":
        has_bank = bool(profile and profile.bank_details_enc)
        ready = bool(profile) and has_bank
        if current_provider().name == "manual":
            message = _("Awards are paid by bank wire to the account in your payee details.")
        else:
            message = _("Stripe cannot pay out to residents of %(country)s, so your award will be paid by bank "
                        "wire to the account in your payee details. A wire can take a few more days.",
                        country=country_name(country))
        if not has_bank:
            message += " " + _("Add your bank account to your payee details.")
    else:
        ready = bool(profile) and bool(account and account.ready)
        message = _("Your award will be paid to your Stripe account.")
        if not (account and account.ready):
            message += " " + _("Connect it and finish Stripe's onboarding before the payout.")
    if not profile:
        message = _("Fill in your payee details first.") + " " + message
    return PayoutPlan(provider=provider, country=country, has_payee=profile is not None, account=account,
                      ready=ready, message=message)


def connect(user, *, return_url: str, refresh_url: str) -> tuple[PayoutPlan, str | None, bool]:
    """Open (or reopen) the payout account: (plan, Stripe onboarding URL or None, created)."""
    if payees.profile_of(user) is None:
        raise Conflict(_l("Fill in your payee details (legal name, residence, tax form) first."))
    plan = payout_plan(user)
    created = False
    if plan.provider == "manual":
        account = plan.account
        if account is None:
            opened = manual_provider().create_payout_account(f"user:{user.id}", user.email, plan.country,
                                                            f"user-{user.id}-payout-account")
            account = PayoutAccount(user_id=user.id, provider="manual", external_id=opened.external_id, ready=True)
            db.session.add(account)
            db.session.flush()
            created = True
            record("payout_account.created", "user", user.id, actor=user, provider="manual")
            _announce(user)
        return payout_plan(user), None, created

    provider = current_provider()
    account = plan.account
    if account is None:
        # The key makes a retried request (or a double click) open one Stripe account, not two.
        opened = provider.create_payout_account(f"user:{user.id}", user.email, plan.country,
                                                f"user-{user.id}-payout-account-{plan.country}")
        account = PayoutAccount(user_id=user.id, provider=provider.name, external_id=opened.external_id,
                                ready=opened.ready)
        db.session.add(account)
        db.session.flush()
        created = True
        record("payout_account.created", "user", user.id, actor=user, provider=provider.name,
               external_id=opened.external_id)
        if account.ready:
            _announce(user)
    elif not account.ready:
        refresh(account)
    link = None if account.ready else provider.onboarding_link(account.external_id, return_url, refresh_url)
    return payout_plan(user), link, created


def ready_at_provider(account: PayoutAccount) -> bool:
    """Whether the provider says onboarding is finished, storing nothing: a page read (Stripe's return URL) may
    ask; the account.updated webhook and `refresh` (the solver's "Check again") store the answer."""
    if account.provider == "manual":
        return account.ready
    return current_provider().payout_account_ready(account.external_id)


def onboarding_link_again(user, *, return_url: str, refresh_url: str) -> str | None:
    """A new onboarding link for an unfinished Stripe account (Stripe's refresh URL is a GET, so nothing is
    written: no account is opened here); None when there is nothing to onboard."""
    plan = payout_plan(user)
    if plan.provider == "manual" or plan.account is None or plan.account.ready:
        return None
    return current_provider().onboarding_link(plan.account.external_id, return_url, refresh_url)


def refresh(account: PayoutAccount) -> PayoutAccount:
    """Ask the provider whether onboarding is finished (after the return URL, or an account.updated event)."""
    if account.provider == "manual":
        return account
    ready = current_provider().payout_account_ready(account.external_id)
    if ready != account.ready:
        account.ready = ready
        record("payout_account.updated", "user", account.user_id, provider=account.provider, ready=ready)
        _announce(account.user_id)
    return account


def _announce(user) -> None:
    """The payout account is ready (or not any more): tell the solver what comes next for each open award."""
    from marketplace.accounts.models import User
    from marketplace.awards.winner_notices import announce_user  # awards import payments: a late import

    announce_user(user if isinstance(user, User) else db.session.get(User, user))
