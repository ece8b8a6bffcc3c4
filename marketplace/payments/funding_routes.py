"""Funding pages: the finance officer's funding queue, and the funding panel and actions of a challenge's manage
page (the manage page shows the panel through `marketplace.panels`)."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select

from marketplace.challenges.models import Challenge
from marketplace.challenges.staff_lists import organizations_where, with_relations
from marketplace.challenges.staff_routes import button_action, load_for_staff, manage_action
from marketplace.extensions import db
from marketplace.money import Money, parse_money
from marketplace.payments import funding
from marketplace.payments.forms import ReceiptForm
from marketplace.payments.models import FundingReceipt
from marketplace.payments.routes import bp
from marketplace.permissions import Role


def funding_panel(challenge: Challenge, user) -> dict:
    """What the manage page shows of the funding: receipts, the sum received, and the receipt form if allowed."""
    received = Money(funding.received_minor(challenge), challenge.award_currency)
    receipts = [(r, Money(r.amount_minor, r.currency)) for r in db.session.scalars(
        select(FundingReceipt).filter_by(challenge_id=challenge.id)
        .order_by(FundingReceipt.received_on, FundingReceipt.id))]
    outstanding = Money(challenge.funding_target_minor - received.minor, challenge.award_currency)
    may_fund = not challenge.funded and funding.funding_refusal(challenge, user) is None
    return {"may_fund": may_fund, "received": received,
            "receipts": receipts, "receipt_form": ReceiptForm(formdata=None, amount=outstanding.amount)}


@bp.get("/staff/funding")
@login_required
def funding_queue():
    """Challenges of the user's organizations whose award is not yet held, with what has arrived."""
    org_ids = organizations_where(Role.FINANCE_OFFICER, _l("This page is for finance officers."))
    challenges = db.session.scalars(with_relations(select(Challenge).where(
        Challenge.organization_id.in_(org_ids), Challenge.status.in_(funding.FUNDABLE_STATES),
        Challenge.funded.is_(False))).order_by(Challenge.deadline)).all()
    received = dict(db.session.execute(
        select(FundingReceipt.challenge_id, func.sum(FundingReceipt.amount_minor))
        .where(FundingReceipt.challenge_id.in_([c.id for c in challenges] or [-1]))
        .group_by(FundingReceipt.challenge_id)).all())
    rows = [(c, Money(int(received.get(c.id, 0)), c.award_currency)) for c in challenges]
    return render_template("payments/funding_queue.html", rows=rows)


@bp.post("/staff/challenges/<int:challenge_id>/funding")
@login_required
def start_funding(challenge_id: int):
    return button_action(challenge_id, funding.start_funding,
                         _("Funding requested. Record the bank receipt when the money arrives."))


@bp.post("/staff/challenges/<int:challenge_id>/receipts")
@login_required
def record_receipt(challenge_id: int):
    challenge = load_for_staff(challenge_id)
    form = ReceiptForm()

    def record():
        amount = parse_money({"amount": format(form.amount.data, "f"), "currency": challenge.award_currency})
        funding.record_receipt(challenge, current_user, reference=form.reference.data, amount=amount,
                               received_on=form.received_on.data, confirm_overfunding=form.confirm_overfunding.data)

    return manage_action(challenge, record, lambda _result: _("Receipt recorded. The challenge is funded.")
                         if challenge.funded else _("Receipt recorded. The award is not fully funded yet."),
                         form=form, form_name="receipt_form")
