"""Analytics pages for center staff (per challenge, per program), admins (the platform), and the public
statistics page. Every figure comes from analytics.figures; this module only turns them into chart rows."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace import http_cache
from marketplace.analytics import access, cache, charts, early_career, stats
from marketplace.analytics.figures import Scope, figures_for, per_challenge, premium_over
from marketplace.challenges.models import PUBLIC_STATES, Challenge
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.i18n import current_locale_id
from marketplace.money import Money
from marketplace.page_actions import run_action

bp = Blueprint("analytics", __name__, template_folder="templates")
bp.add_app_template_global(charts.line_geometry, "line_geometry")
bp.add_app_template_global(charts.number, "number")
bp.add_app_template_global(charts.percent, "percent")
bp.add_app_template_global(premium_over, "premium_over")


def chart_rows(data: dict) -> dict:
    """Everything the figure panels draw, in the viewer's language."""
    solvers, winners = data["solvers"], data["winners"]
    return {
        "views": charts.time_rows(data["views"]["series"]),
        "acceptances": charts.cumulative_rows(data["acceptances"]["series"]),
        "proposals": charts.cumulative_rows(data["proposals"]["series"]),
        "countries": charts.country_rows(solvers["countries"]),
        "early_career": charts.share_rows([(_("Solvers"), solvers["early_career_share"]),
                                           (_("Winners"), winners["early_career_share"])]),
        "reviewers": charts.reviewer_rows(data["reviews"]["by_reviewer"]),
        "money": [(c, charts.money_rows(c)) for c in data["money"]["currencies"]],
    }


@bp.get("/staff/analytics")
@login_required
def index():
    """The challenges and programs whose analytics the user may see, and the platform page for admins."""
    from marketplace.programs.models import Program

    org_ids = access.analytics_org_ids(current_user)
    if not org_ids and not current_user.is_admin:
        raise NotFound(_("We could not find this page."))
    where = Challenge.organization_id.in_(org_ids or {-1})
    challenges = db.session.scalars(
        select(Challenge).where(where, Challenge.status.in_(PUBLIC_STATES)).options(selectinload(Challenge.texts))
        .order_by(Challenge.published_at.desc(), Challenge.id.desc()).limit(200)).all()
    programs = db.session.scalars(select(Program).where(Program.organization_id.in_(org_ids or {-1}))
                                  .order_by(Program.title)).all()
    return render_template("analytics/index.html", challenges=challenges, programs=programs,
                           locale=current_locale_id())


@bp.get("/staff/analytics/challenges/<int:challenge_id>")
@login_required
def challenge_page(challenge_id: int):
    from marketplace.results.services import results_of_challenge

    challenge = access.challenge_for(challenge_id, current_user)
    data = figures_for(Scope.challenge(challenge))
    return render_template("analytics/challenge.html", challenge=challenge, data=data, rows=chart_rows(data),
                           results=results_of_challenge(challenge, current_user),
                           title=challenge.localized("title", current_locale_id())[1],
                           can_export=_export_rights(challenge.organization_id))


@bp.get("/staff/analytics/programs/<int:program_id>")
@login_required
def program_page(program_id: int):
    program = access.program_for(program_id, current_user)
    scope = Scope.program(program)
    data = figures_for(scope)
    breakdown = per_challenge(scope)
    challenges = db.session.scalars(select(Challenge).where(Challenge.program_id == program.id)
                                    .options(selectinload(Challenge.texts)).order_by(Challenge.id)).all()
    return render_template("analytics/program.html", program=program, data=data, rows=chart_rows(data),
                           breakdown=breakdown, challenges=challenges, locale=current_locale_id())


@bp.get("/staff/analytics/platform")
@login_required
def platform_page():
    access.require_admin(current_user)
    data, as_of = cache.cached("platform", lambda: figures_for(Scope.platform()))
    public, _ = cache.cached("stats", stats.public_stats)
    return render_template("analytics/platform.html", data=data, rows=chart_rows(data), public=public, as_of=as_of)


@bp.get("/stats")
def public_stats():
    figures, as_of = cache.cached("stats", stats.public_stats)
    http_cache.last_modified(as_of)
    rows = {
        "posted": charts.time_rows(figures["challenges_per_month"][-24:]),
        "countries": charts.country_rows(figures["solvers_by_country"]),
        "paid": [(m.currency, m.minor, charts.format_money(m.amount, m.currency)) for m in figures["paid"]],
    }
    return render_template("analytics/stats.html", figures=figures, rows=rows, as_of=as_of)


def _export_rights(organization_id: int) -> dict[str, bool]:
    from marketplace.exports.services import may_export

    return {kind: may_export(current_user, kind, organization_id)
            for kind in ("proposals", "ranking", "payouts", "analytics")}


# --- the early-career bonus of a challenge ---------------------------------------------------------------

@bp.route("/staff/challenges/<int:challenge_id>/early-career-bonus", methods=["GET", "POST"])
@login_required
def bonus(challenge_id: int):
    from marketplace.analytics.forms import BonusForm

    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or not challenge.is_staff(current_user):
        raise NotFound(_("No such challenge."))
    if request.method == "GET":
        return _bonus_page(challenge, BonusForm(formdata=None, pct=challenge.early_career_bonus_pct.normalize()))
    form = BonusForm()
    return run_action(lambda: early_career.set_bonus(challenge, current_user, form.pct.data), form=form,
                      success=_("The early-career bonus is saved. What must be funded changed with it."),
                      redirect_to=url_for(".bonus", challenge_id=challenge.id),
                      refused=lambda refusal: _bonus_page(challenge, form, refusal.status))


def _bonus_page(challenge: Challenge, form, status: int = 200):
    return render_template("analytics/bonus.html", challenge=challenge, form=form,
                           editable=challenge.status in early_career.BONUS_EDITABLE_STATES
                           and challenge.can_manage(current_user),
                           max_bonus=Money(challenge.max_early_career_bonus_minor, challenge.award_currency),
                           funding_target=Money(challenge.funding_target_minor, challenge.award_currency),
                           title=challenge.localized("title", current_locale_id())[1]), status
