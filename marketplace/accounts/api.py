"""Accounts API: registration, confirmation, tokens, the current user, organizations."""

from __future__ import annotations

from flask import g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from flask_smorest import Blueprint

from marketplace.accounts import credentials, schemas, services, throttle
from marketplace.accounts.models import Organization
from marketplace.api import PageArgs, login_required_api, page_of, problem
from marketplace.extensions import db, limiter
from marketplace.permissions import Role

blp = Blueprint("accounts_api", __name__, url_prefix="/api/v1", description="Accounts and organizations")


@blp.post("/auth/register")
@blp.arguments(schemas.RegisterIn)
@blp.response(201, schemas.UserOut)
@limiter.limit("20 per hour")
def register(data):
    user = services.register_user(**data)
    db.session.commit()
    return user


@blp.post("/auth/confirm")
@blp.arguments(schemas.ConfirmIn)
@blp.response(200, schemas.UserOut)
def confirm(data):
    user = services.confirm_email(data["token"])
    db.session.commit()
    return user


def too_many(error: throttle.TooManyAttempts):
    return problem(429, "Too many requests", str(error.detail), headers={"Retry-After": str(error.retry_after)})


@blp.post("/auth/tokens")
@blp.arguments(schemas.TokenIn)
@blp.response(201, schemas.TokenOut)
def issue_token(data):
    # The same failed-sign-in count as the sign-in page: per account and per address, all workers.
    try:
        user = credentials.sign_in(data["email"], data["password"], address=request.remote_addr)
    except throttle.TooManyAttempts as error:
        return too_many(error)
    if user is None:
        return problem(401, "Unauthorized", str(_l("The e-mail address or password is wrong.")))
    token, row = services.issue_api_token(user)
    db.session.commit()
    return {"token": token, "expires_at": row.expires_at}


@blp.post("/auth/password-reset")
@blp.arguments(schemas.ResetRequestIn)
@blp.response(202)
@limiter.limit("10 per hour")
def password_reset_request(data):
    services.request_password_reset(data["email"])
    db.session.commit()
    return {}


@blp.post("/auth/password-reset/confirm")
@blp.arguments(schemas.ResetIn)
@blp.response(200, schemas.UserOut)
def password_reset(data):
    user = services.reset_password(data["token"], data["password"])
    db.session.commit()
    return user


@blp.get("/me")
@blp.response(200, schemas.UserOut)
@login_required_api
def me():
    return current_user


@blp.put("/me")
@blp.arguments(schemas.SettingsIn)
@blp.response(200, schemas.UserOut)
@login_required_api
def update_me(data):
    services.update_settings(current_user, **data)
    db.session.commit()
    return current_user


@blp.post("/organizations")
@blp.arguments(schemas.OrganizationIn)
@blp.response(201, schemas.OrganizationOut)
@login_required_api
def create_organization(data):
    if not current_user.has_role(Role.ADMIN):
        return problem(403, "Forbidden", str(_l("Only platform administrators can do this.")))
    if data.get("premium_pct") is None:
        data.pop("premium_pct")
    org = services.create_organization(actor=current_user, **data)
    db.session.commit()
    return org


@blp.get("/organizations")
@blp.arguments(PageArgs, location="query")
@login_required_api
def list_organizations(args):
    statement = db.select(Organization).order_by(Organization.name)
    return page_of(db.session, statement, args["page"], args["per_page"], schemas.OrganizationOut().dump)


# --- credentials of the signed-in user (v1.1) -----------------------------------------------------

def _token_out(row) -> dict:
    out = schemas.ApiTokenOut().dump(row)
    out["current"] = row.id == g.get("api_token_id")
    return out


@blp.get("/me/tokens")
@blp.arguments(PageArgs, location="query")
@login_required_api
def list_tokens(args):
    """The caller's working API tokens (not revoked, not expired), newest first."""
    return page_of(db.session, credentials.live_tokens(current_user), args["page"], args["per_page"], _token_out)


@blp.delete("/me/tokens/<int:token_id>")
@blp.response(204)
@login_required_api
def revoke_token(token_id: int):
    credentials.revoke_token(current_user, token_id)
    db.session.commit()


def _keep_this_session(user) -> None:
    """After a password change the caller's own cookie session goes on under the new auth version."""
    if g.get("api_token_id") is None:
        login_user(user)


@blp.post("/me/password")
@blp.arguments(schemas.PasswordChangeIn)
@blp.response(204)
@login_required_api
def change_password(data):
    """Change the password; every other session and API token of the account stops working."""
    try:
        credentials.change_password(current_user, data["current_password"], data["new_password"],
                                    address=request.remote_addr, keep_token_id=g.get("api_token_id"))
    except throttle.TooManyAttempts as error:
        return too_many(error)
    db.session.commit()
    _keep_this_session(current_user._get_current_object())


@blp.post("/me/email")
@blp.arguments(schemas.EmailChangeIn)
@blp.response(202, schemas.EmailChangeOut)
@login_required_api
@limiter.limit(credentials.EMAIL_CHANGE_LIMIT)
def change_email(data):
    """Mail a confirmation link to the new address; the address changes when the link is opened."""
    try:
        pending = credentials.request_email_change(current_user, data["new_email"], data["password"],
                                                   address=request.remote_addr)
    except throttle.TooManyAttempts as error:
        return too_many(error)
    db.session.commit()
    return {"pending_email": pending}


@blp.post("/me/email/confirm")
@blp.arguments(schemas.ConfirmIn)
@blp.response(200, schemas.UserOut)
def confirm_email_change(data):
    user = credentials.confirm_email_change(data["token"])
    db.session.commit()
    return user
