"""Accounts API: registration, confirmation, tokens, the current user, organizations."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint

from marketplace.accounts import schemas, services
from marketplace.accounts.models import Organization
from marketplace.api import PageArgs, idempotent, login_required_api, page_of, problem
from marketplace.extensions import db, limiter
from marketplace.permissions import Role

blp = Blueprint("accounts_api", __name__, url_prefix="/api/v1", description="Accounts and organizations")


def _failed_login(response) -> bool:
    return response.status_code == 401


def _email_key() -> str:
    from flask import request

    body = request.get_json(silent=True) or {}
    email = body.get("email") if isinstance(body, dict) else None
    return f"account:{str(email).strip().lower()[:254]}"


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


@blp.post("/auth/tokens")
@blp.arguments(schemas.TokenIn)
@blp.response(201, schemas.TokenOut)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], deduct_when=_failed_login)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], key_func=_email_key, deduct_when=_failed_login)
def issue_token(data):
    user = services.authenticate(data["email"], data["password"])
    if user is None:
        db.session.commit()  # keeps a password rehash; nothing else changed
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
@idempotent
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
