"""Demo money: the awarded sensor challenge's 70 % award paid by bank wire, its 30 % award waiting for
the second finance officer's approval (and past the 30-day payout target, so the finance page flags it).

Built on the awarded challenge of reviews_seed (decided through the award decision service, which
allocated both awards in the ledger), through the payments services, as finance and the solvers would:
IP assignment, encrypted payee details, release requested by Liu Yang, approved by He Xin, wire recorded.
Funded challenges come from the earlier steps (every published challenge was funded by a recorded wire).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import select

from marketplace.accounts.models import Organization, User
from marketplace.awards import ip_assignment
from marketplace.awards.models import Award
from marketplace.challenges.models import Challenge
from marketplace.db import utcnow
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.payments import payees, services

log = logging.getLogger(__name__)
REQUESTER, APPROVER = "liu.yang@ssc.example.cn", "he.xin@ssc.example.cn"


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _declare_payee(user: User) -> None:
    if payees.profile_of(user) is not None:
        return
    payees.save_payee(user, {
        "legal_name": user.display_name.split(" (")[0], "residence_country": user.country,
        "date_of_birth": date(1987, 9, 23), "tax_form": "W-9" if user.country == "US" else "none",
        "tax_id": "123-45-6789" if user.country == "US" else None,
        "bank_account": {"account_number": "GB33BUKB20201555555555", "swift_bic": "BUKBGB22",
                         "bank_name": "Demo Bank", "account_holder": user.display_name}})


def seed_money(password: str) -> None:
    awards = db.session.scalars(
        select(Award).join(Challenge, Challenge.id == Award.challenge_id)
        .join(Organization, Organization.id == Challenge.organization_id)
        .where(Organization.slug == "sh-ssc", Award.status == "awarded").order_by(Award.amount_minor.desc())).all()
    if len(awards) < 2:
        log.warning("demo: no awarded sensor challenge to pay (reviews seed missing?)")
        return
    paid, waiting = awards[0], awards[1]
    requester, approver = _user(REQUESTER), _user(APPROVER)
    try:
        for award in (paid, waiting):
            for recipient in award.recipients:
                ip_assignment.accept(award, recipient.user)
                _declare_payee(recipient.user)
            services.request_release(award, requester)
        # The bank-wire flow: approve (payouts written, wire instructions issued), then the wire reference.
        refused = services.approve_and_pay([paid.id], approver).refused
        if refused:
            raise refused[paid.id]
        services.confirm_wire(paid, requester, reference="BOC-SH-2027-0415-001")
    except DomainError as error:  # e.g. Stripe configured without connected accounts for these solvers
        log.warning("demo: the sensor awards stay unpaid (%s)", error.detail)
        return
    # Decided five weeks ago: the paid one took 12 days; the other is now past the 30-day target.
    decided = utcnow() - timedelta(days=35)
    for award in (paid, waiting):
        award.created_at = decided
    waiting.release_requested_at = utcnow() - timedelta(days=3)
    paid.paid_at = decided + timedelta(days=12)
