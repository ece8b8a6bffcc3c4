"""Result pages: the public showcase, a result's citable page, the Atom feed, winners' consent, and the
center's pages to write, publish and withdraw a result and to start a follow-on challenge from it."""

from __future__ import annotations

import math

from flask import Blueprint, Response, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from marketplace.challenges.forms import ActionForm
from marketplace.challenges.models import Challenge
from marketplace.content_locales import is_content_locale
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.i18n import current_locale_id
from marketplace.page_actions import run_action
from marketplace.results import citations, feed, follow_ons, listing, services
from marketplace.results.forms import ConsentForm, NewResultForm, ResultForm, ResultSearchForm, WithdrawForm
from marketplace.results.models import ResultRecord
from marketplace.results.presenters import result_detail

bp = Blueprint("results", __name__, template_folder="templates")
PER_PAGE = 20


# --- public ------------------------------------------------------------------------------------

@bp.get("/results")
def showcase():
    fields = db.session.scalars(select(ResultRecord.field).where(ResultRecord.status == "published").distinct()
                                .order_by(ResultRecord.field)).all()
    form = ResultSearchForm(formdata=request.args or None, fields=fields)
    valid = form.validate() if request.args else True
    args = {"page": 1, "per_page": PER_PAGE}
    for name in ("q", "field", "licensing", "patent", "page"):
        value = form[name].data
        if not form[name].errors and value not in (None, ""):
            args[name] = value.strip() if isinstance(value, str) else value
    result = listing.public_page(args, current_locale_id())
    pages = max(1, math.ceil(result["total"] / PER_PAGE))
    query = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("results/showcase.html", form=form, result=result, pages=pages, query=query), \
        200 if valid else 422


@bp.get("/results/feed.atom")
def atom():
    body = feed.atom_feed(listing.latest(), current_locale_id())
    return Response(body, mimetype="application/atom+xml")


@bp.get("/results/<int:result_id>")
def detail(result_id: int):
    return render_detail(services.get_visible(result_id, current_user))


def render_detail(result: ResultRecord, status: int = 200, **forms):
    view = result_detail(result, current_user, current_locale_id())
    return render_template(
        "results/detail.html", result=result, view=view, staff=result.is_staff(current_user),
        manager=result.can_manage(current_user), bibtex=citations.bibtex(result, view["locale"]),
        missing=services.missing_consents(result), action_form=ActionForm(formdata=None),
        withdraw_form=forms.get("withdraw_form") or WithdrawForm(formdata=None),
    ), status


@bp.route("/results/<int:result_id>/consent", methods=["GET", "POST"])
@login_required
def consent(result_id: int):
    """A winner decides whether the center may name them on this result."""
    result = services.get_visible(result_id, current_user)
    winner = next((w for w in result.winners if w.user_id == current_user.id), None)
    if winner is None:
        raise NotFound(_l("No such result."))
    if request.method == "GET":
        form = ConsentForm(formdata=None, consent="yes" if winner.consent == "given" else "no",
                           cited_name=winner.cited_name)
        return _consent_page(result, winner, form)
    form = ConsentForm()
    return run_action(
        lambda: services.decide_consent(result, current_user, consent=form.consent.data == "yes",
                                        cited_name=form.cited_name.data or ""), form=form,
        success=lambda _done: _("Thank you: your name will be shown on this result.") if form.consent.data == "yes"
        else _("Your name will not be shown on this result."),
        redirect_to=url_for(".consent", result_id=result.id),
        refused=lambda refusal: _consent_page(result, winner, form, refusal.status))


def _consent_page(result: ResultRecord, winner, form: ConsentForm, status: int = 200):
    view = result_detail(result, current_user, current_locale_id())
    return render_template("results/consent.html", result=result, view=view, winner=winner, form=form), status


# --- the center's pages ----------------------------------------------------------------------------

def _load_for_staff(result_id: int) -> ResultRecord:
    result = db.session.get(ResultRecord, result_id)
    if result is None or not result.is_staff(current_user):
        raise NotFound(_l("No such result."))
    return result


def _form_data(form: ResultForm, locale: str) -> dict:
    return {
        "title": {locale: form.title.data or ""},
        "abstract": {locale: form.abstract.data or ""},
        "licence_terms": {locale: form.licence_terms.data or ""},
        "field": form.field.data,
        "patent_application": form.patent_application.data or None,
        "open_for_licensing": form.open_for_licensing.data,
        "licensing_contact": form.licensing_contact.data or "",
        "named_winner_ids": form.named_winner_ids.data or [],
    }


@bp.route("/staff/challenges/<int:challenge_id>/results/new", methods=["GET", "POST"])
@login_required
def new(challenge_id: int):
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or not challenge.is_staff(current_user):
        raise NotFound(_l("No such challenge."))
    recipients = services.award_recipients(challenge)
    winners = list({r.user_id: r for r in recipients}.values())
    form = NewResultForm(winners=winners)
    if request.method == "GET":
        _prefill_new(form, challenge)
        return _new_page(form, challenge, recipients)
    data = {**_form_data(form, form.locale.data), "default_locale": form.locale.data}
    return run_action(lambda: services.create_result(challenge, current_user, data), form=form,
                      success=_("The result is saved as a draft. The winners you named were asked for consent."),
                      redirect_to=lambda result: url_for(".detail", result_id=result.id),
                      refused=lambda refusal: _new_page(form, challenge, recipients, refusal.status))


def _prefill_new(form: NewResultForm, challenge: Challenge) -> None:
    prefill = services.prefill_from_challenge(challenge)
    form.locale.data = challenge.default_locale
    form.title.data = prefill["title"].get(challenge.default_locale, "")
    form.abstract.data = prefill["abstract"].get(challenge.default_locale, "")
    form.field.data = challenge.field


def _new_page(form: NewResultForm, challenge: Challenge, recipients, status: int = 200):
    return render_template("results/edit.html", form=form, challenge=challenge, result=None,
                           has_award=bool(recipients), locale=form.locale.data), status


@bp.route("/staff/results/<int:result_id>/edit", methods=["GET", "POST"])
@login_required
def edit(result_id: int):
    result = _load_for_staff(result_id)
    locale = request.args.get("locale") or result.default_locale
    if not is_content_locale(locale):
        raise NotFound(_l("Unknown language."))
    form = ResultForm(winners=result.winners)
    if request.method == "GET":
        _fill_from(form, result, locale)
        return _edit_page(form, result, locale)
    return run_action(lambda: services.update_result(result, current_user, _form_data(form, locale)), form=form,
                      success=_("The result is saved."), redirect_to=url_for(".detail", result_id=result.id),
                      refused=lambda refusal: _edit_page(form, result, locale, refusal.status))


def _fill_from(form: ResultForm, result: ResultRecord, locale: str) -> None:
    text = {t.locale: t for t in result.texts}.get(locale)
    form.title.data = text.title if text else ""
    form.abstract.data = text.abstract if text else ""
    form.licence_terms.data = text.licence_terms if text else ""
    form.field.data = result.field
    form.patent_application.data = result.patent_application or ""
    form.open_for_licensing.data = result.open_for_licensing
    form.licensing_contact.data = result.licensing_contact
    form.named_winner_ids.data = [w.user_id for w in result.winners if w.named]


def _edit_page(form: ResultForm, result: ResultRecord, locale: str, status: int = 200):
    return render_template("results/edit.html", form=form, challenge=result.challenge, result=result,
                           has_award=True, locale=locale), status


def _action(result_id: int, call, message: str, form_name: str | None = None, form=None, *,
            invalid_status: int = 422, redirect_to=None):
    """A button on the result's page: the refusal is flashed on the page, shown again with its status."""
    result = _load_for_staff(result_id)

    def show_again(refusal):
        if refusal.error is None:
            return render_detail(result, refusal.status, **({form_name: form} if form_name else {}))
        return render_detail(db.session.get(ResultRecord, result_id), refusal.status)

    return run_action(lambda: call(result), form=form or ActionForm(), invalid_status=invalid_status,
                      validate=True, success=message, refused=show_again,
                      redirect_to=redirect_to or url_for(".detail", result_id=result_id))


@bp.post("/staff/results/<int:result_id>/publish")
@login_required
def publish(result_id: int):
    return _action(result_id, lambda r: services.publish_result(r, current_user),
                   _("The result is published: it is in the open results database, its feed and search."))


@bp.post("/staff/results/<int:result_id>/withdraw")
@login_required
def withdraw(result_id: int):
    form = WithdrawForm()
    return _action(result_id, lambda r: services.withdraw_result(r, current_user, reason=form.reason.data or ""),
                   _("The result is withdrawn from the public database."), "withdraw_form", form)


@bp.post("/staff/results/<int:result_id>/follow-on")
@login_required
def start_follow_on(result_id: int):
    return _action(result_id, lambda r: follow_ons.start_follow_on(r, current_user),
                   _("A follow-on challenge was drafted from this result. Review it, then request clearance: it is "
                     "published only after a security officer clears it."), invalid_status=400,
                   redirect_to=lambda challenge: url_for("challenge_staff.edit", challenge_id=challenge.id))
