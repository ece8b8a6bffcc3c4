"""Solver pages: my profile, my alerts, my notifications, the public solver page, and the staff's
expert database."""

from __future__ import annotations

from math import ceil

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.i18n import current_locale_id
from marketplace.page_actions import run_action, summary
from marketplace.solvers import alerts, experts, notifications, profiles
from marketplace.solvers.forms import ActionForm, DigestForm, ExpertSearchForm, FollowForm, ProfileForm
from marketplace.solvers.models import ExpertProfile
from marketplace.solvers.vocabulary import FIELDS, VOCABULARY

bp = Blueprint("solvers", __name__, template_folder="templates")

NOTIFICATIONS_PER_PAGE = 20
EXPERTS_PER_PAGE = 20


# --- my profile --------------------------------------------------------------------------------------

@bp.route("/me/profile", methods=["GET", "POST"])
@login_required
def edit_profile():
    profile = profiles.get_profile(current_user)
    form = ProfileForm()
    if request.method == "GET":
        form.fill(profile or profiles.blank_profile(current_user))
        return _profile_page(form, profile)
    data = form.to_data() if form.validate_on_submit() else None
    if data is None:
        return _profile_page(form, profile, 422)

    def show(error: DomainError) -> None:
        form.show_service_errors({k: [str(m) for m in v] for k, v in error.errors.items()}
                                 or {"_": [summary(error)]})
        flash(summary(error), "error")

    return run_action(lambda: profiles.save_profile(current_user, data, actor=current_user), show=show,
                      success=_("Your profile was saved."), redirect_to=url_for("solvers.edit_profile"),
                      refused=lambda _refusal: _profile_page(form, profile, 422))


def _profile_page(form: ProfileForm, profile, status: int = 200):
    return render_template("solvers/profile_edit.html", form=form, profile=profile), status


# --- the public solver page --------------------------------------------------------------------------

@bp.get("/solvers/<int:user_id>")
def solver_page(user_id: int):
    profile = profiles.public_profile(user_id)
    # The template sees the public view only: a private field cannot reach it by mistake.
    return render_template("solvers/solver_public.html", solver=profiles.public_view(profile, profile.user),
                           is_me=current_user.is_authenticated and current_user.id == user_id)


# --- alerts ------------------------------------------------------------------------------------------

def _alerts_page(follow_form: FollowForm, digest_form: DigestForm, status: int = 200):
    return render_template("solvers/alerts.html", follow_form=follow_form, digest_form=digest_form,
                           interests=alerts.interests_of(current_user), fields=FIELDS, vocabulary=VOCABULARY), status


@bp.get("/me/alerts")
@login_required
def alerts_page():
    digest_form = DigestForm(prefix="digest")
    digest_form.digest.data = "yes" if alerts.settings_of(current_user).digest else "no"
    return _alerts_page(FollowForm(prefix="follow"), digest_form)


@bp.post("/me/alerts/follow")
@login_required
def follow():
    form = FollowForm(prefix="follow")

    def show(error: DomainError) -> None:
        form.value.errors = list(form.value.errors) + [summary(error)]

    def followed(result) -> str:
        interest, created = result
        return (_("You now follow “%(value)s”.", value=interest.value) if created
                else _("You already follow “%(value)s”.", value=interest.value))

    return run_action(lambda: alerts.follow(current_user, form.kind.data, form.value.data, actor=current_user),
                      form=form, show=show, success=followed, redirect_to=url_for("solvers.alerts_page"),
                      refused=lambda _refusal: _alerts_page(form, _digest_form(), 422))


def _digest_form() -> DigestForm:
    digest_form = DigestForm(prefix="digest", formdata=None)
    digest_form.digest.data = "yes" if alerts.settings_of(current_user).digest else "no"
    return digest_form


@bp.post("/me/alerts/<int:interest_id>/remove")
@login_required
def unfollow(interest_id: int):
    if ActionForm(prefix="remove").validate_on_submit():
        alerts.unfollow(current_user, alerts.find_interest(current_user, interest_id=interest_id), actor=current_user)
        db.session.commit()
        flash(_("You no longer follow this."), "success")
    return redirect(url_for("solvers.alerts_page"))


@bp.post("/me/alerts/settings")
@login_required
def alert_settings():
    form = DigestForm(prefix="digest")
    if form.validate_on_submit():
        alerts.set_digest(current_user, form.digest.data == "yes", actor=current_user)
        db.session.commit()
        flash(_("Your alert settings were saved."), "success")
        return redirect(url_for("solvers.alerts_page"))
    return _alerts_page(FollowForm(prefix="follow", formdata=None), form, 422)


# --- notifications -----------------------------------------------------------------------------------

@bp.get("/me/notifications")
@login_required
def notifications_page():
    page = max(request.args.get("page", 1, type=int), 1)
    rows, total = notifications.page_for(current_user, page=page, per_page=NOTIFICATIONS_PER_PAGE)
    locale = current_locale_id()
    items = [notifications.as_dict(n, locale) for n in rows]
    return render_template("solvers/notifications.html", items=items, page=page, total=total,
                           pages=max(ceil(total / NOTIFICATIONS_PER_PAGE), 1))


@bp.post("/me/notifications/read")
@login_required
def mark_notifications_read():
    if ActionForm(prefix="read").validate_on_submit():
        ids = request.form.getlist("ids", type=int)
        notifications.mark_read(current_user, ids or None)
        db.session.commit()
    return redirect(url_for("solvers.notifications_page", page=request.form.get("page", 1, type=int)))


# --- the expert database (staff) ---------------------------------------------------------------------

def _require_staff() -> None:
    if not current_user.is_staff:
        abort(403)


@bp.get("/staff/experts")
@login_required
def experts_page():
    _require_staff()
    form = ExpertSearchForm(request.args)
    rows, total, query = [], 0, None
    if form.validate():
        early = {"yes": True, "no": False}.get(form.early_career.data or "")
        query = experts.ExpertQuery.from_args({"q": form.q.data, "expertise": form.expertise.data,
                                               "country": form.country.data, "early_career": early,
                                               "page": max(request.args.get("page", 1, type=int), 1),
                                               "per_page": EXPERTS_PER_PAGE})
        rows, total = experts.search_experts(query, viewer=current_user)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    shown = [profiles.view_for(p, p.user, current_user) for p in rows]
    return render_template("solvers/experts.html", form=form, experts=shown,
                           total=total, page=query.page if query else 1,
                           pages=max(ceil(total / EXPERTS_PER_PAGE), 1), args=args, vocabulary=VOCABULARY), \
        200 if not form.errors else 422


@bp.get("/staff/experts/<int:user_id>")
@login_required
def expert_page(user_id: int):
    _require_staff()
    profile = db.session.scalar(select(ExpertProfile).where(ExpertProfile.user_id == user_id)
                                .options(selectinload(ExpertProfile.research)))
    if profile is None:
        abort(404)
    return render_template("solvers/expert_staff.html", expert=profiles.view_for(profile, profile.user, current_user))
