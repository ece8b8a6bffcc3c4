"""Challenge pages for everyone: browse and search, a challenge's page, its agreement and its Q&A.

The staff pages (authoring, clearance, funding, publishing) are in staff_routes.py and its
neighbours, on their own blueprint `challenge_staff`. Routes check who may see what, call one service,
commit once, and show its refusals.
"""

from __future__ import annotations

import math

from flask import Blueprint, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from marketplace import http_cache, panels
from marketplace.challenges import agreements, listing, page_helpers, questions, services
from marketplace.challenges.agreement_models import Amendment
from marketplace.challenges.forms import AgreementForm, BrowseForm, QuestionForm
from marketplace.challenges.models import Challenge
from marketplace.challenges.presenters import challenge_detail
from marketplace.content_locales import pick
from marketplace.eligibility import participation_problem, sanctioned_countries
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.i18n import current_locale_id, locale_display_name
from marketplace.labels import audit_action_label
from marketplace.page_actions import Refusal, run_action
from marketplace.pricing import services as pricing

bp = Blueprint("challenges", __name__, template_folder="templates")
PER_PAGE = 20

for helper in (page_helpers.time_left, page_helpers.deadline_note, page_helpers.challenge_deadline_note,
               page_helpers.when, page_helpers.day, page_helpers.lang_attr,
               locale_display_name, audit_action_label):
    bp.add_app_template_global(helper)


# --- browse and search ---------------------------------------------------------------------------

@bp.get("/challenges")
def browse():
    """Open public challenges: search box, filters, sorting, pages. A fixed number of SQL queries."""
    form = BrowseForm(formdata=request.args or None, fields=pricing.known_fields())
    valid = form.validate() if request.args else True
    args = {"page": 1, "per_page": PER_PAGE}
    for name in ("q", "field", "challenge_type", "currency", "min_award", "sort", "page"):
        value = form[name].data
        if not form[name].errors and value not in (None, ""):
            args[name] = value.strip() if isinstance(value, str) else value
    if not args.get("q") and args.get("sort", "relevance") == "relevance":
        args["sort"] = "newest"  # relevance means nothing without a query
    if request.args.get("cursor"):
        args["cursor"] = request.args["cursor"][:200]
    try:
        result = listing.public_page(args, current_locale_id())
    except DomainError as error:
        flash(str(error.detail or error.title), "error")
        result, valid = {"items": [], "page": args["page"], "total": 0, "next_cursor": None}, False
    pages = max(1, math.ceil(result["total"] / PER_PAGE))
    query = {k: v for k, v in request.args.items() if k not in ("page", "cursor")}
    return render_template("challenges/browse.html", form=form, result=result, pages=pages, query=query,
                           sort=args.get("sort"), max_page=listing.MAX_PAGE), 200 if valid else 422


# --- one challenge ----------------------------------------------------------------------------

def load_visible(challenge_id: int) -> Challenge:
    """The challenge if the current user may see it (else a 404 page); past its deadline it reads as closed."""
    return services.get_visible(challenge_id, current_user)


@http_cache.on_store_hit("challenges.detail")
@http_cache.on_store_hit("challenges_api.get_challenge")
def _count_stored_view(challenge_id: int) -> None:
    from marketplace.analytics.views import count_visitor_view

    count_visitor_view(challenge_id)


@bp.get("/challenges/<int:challenge_id>")
def detail(challenge_id: int):
    from marketplace.analytics.views import count_view

    challenge = load_visible(challenge_id)
    count_view(challenge, current_user)
    return render_detail(challenge)


def render_detail(challenge: Challenge, status: int = 200, *, agreement_form: AgreementForm | None = None,
                  question_form: QuestionForm | None = None):
    locale = current_locale_id()
    signed_in = current_user.is_authenticated
    accepted = agreements.has_accepted(challenge, current_user)
    view = challenge_detail(challenge, current_user, locale, accepted=accepted)
    agreement = agreements.agreement_for(challenge)
    fallback = "en" if "en" in agreement["text"] else next(iter(agreement["text"]), "en")
    agreement_locale, agreement_text = pick(agreement["text"], locale, fallback)
    # Visitors see no form: building one would put a CSRF token in their session (no shared caching).
    if agreement_form is None and signed_in:
        agreement_form = AgreementForm(formdata=None, version=challenge.agreement_version)
    if question_form is None and signed_in:
        question_form = QuestionForm(formdata=None)
    amendments = db.session.scalars(select(Amendment).filter_by(challenge_id=challenge.id)
                                    .order_by(Amendment.id.desc())).all()
    return render_template(
        "challenges/detail.html", challenge=challenge, view=view, staff=challenge.is_staff(current_user),
        accepted=accepted,
        must_accept_again=signed_in and not accepted and agreements.has_accepted_any_version(challenge, current_user),
        eligibility_problem=participation_problem(challenge, current_user) if signed_in else None,
        participation_refusal=challenge.participation_refusal(current_user) if signed_in else None,
        sanctioned=sorted(sanctioned_countries()),
        approximate=page_helpers.approximate_for_viewer(challenge.award, current_user),
        agreement=agreement, agreement_locale=agreement_locale, agreement_text=agreement_text,
        agreement_form=agreement_form, question_form=question_form,
        amendments=amendments, questions=questions.visible_questions(challenge, current_user),
        **panels.values("challenge_page", challenge, current_user, accepted),  # my_proposal, stage_note, carry_on
    ), status


@bp.post("/challenges/<int:challenge_id>/agreement")
@login_required
def accept_agreement(challenge_id: int):
    challenge = load_visible(challenge_id)
    form = AgreementForm()

    def show_again(refusal: Refusal):
        if refusal.error is not None:
            # Whatever was accepted is stale or refused: offer the current version, unticked.
            form.version.data, form.accept.data = challenge.agreement_version, False
        return render_detail(challenge, refusal.status, agreement_form=form)

    return run_action(lambda: agreements.accept(challenge, current_user, version=form.version.data), form=form,
                      success=_("You accepted the agreement. The full challenge is below."),
                      redirect_to=url_for(".detail", challenge_id=challenge.id, _anchor="full-challenge"),
                      refused=show_again)


@bp.post("/challenges/<int:challenge_id>/questions")
@login_required
def ask_question(challenge_id: int):
    challenge = load_visible(challenge_id)
    form = QuestionForm()
    return run_action(
        lambda: questions.ask(challenge, current_user, form.text.data), form=form,
        success=_("Your question was sent. The answer will be public to every solver once the center replies."),
        redirect_to=url_for(".detail", challenge_id=challenge.id, _anchor="questions"),
        refused=lambda refusal: render_detail(challenge, refusal.status, question_form=form))
