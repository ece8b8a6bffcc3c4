"""Credentials of a signed-in user: password change, e-mail change, API tokens, ending sessions.

One rule lives here: a password reset or change ends every other session and revokes every
other API token of that user (sessions carry `User.auth_version`, which goes up; tokens are
marked revoked). Services flush and never commit; the calling route commits once.
"""

from __future__ import annotations

from datetime import timedelta

from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature
from sqlalchemy import func, select

from marketplace.accounts import throttle
from marketplace.accounts.models import ApiToken, User, user_by_email
from marketplace.accounts.services import (
    _hasher_for_app,
    _raise_if,
    _serializer,
    authenticate,
    hash_password,
    normalise_email,
    password_problems,
)
from marketplace.audit.services import record
from marketplace.db import utcnow
from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.mail.services import queue_mail

EMAIL_CHANGE_MAX_AGE = timedelta(days=2)
EMAIL_CHANGE_LIMIT = "10 per hour"  # confirmation mails one client may have sent (page and API)



def sign_in(email: str, password: str, *, address: str | None) -> User | None:
    """The one sign-in rule for the page and the API: the user, or None for wrong credentials.

    Raises throttle.TooManyAttempts once the account or the address used up its failed attempts.
    """
    throttle.check(email, address)
    user = authenticate(email, password)
    if user is None:
        throttle.record_failure(email, address)
        return None
    throttle.clear_account(email)
    return user


def end_other_sessions(user: User, *, reason: str, actor=None, keep_token_id: int | None = None) -> list[int]:
    """Sign the user out everywhere else: older sessions stop loading, other tokens are revoked."""
    user.auth_version = (user.auth_version or 0) + 1
    tokens = db.session.scalars(select(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.id != (keep_token_id or 0))).all()
    now = utcnow()
    for token in tokens:
        token.revoked_at = now
    db.session.flush()
    revoked = sorted(token.id for token in tokens)
    record("user.sessions_revoked", "user", user.id, actor=actor or user, reason=reason, tokens=revoked)
    return revoked


def check_current_password(user: User, password: str, *, address: str | None, field: str) -> None:
    """Wrong current passwords count as failed sign-ins (same counter as the sign-in page)."""
    throttle.check(user.email, address)
    try:
        _hasher_for_app().verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError) as error:
        throttle.record_failure(user.email, address)
        message = _l("Your current password is not correct.")
        raise ValidationFailed(message, errors={field: [message]}) from error


def change_password(user: User, current_password: str, new_password: str, *, address: str | None = None,
                    keep_token_id: int | None = None) -> User:
    check_current_password(user, current_password, address=address, field="current_password")
    _raise_if({"new_password": password_problems(new_password, user.email)})
    user.password_hash = hash_password(new_password)
    record("user.password_changed", "user", user.id, actor=user)
    end_other_sessions(user, reason="password_changed", keep_token_id=keep_token_id)
    return user


# --- e-mail change -----------------------------------------------------------------------------

def request_email_change(user: User, new_email: str, password: str, *, address: str | None = None) -> str:
    """Mail a confirmation link to the new address; the address changes only when it is opened."""
    check_current_password(user, password, address=address, field="password")
    try:
        new_email = normalise_email(new_email)
    except ValidationFailed as error:
        raise ValidationFailed(error.detail, errors={"new_email": list(error.errors.get("email", []))}) from error
    if new_email == user.email:
        raise ValidationFailed(_l("This is already your e-mail address."),
                               errors={"new_email": [_l("This is already your e-mail address.")]})
    if user_by_email(new_email):
        raise Conflict(_l("An account with this e-mail address already exists."),
                       errors={"new_email": [_l("An account with this e-mail address already exists.")]})
    # `v` ties the link to the sign-in state: a password change or reset (which raises auth_version) voids
    # links asked for before it, so whoever knew the old password cannot still move the account away.
    token = _serializer("change-email").dumps({"uid": user.id, "old": user.email, "new": new_email,
                                               "v": user.auth_version or 0})
    link = current_app.config["PUBLIC_URL"].rstrip("/") + url_for("accounts.confirm_email_change", token=token)
    queue_mail(new_email, "confirm_email_change", locale=user.locale, user=user, link=link, new_email=new_email)
    record("user.email_change_requested", "user", user.id, actor=user, new_email=new_email)
    return new_email


def confirm_email_change(token: str) -> User:
    invalid = _l("This link is not valid or has expired.")
    try:
        data = _serializer("change-email").loads(token, max_age=int(EMAIL_CHANGE_MAX_AGE.total_seconds()))
    except (BadSignature, TypeError, ValueError) as error:
        raise ValidationFailed(invalid) from error
    user = db.session.get(User, data.get("uid")) if isinstance(data, dict) and isinstance(data.get("uid"), int) \
        else None
    if user is None or user.email != data.get("old"):  # used already, or the address changed since
        raise ValidationFailed(invalid)
    if data.get("v", 0) != (user.auth_version or 0):  # the password was changed or reset since the request
        raise ValidationFailed(invalid)
    new_email = data.get("new")
    if user_by_email(new_email):
        raise Conflict(_l("An account with this e-mail address already exists."))
    old_email = user.email
    user.email, user.email_confirmed_at = new_email, utcnow()  # opening the link proves the new address
    db.session.flush()
    record("user.email_changed", "user", user.id, actor=user, old_email=old_email, new_email=new_email)
    queue_mail(old_email, "email_changed", locale=user.locale, user=user, new_email=new_email)
    return user


# --- API tokens ---------------------------------------------------------------------------------

def live_tokens(user: User):
    """The user's tokens that still work, newest first (a statement, for paging)."""
    return (select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
                                   ApiToken.expires_at > utcnow())
            .order_by(ApiToken.id.desc()))


def count_live_tokens(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(live_tokens(user).subquery()))


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own working tokens; anyone else's (or a revoked one) is not found."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or not token.is_usable(utcnow()):
        raise NotFound(_l("No such token."))
    token.revoked_at = utcnow()
    db.session.flush()
    record("api_token.revoked", "user", user.id, actor=user, token_id=token.id)
    return token
