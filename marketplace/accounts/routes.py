"""Account pages: register, confirm, sign in and out, password reset, settings."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from marketplace.accounts import credentials, services, throttle
from marketplace.accounts.forms import (
    LoginForm,
    RegisterForm,
    ResendConfirmationForm,
    ResetPasswordForm,
    ResetRequestForm,
    SettingsForm,
)
from marketplace.accounts.landing import landing_url
from marketplace.errors import DomainError
from marketplace.extensions import db, limiter
from marketplace.i18n import current_locale_id, remember_locale_choice
from marketplace.page_actions import run_action
from marketplace.pages import valid_next

bp = Blueprint("accounts", __name__, template_folder="templates")


@bp.route("/auth/register", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def register():
    # Where the visitor came from (e.g. a challenge): kept through registration, the confirmation mail and sign-in.
    next_path = valid_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_path or url_for("pages.home"))
    form = RegisterForm()
    if request.method == "GET":
        form.locale.data = current_locale_id()
        return render_template("accounts/register.html", form=form, next_path=next_path)
    return run_action(
        lambda: services.register_user(email=form.email.data, password=form.password.data,
                                       display_name=form.display_name.data, country=form.country.data,
                                       locale=form.locale.data, next_path=next_path),
        form=form, after_commit=login_user,
        success=lambda user: _("Welcome! We sent a confirmation link to %(email)s.", email=user.email),
        redirect_to=next_path or url_for("pages.home"),
        refused=lambda _refusal: (render_template("accounts/register.html", form=form, next_path=next_path), 422))


@bp.get("/auth/confirm/<token>")
def confirm(token: str):
    try:
        user = services.confirm_email(token)
    except DomainError as error:
        db.session.rollback()
        return render_template("accounts/confirmed.html", ok=False, message=str(error.detail)), 400
    db.session.commit()
    # "Continue" goes to the `next` the link carries, else (when signed in) to the user's own work.
    next_path = valid_next(request.args.get("next"))
    if current_user.is_authenticated:
        next_path = landing_url(current_user, next_path)
    return render_template("accounts/confirmed.html", ok=True, user=user, next_path=next_path)


@bp.post("/auth/confirm/resend")
@login_required
@limiter.limit("5 per hour")
def resend_confirmation():
    if ResendConfirmationForm().validate_on_submit() and not current_user.email_confirmed:
        services.send_confirmation_mail(current_user)
        db.session.commit()
        flash(_("We sent a new confirmation link to %(email)s.", email=current_user.email), "success")
    return redirect(url_for("accounts.settings"))


@bp.route("/auth/login", methods=["GET", "POST"])
def login():
    next_path = valid_next(request.args.get("next"))
    form = LoginForm()
    if form.validate_on_submit():
        # One failed-sign-in count per account and per address, shared with the API (accounts.throttle).
        try:
            user = credentials.sign_in(form.email.data, form.password.data, address=request.remote_addr)
        except throttle.TooManyAttempts as error:
            flash(str(error.detail), "error")
            return (render_template("accounts/login.html", form=form, next_path=next_path), 429,
                    {"Retry-After": str(error.retry_after)})
        if user is not None:
            db.session.commit()
            login_user(user)
            remember_locale_choice(user.locale)
            return redirect(landing_url(user, next_path))
        flash(_("The e-mail address or password is wrong."), "error")
        return render_template("accounts/login.html", form=form, next_path=next_path), 401
    return render_template("accounts/login.html", form=form, next_path=next_path)


@bp.post("/auth/logout")
def logout():
    from flask_wtf import FlaskForm

    if FlaskForm().validate_on_submit():
        logout_user()
        flash(_("You are signed out."), "success")
    return redirect(url_for("pages.home"))


@bp.route("/auth/reset", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        flash(_("If an account exists for this address, we sent it a link to reset the password."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_request.html", form=form)


@bp.route("/auth/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    form = ResetPasswordForm()
    if request.method == "GET":
        return render_template("accounts/reset_password.html", form=form)
    return run_action(lambda: services.reset_password(token, form.password.data), form=form,
                      success=_("Your password was changed. Please sign in."), redirect_to=url_for("accounts.login"),
                      refused=lambda _refusal: (render_template("accounts/reset_password.html", form=form), 422))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def settings():
    form = SettingsForm(obj=current_user)
    if request.method == "GET":
        return _settings_page(form)
    return run_action(
        lambda: services.update_settings(current_user, display_name=form.display_name.data, country=form.country.data,
                                         locale=form.locale.data, timezone=form.timezone.data),
        form=form, after_commit=lambda _result: remember_locale_choice(current_user.locale),
        success=_("Your settings were saved."), redirect_to=url_for("accounts.settings"),
        refused=lambda _refusal: _settings_page(form, 422))


def _settings_page(form: SettingsForm, status: int = 200):
    return render_template("accounts/settings.html", form=form, resend=ResendConfirmationForm(),
                           notices=_notification_summary(current_user)), status


def _notification_summary(user) -> dict:
    """What the account page says about notifications; the settings themselves are on the alerts page."""
    from marketplace.solvers import alerts, notifications  # solvers build on accounts: a late import

    return {"digest": alerts.settings_of(user).digest, "following": len(alerts.interests_of(user)),
            "unread": notifications.unread_count(user)}
