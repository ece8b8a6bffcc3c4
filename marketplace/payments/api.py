"""Payments API: payees and payout accounts, two-person release of awards, refunds, the ledger."""

from __future__ import annotations

import marshmallow as ma
from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import validate
from sqlalchemy import select

from marketplace.api import PageArgs, RowId, login_required_api, step_on
from marketplace.awards.ip_assignment import get_visible
from marketplace.awards.presenters import award_json
from marketplace.errors import DomainError, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.money import Money
from marketplace.payments import escrow, journal, payees, payout_accounts, payouts, refunds, release, reports
from marketplace.payments.ledger import KINDS
from marketplace.payments.models import Refund
from marketplace.payments.payees import TAX_FORMS
from marketplace.payments.refusals import commit_refusal

blp = Blueprint("payments_api", __name__, url_prefix="/api/v1", description="Payments, payouts and the ledger")


class BankAccountIn(ma.Schema):
    account_number = ma.fields.String(required=True, validate=validate.Length(max=60))
    swift_bic = ma.fields.String(required=True, validate=validate.Length(max=20))
    bank_name = ma.fields.String(load_default="", validate=validate.Length(max=120))
    account_holder = ma.fields.String(load_default="", validate=validate.Length(max=200))


class PayeeIn(ma.Schema):
    legal_name = ma.fields.String(required=True, validate=validate.Length(max=300))
    residence_country = ma.fields.String(required=True, validate=validate.Length(max=2))
    date_of_birth = ma.fields.Date(required=True)
    tax_form = ma.fields.String(required=True, validate=validate.OneOf(TAX_FORMS))
    tax_id = ma.fields.String(allow_none=True, validate=validate.Length(max=60))
    bank_account = ma.fields.Nested(BankAccountIn, allow_none=True)


class ConfirmationIn(ma.Schema):
    reference = ma.fields.String(required=True, validate=validate.Length(min=1, max=140))
    recipient_id = RowId(load_default=None)


class ReasonIn(ma.Schema):
    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=2000))


class LedgerArgs(PageArgs):
    challenge_id = RowId(load_default=None, strict=False)
    kind = ma.fields.String(load_default=None, validate=validate.OneOf(sorted(KINDS)))
    account = ma.fields.String(load_default=None, validate=validate.Length(min=1, max=80),
                               metadata={"description": "An account code or its beginning: escrow, payable:user:7"})
    since = ma.fields.Date(load_default=None, metadata={"description": "From this day (UTC), inclusive"})
    until = ma.fields.Date(load_default=None, metadata={"description": "Up to this day (UTC), inclusive"})

    @ma.validates_schema
    def _ordered(self, data, **kwargs):
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise ma.ValidationError(str(_l("The first day comes after the last.")), "until")


def _journal_filter(args: dict) -> journal.JournalFilter:
    return journal.JournalFilter(challenge_id=args["challenge_id"], kind=args["kind"], account=args["account"],
                                 since=args["since"], until=args["until"])


# --- payee and payout account ------------------------------------------------------------


def _plan_json(plan, onboarding_url: str | None = None) -> dict:
    return {"provider": plan.provider, "country": plan.country, "ready": plan.ready, "message": plan.message,
            "onboarding_url": onboarding_url,
            "account": {"external_id": plan.account.external_id, "ready": plan.account.ready} if plan.account else None}


@blp.get("/me/payee")
@login_required_api
def get_payee():
    profile = payees.profile_of(current_user)
    if profile is None:
        raise NotFound(_l("You have not given payee details yet."))
    return payees.masked(profile)


@blp.put("/me/payee")
@blp.arguments(PayeeIn)
@login_required_api
def put_payee(data):
    profile = payees.save_payee(current_user, data)
    db.session.commit()
    return payees.masked(profile)


@blp.get("/me/payout-account")
@login_required_api
def get_payout_account():
    return _plan_json(payout_accounts.payout_plan(current_user))


@blp.post("/me/payout-account")
@login_required_api
def connect_payout_account():
    plan, link, created = payout_accounts.connect(
        current_user, return_url=url_for("payments.payout_account_return", _external=True),
        refresh_url=url_for("payments.payout_account_refresh", _external=True))
    db.session.commit()
    return _plan_json(plan, link), 201 if created else 200


# --- releasing awards --------------------------------------------------------------------


_award_step = step_on(lambda award_id: get_visible(award_id, current_user),
                      lambda award, status: (award_json(award, current_user), status))


def _refusal_audited(action: str, award_id: int, error: DomainError):
    commit_refusal(action, award_id, current_user, error)
    raise error


@blp.post("/awards/<int:award_id>/release")
@login_required_api
def request_release(award_id: int):
    award = get_visible(award_id, current_user)
    try:
        release.request_release(award, current_user)
    except DomainError as error:
        _refusal_audited("award.release_refused", award_id, error)
    db.session.commit()
    return award_json(award, current_user)


@blp.post("/awards/<int:award_id>/approve")
@login_required_api
def approve_release(award_id: int):
    """Approve and pay (`release.approve_and_pay`: the pending payouts are committed before the provider call)."""
    award = get_visible(award_id, current_user)
    refused = release.approve_and_pay([award.id], current_user).refused  # commits; a refusal is audited
    if refused:
        raise refused[award.id]
    return award_json(award, current_user)


@blp.post("/awards/<int:award_id>/payout-confirmation")
@blp.arguments(ConfirmationIn)
@login_required_api
def confirm_payout(data, award_id: int):
    return _award_step(award_id, lambda award: payouts.confirm_wire(
        award, current_user, reference=data["reference"], recipient_id=data["recipient_id"]))


@blp.post("/awards/<int:award_id>/cancel")
@blp.arguments(ReasonIn)
@login_required_api
def cancel_award(data, award_id: int):
    return _award_step(award_id, lambda award: escrow.cancel_award(award, current_user, reason=data["reason"]))


# --- refunds -----------------------------------------------------------------------------


def _refund_json(refund: Refund) -> dict:
    return {"id": refund.id, "challenge_id": refund.challenge_id, "provider": refund.provider,
            "status": refund.status, "amount": Money(refund.amount_minor, refund.currency).as_dict(),
            "reason": refund.reason, "external_id": refund.external_id, "reference": refund.reference,
            "last_error": refund.last_error, "created_at": refund.created_at.isoformat(),
            "completed_at": refund.completed_at and refund.completed_at.isoformat()}


def _load_refund(refund_id: int) -> Refund:
    refund = db.session.get(Refund, refund_id)
    if refund is None or refund.challenge_id not in reports.visible_challenge_ids(current_user):
        raise NotFound(_l("No such refund."))
    return refund


@blp.get("/finance/refunds")
@login_required_api
def list_refunds():
    _require_finance_anywhere()
    ids = reports.visible_challenge_ids(current_user)
    refunds = db.session.scalars(select(Refund).where(Refund.challenge_id.in_(ids or [-1]))
                                 .order_by(Refund.id.desc())).all()
    return {"items": [_refund_json(r) for r in refunds]}


@blp.post("/refunds/<int:refund_id>/send")
@login_required_api
def send_refund(refund_id: int):
    refund = _load_refund(refund_id)
    refunds.begin_refund(refund, current_user)
    db.session.commit()
    refunds.record_refund_result(refunds.send_refund(refund), actor=current_user)
    db.session.commit()
    return _refund_json(refund)


@blp.post("/refunds/<int:refund_id>/confirmation")
@blp.arguments(ConfirmationIn)
@login_required_api
def confirm_refund(data, refund_id: int):
    refund = _load_refund(refund_id)
    refunds.confirm_refund_wire(refund, current_user, reference=data["reference"])
    db.session.commit()
    return _refund_json(refund)


# --- the ledger --------------------------------------------------------------------------


def _require_finance_anywhere() -> None:
    if not (current_user.is_admin or current_user.has_role("finance_officer")):
        raise Forbidden(_l("The ledger is for finance officers."))


@blp.get("/finance/ledger")
@blp.arguments(LedgerArgs, location="query")
@login_required_api
def ledger_view(args):
    """Transactions with their entries (newest first), filtered, and balances per account, challenge and solver."""
    _require_finance_anywhere()
    return journal.ledger_json(current_user, _journal_filter(args), page=args["page"], per_page=args["per_page"])


@blp.get("/finance/ledger.csv")
@blp.arguments(LedgerArgs, location="query")
@blp.response(200, content_type="text/csv")
@login_required_api
def ledger_csv(args):
    """The same journal as CSV, one row per line of a transaction (page arguments are ignored)."""
    _require_finance_anywhere()
    return journal.csv_response(current_user, _journal_filter(args))
