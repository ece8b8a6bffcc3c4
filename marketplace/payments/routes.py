"""Payment pages: the finance overview and award release, and each solver's payment status and payee form.

Every action is a POST form calling one service; a refusal is flashed on the page it came from
(refused releases and approvals are audited).
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from marketplace.api import page_of
from marketplace.awards.ip_assignment import award_challenge
from marketplace.awards.models import Award, AwardRecipient
from marketplace.awards.presenters import pct
from marketplace.challenges.models import Challenge
from marketplace.countries import country_name
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.i18n import current_locale_id, format_money
from marketplace.labels import (
    LEDGER_KIND_LABELS,
    ledger_account_label,
    ledger_kind_label,
    payout_status_label,
    refund_status_label,
)
from marketplace.money import Money
from marketplace.page_actions import run_action
from marketplace.payments import journal, payees, payout_accounts, payouts, refunds, reports
from marketplace.payments.conflicts import finance_conflict
from marketplace.payments.forms import ActionForm, JournalForm, PayeeForm, ReferenceForm
from marketplace.payments.models import Refund
from marketplace.payments.refusals import commit_refusal
from marketplace.payments.release import approve_and_pay, problems, request_release

bp = Blueprint("payments", __name__, template_folder="templates")
JOURNAL_PER_PAGE = 50
bp.add_app_template_global(ledger_kind_label)
bp.add_app_template_global(ledger_account_label)

for _word in (payout_status_label, refund_status_label):
    bp.add_app_template_global(_word)


@bp.app_template_global()
def share_percent(value) -> str:
    """60.00 -> "60", 33.33 -> "33.33" (never "1E+2")."""
    return pct(value)


@bp.app_template_global()
def money_of(amount_minor: int, currency: str) -> Money:
    return Money(amount_minor, currency)


def _require_finance_page() -> list[int]:
    if not (current_user.is_admin or current_user.has_role("finance_officer")):
        raise NotFound(_l("This page is for finance officers."))
    return reports.visible_challenge_ids(current_user)


# --- finance -----------------------------------------------------------------------------


@bp.get("/finance")
@login_required
def finance_overview():
    ids = _require_finance_page()
    challenges = reports.challenge_rows(ids)
    refunds = db.session.scalars(select(Refund).where(Refund.challenge_id.in_(ids or [-1]),
                                                      Refund.status.in_(("scheduled", "sending", "sent", "failed")))
                                 .order_by(Refund.id)).all()
    return render_template("payments/finance.html", challenges=challenges, solvers=reports.solver_rows(ids),
                           awards=reports.awards_by_age(ids), charts=reports.chart_series(challenges),
                           refunds=refunds, action_form=ActionForm(), reference_form=ReferenceForm(),
                           target_days=current_app.config.get("PAYOUT_TARGET_DAYS", 30))


@bp.get("/finance/ledger")
@login_required
def ledger_journal():
    """The journal: transactions and their lines, filtered, balances per account, CSV export."""
    form, filters = _journal_form()
    if filters is None:
        return render_template("payments/ledger.html", form=form, page=None, balances=[]), 422
    page_number = request.args.get("page", 1, type=int) or 1
    page = page_of(db.session, journal.transactions(current_user, filters), max(page_number, 1), JOURNAL_PER_PAGE)
    return render_template("payments/ledger.html", form=form, page=page,
                           balances=journal.balances(current_user, filters),
                           csv_url=url_for("payments.ledger_csv", **_filter_args()), pager_args=_filter_args())


@bp.get("/finance/ledger.csv")
@login_required
def ledger_csv():
    _form, filters = _journal_form()
    if filters is None:
        return redirect(url_for("payments.ledger_journal", **_filter_args()), code=303)
    return journal.csv_response(current_user, filters)


def _filter_args() -> dict:
    return {k: v for k, v in request.args.items() if k in ("challenge_id", "kind", "account", "since", "until") and v}


def _journal_form():
    """The filter form and its JournalFilter (None when the filters are not valid)."""
    ids = _require_finance_page()
    challenges = db.session.scalars(select(Challenge).where(Challenge.id.in_(ids or [-1])).order_by(Challenge.id))
    locale = current_locale_id()
    form = JournalForm(request.args, challenges=[(c.id, c.localized("title", locale)[1]) for c in challenges],
                       kinds=[(code, label) for code, label in LEDGER_KIND_LABELS.items()])
    if request.args and not form.validate():
        return form, None
    return form, journal.JournalFilter(challenge_id=form.challenge_id.data, kind=form.kind.data or None,
                                       account=(form.account.data or "").strip() or None,
                                       since=form.since.data, until=form.until.data)


@bp.get("/finance/awards/<int:award_id>")
@login_required
def finance_award(award_id: int):
    award = _finance_award(award_id)
    return render_template("payments/award.html", award=award, challenge=award_challenge(award),
                           problems=problems(award) if award.status in ("awarded", "release_requested")
                           else [], payouts=payouts.payouts_of(award), action_form=ActionForm(),
                           conflict=finance_conflict(award, current_user),
                           reference_form=ReferenceForm(), paid_to=_paid_to(award))


def _paid_to(award: Award) -> str:
    """"CN¥60,000.00 to Anna Schmidt; CN¥40,000.00 to Li Wei": what approving pays, said before it is done."""
    return "; ".join(_("%(amount)s to %(name)s", amount=format_money(Money(r.amount_minor, award.currency).amount,
                                                                     award.currency), name=r.user.display_name)
                     for r in award.recipients if r.amount_minor > 0)


def _finance_award(award_id: int) -> Award:
    award = db.session.get(Award, award_id)
    if award is None or award.challenge_id not in _require_finance_page():
        raise NotFound(_l("No such award."))
    return award


def _back(award_id: int):
    return redirect(_award_page(award_id), code=303)


def _award_page(award_id: int) -> str:
    return url_for("payments.finance_award", award_id=award_id)


@bp.post("/finance/awards/<int:award_id>/release")
@login_required
def release(award_id: int):
    award = _finance_award(award_id)
    return run_action(lambda: request_release(award, current_user), form=ActionForm(),
                      success=_("Release requested. Another finance officer must approve it."),
                      redirect_to=_award_page(award_id), code=303,
                      record_refusal=lambda error: commit_refusal("award.release_refused", award_id, current_user,
                                                                  error))


@bp.post("/finance/awards/<int:award_id>/approve")
@login_required
def approve(award_id: int):
    award = _finance_award(award_id)
    if ActionForm().validate_on_submit():
        refused = approve_and_pay([award.id], current_user).refused  # commits; a refusal is audited
        if refused:
            flash(str(refused[award.id].detail), "error")
            return _back(award_id)
        flash(_("Release approved. Transfers are on their way; wires wait for their bank reference."), "success")
    return _back(award_id)


@bp.post("/finance/awards/<int:award_id>/confirm")
@login_required
def confirm(award_id: int):
    award = _finance_award(award_id)
    form = ReferenceForm()
    if not form.validate_on_submit():
        flash(_("Give the wire reference."), "error")
        return _back(award_id)
    return run_action(lambda: payouts.confirm_wire(award, current_user, reference=form.reference.data),
                      success=_("The wire is recorded; the award is paid."), redirect_to=_award_page(award_id),
                      code=303)


@bp.post("/finance/refunds/<int:refund_id>/send")
@login_required
def send_refund(refund_id: int):
    refund = _finance_refund(refund_id)
    overview = url_for("payments.finance_overview")
    # Two transactions: the refund is committed as `sending` before the provider is called.
    claimed: list[Refund] = []
    response = run_action(lambda: refunds.begin_refund(refund, current_user), form=ActionForm(), success=None,
                          redirect_to=overview, code=303, after_commit=claimed.append)
    if not claimed:  # an invalid form or a refusal: run_action answered
        return response
    return run_action(lambda: refunds.record_refund_result(refunds.send_refund(refund), actor=current_user),
                      success=_("Refund sent."), redirect_to=overview, code=303)


@bp.post("/finance/refunds/<int:refund_id>/confirm")
@login_required
def confirm_refund(refund_id: int):
    refund = _finance_refund(refund_id)
    form = ReferenceForm()
    overview = url_for("payments.finance_overview")
    if not form.validate_on_submit():
        flash(_("Give the wire reference."), "error")
        return redirect(overview, code=303)
    return run_action(lambda: refunds.confirm_refund_wire(refund, current_user, reference=form.reference.data),
                      success=_("The refund wire is recorded."), redirect_to=overview, code=303)


def _finance_refund(refund_id: int) -> Refund:
    refund = db.session.get(Refund, refund_id)
    if refund is None or refund.challenge_id not in _require_finance_page():
        raise NotFound(_l("No such refund."))
    return refund


# --- the solver's side -------------------------------------------------------------------

def _challenges_of_awards(awards: list[Award]) -> dict[int, Challenge]:
    """Award id -> its challenge, in one query."""
    by_id = {c.id: c for c in db.session.scalars(
        select(Challenge).where(Challenge.id.in_({a.challenge_id for a in awards} or {-1})))}
    return {a.id: by_id[a.challenge_id] for a in awards}



@bp.get("/me/payments")
@login_required
def my_payments():
    rows = db.session.execute(select(Award, AwardRecipient).join(AwardRecipient, AwardRecipient.award_id == Award.id)
                              .where(AwardRecipient.user_id == current_user.id).order_by(Award.id.desc())).all()
    profile = payees.profile_of(current_user)
    return render_template("payments/my_payments.html", rows=rows, plan=payout_accounts.payout_plan(current_user),
                           payee=payees.masked(profile) if profile else None, action_form=ActionForm(),
                           challenges=_challenges_of_awards([a for a, _r in rows]),
                           target_days=current_app.config.get("PAYOUT_TARGET_DAYS", 30))


@bp.route("/me/payee", methods=["GET", "POST"])
@login_required
def payee_form():
    form = PayeeForm()
    if request.method == "GET":
        on_file = payees.profile_of(current_user)
        form.residence_country.data = on_file.residence_country if on_file else current_user.country
    valid = form.validate_on_submit()
    asks_confirmation = form.is_submitted() and payees.country_differs(current_user, form.residence_country.data)
    if valid and asks_confirmation and not form.confirm_country.data:
        form.confirm_country.errors = [_("Your account says you live in %(account)s. Confirm that you live in "
                                         "%(payee)s, or choose %(account)s.",
                                         account=country_name(current_user.country),
                                         payee=country_name(form.residence_country.data))]
        return _payee_page(form, asks_confirmation, 422)
    if valid:
        return run_action(lambda: payees.save_payee(current_user, _payee_data(form)),
                          success=_("Your payee details are saved (encrypted)."),
                          redirect_to=url_for("payments.my_payments"), code=303,
                          show=lambda error: _place_payee_errors(form, error),
                          refused=lambda refusal: _payee_page(form, asks_confirmation, 422))
    return _payee_page(form, asks_confirmation, 422 if request.method == "POST" else 200)


def _payee_data(form: PayeeForm) -> dict:
    data = {"legal_name": form.legal_name.data, "residence_country": (form.residence_country.data or "").upper(),
            "date_of_birth": form.date_of_birth.data, "tax_form": form.tax_form.data,
            "tax_id": form.tax_id.data or None}
    if form.account_number.data or form.swift_bic.data:
        data["bank_account"] = {"account_number": form.account_number.data, "swift_bic": form.swift_bic.data,
                                "bank_name": form.bank_name.data or ""}
    return data


# The service names the bank account's fields by their path in the API body; the form flattens them.
_PAYEE_FIELDS = {"bank_account.account_number": "account_number", "bank_account.swift_bic": "swift_bic",
                 "bank_account.bank_name": "bank_name"}


def _place_payee_errors(form: PayeeForm, error: DomainError) -> None:
    """Field messages only, next to their fields (the page says nothing on top)."""
    for name, messages in error.errors.items():
        target = _PAYEE_FIELDS.get(name, name)
        if target in form:
            form[target].errors = list(form[target].errors) + [str(m) for m in messages]


def _payee_page(form: PayeeForm, asks_confirmation: bool, status: int):
    profile = payees.profile_of(current_user)
    return render_template("payments/payee.html", form=form, payee=payees.masked(profile) if profile else None,
                           asks_confirmation=asks_confirmation), status


@bp.post("/me/payout-account")
@login_required
def connect_payout_account():
    my_payments = url_for("payments.my_payments")
    # The answer is (plan, onboarding link or None, created): to Stripe's onboarding, or back with the plan.
    return run_action(_connect, form=ActionForm(), success=lambda answer: None if answer[1] else answer[0].message,
                      redirect_to=lambda answer: answer[1] or my_payments, refused=my_payments, code=303)


def _connect():
    return payout_accounts.connect(current_user, return_url=url_for("payments.payout_account_return", _external=True),
                                   refresh_url=url_for("payments.payout_account_refresh", _external=True))


@bp.get("/me/payout-account/return")
@login_required
def payout_account_return():
    """Stripe sends the solver back here after onboarding: ask Stripe whether it is complete, storing nothing
    (a GET writes nothing; the account.updated webhook or the page's "Check again" button stores the answer)."""
    plan = payout_accounts.payout_plan(current_user)
    done_at_stripe = plan.ready
    if plan.account is not None and not plan.ready:
        try:
            done_at_stripe = plan.has_payee and payout_accounts.ready_at_provider(plan.account)
        except Exception:  # noqa: BLE001 - Stripe unreachable: the page shows the stored state
            done_at_stripe = False
    if plan.ready:
        flash(_("Your payout account is ready."), "success")
    elif done_at_stripe:
        flash(_("Stripe has all your details. Press “Check again” to confirm your payout account."), "success")
    else:
        flash(_("Stripe still needs some details from you."), "error")
    return redirect(url_for("payments.my_payments"), code=303)


@bp.get("/me/payout-account/refresh")
@login_required
def payout_account_refresh():
    """An onboarding link expired or was used: send the solver to a new one (a GET: nothing is stored)."""
    try:
        link = payout_accounts.onboarding_link_again(
            current_user, return_url=url_for("payments.payout_account_return", _external=True),
            refresh_url=url_for("payments.payout_account_refresh", _external=True))
    except Exception:  # noqa: BLE001 - Stripe unreachable: back to the page, whose button tries again
        flash(_("Stripe cannot be reached just now. Please try again in a minute."), "error")
        link = None
    return redirect(link or url_for("payments.my_payments"), code=303)

