"""Account security pages: change password, change e-mail (confirmed by a link), API tokens."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from marketplace.accounts import credentials, throttle
from marketplace.accounts.credentials import EMAIL_CHANGE_LIMIT
from marketplace.accounts.forms import EmailChangeForm, PasswordChangeForm, RevokeTokenForm
from marketplace.accounts.routes import bp
from marketplace.errors import DomainError
from marketplace.extensions import db, limiter
from marketplace.page_actions import Refusal, run_action


def _page(password_form=None, email_form=None, status: int = 200):
    tokens = db.session.scalars(credentials.live_tokens(current_user).limit(100)).all()
    html = render_template("accounts/security.html", password_form=password_form or PasswordChangeForm(),
                           email_form=email_form or EmailChangeForm(), tokens=tokens, revoke_form=RevokeTokenForm())
    return html, status


def _refused(form, refusal: Refusal):
    """The security page again with the refused form; too many attempts also say when to try again."""
    error = refusal.error
    status = error.status if error is not None and error.status >= 400 else 422
    body, _status = _page(**{"password_form" if isinstance(form, PasswordChangeForm) else "email_form": form})
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, throttle.TooManyAttempts) else {}
    return body, status, headers


@bp.get("/account/security")
@login_required
def security():
    return _page()


def _security_action(form, call, **options):
    """A form of the security page: done, back to it with a message; refused, the page again with the form."""
    return run_action(call, form=form, redirect_to=url_for("accounts.security"),
                      refused=lambda refusal: _refused(form, refusal), **options)


@bp.post("/account/password")
@login_required
def change_password():
    form = PasswordChangeForm()
    return _security_action(
        form, lambda: credentials.change_password(current_user, form.current_password.data, form.new_password.data,
                                                  address=request.remote_addr),
        # this session goes on; every other one ends
        after_commit=lambda _result: login_user(current_user._get_current_object()),
        success=_("Your password was changed. Other sessions and API tokens were signed out."))


@bp.post("/account/email")
@login_required
@limiter.limit(EMAIL_CHANGE_LIMIT)  # each request mails an address the user names: no mail cannon
def change_email():
    form = EmailChangeForm()
    return _security_action(
        form, lambda: credentials.request_email_change(current_user, form.new_email.data, form.password.data,
                                                       address=request.remote_addr),
        success=lambda new_email: _("We sent a confirmation link to %(email)s. Your address changes when you open it.",
                                    email=new_email))


@bp.get("/account/email/confirm/<token>")
def confirm_email_change(token: str):
    try:
        user = credentials.confirm_email_change(token)
    except DomainError as error:
        db.session.rollback()
        return render_template("accounts/email_change_failed.html", message=str(error.detail)), error.status
    db.session.commit()
    flash(_("Your e-mail address is now %(email)s.", email=user.email), "success")
    return redirect(url_for("accounts.security" if current_user.is_authenticated else "accounts.login"))


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    if RevokeTokenForm().validate_on_submit():
        credentials.revoke_token(current_user, token_id)  # someone else's token: NotFound, a 404 page
        db.session.commit()
        flash(_("The API token was revoked."), "success")
    return redirect(url_for("accounts.security"))
