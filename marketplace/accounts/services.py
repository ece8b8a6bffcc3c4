"""Account rules: registration, confirmation, sign-in, API tokens, password reset, roles.

Services flush and never commit; the calling route commits once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import ApiToken, Organization, RoleGrant, User, user_by_email
from marketplace.audit.services import record
from marketplace.countries import country_problems
from marketplace.db import utcnow
from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.i18n import LANGUAGES, normalise_locale
from marketplace.mail.services import queue_mail
from marketplace.permissions import ORGANIZATION_ROLES, Role

_STRONG_HASHER = PasswordHasher()
# Tests hash thousands of passwords; they opt into cheap parameters with PASSWORD_HASH_FAST.
_FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def _hasher_for_app() -> PasswordHasher:
    return _FAST_HASHER if current_app.config.get("PASSWORD_HASH_FAST") else _STRONG_HASHER
MIN_PASSWORD_LENGTH = 12
MAX_NAME_LENGTH = 120
CONFIRM_MAX_AGE = timedelta(days=7)
RESET_MAX_AGE = timedelta(hours=2)
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$")


@cache
def _common_passwords() -> frozenset[str]:
    lines = (Path(__file__).with_name("common_passwords.txt")).read_text().splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


# --- field rules (shared by forms, API schemas and services) -----------------------------

def password_problems(password: str, email: str | None = None) -> list[str]:
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(str(_l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)))
    lowered = password.lower()
    stripped = re.sub(r"[\d\W_]+$", "", lowered)
    local_part = (email or "").split("@")[0].lower()
    if (lowered in _common_passwords() or stripped in _common_passwords() or len(set(lowered)) <= 2
            or (len(local_part) >= 4 and local_part in lowered)):
        problems.append(str(_l("This password is too common or too easy to guess.")))
    if len(password) > 1024:
        problems.append(str(_l("This password is too long.")))
    return problems


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except (EmailNotValidError, AttributeError) as error:
        raise ValidationFailed(_l("Check the e-mail address."),
                               errors={"email": [_l("This is not a valid e-mail address.")]}) from error


def name_problems(name: str) -> list[str]:
    if not name or not name.strip():
        return [str(_l("Enter your name."))]
    if len(name) > MAX_NAME_LENGTH:
        return [str(_l("Use at most %(n)d characters.", n=MAX_NAME_LENGTH))]
    return []


def locale_problems(locale: str) -> list[str]:
    return [] if locale in LANGUAGES else [str(_l("Choose one of the offered languages."))]


def _raise_if(problems: dict[str, list[str]]) -> None:
    problems = {field: msgs for field, msgs in problems.items() if msgs}
    if problems:
        raise ValidationFailed(_l("Some fields are not valid."), errors=problems)


# --- registration and confirmation --------------------------------------------------------

def hash_password(password: str) -> str:
    return _hasher_for_app().hash(password)


def register_user(*, email: str, password: str, display_name: str, country: str,
                  locale: str = "en", timezone: str = "UTC", confirmed: bool = False,
                  next_path: str | None = None) -> User:
    """A new solver account; unless `confirmed`, mails a confirmation link that leads on to `next_path`
    (a same-site path the route already validated, e.g. the challenge the visitor came from)."""
    email = normalise_email(email)
    locale = normalise_locale(locale) or locale
    _raise_if({
        "password": password_problems(password, email),
        "display_name": name_problems(display_name),
        "country": country_problems(country),
        "locale": locale_problems(locale),
    })
    if user_by_email(email):
        raise Conflict(_l("An account with this e-mail address already exists."),
                       errors={"email": [_l("An account with this e-mail address already exists.")]})
    user = User(email=email, password_hash=hash_password(password), display_name=display_name.strip(),
                country=country.upper(), locale=locale, timezone=timezone,
                email_confirmed_at=utcnow() if confirmed else None)
    db.session.add(user)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:  # a concurrent registration won the race
        raise Conflict(_l("An account with this e-mail address already exists.")) from error
    record("user.registered", "user", user.id, actor=user, country=user.country)
    if not confirmed:
        send_confirmation_mail(user, next_path=next_path)
    return user


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def confirmation_token(user: User) -> str:
    return _serializer("confirm-email").dumps({"uid": user.id, "email": user.email})


def send_confirmation_mail(user: User, *, next_path: str | None = None) -> None:
    link = current_app.config["PUBLIC_URL"].rstrip("/") + url_for("accounts.confirm", token=confirmation_token(user),
                                                                   next=next_path)
    queue_mail(user.email, "confirm_email", locale=user.locale, user=user, link=link)


def confirm_email(token: str) -> User:
    try:
        data = _serializer("confirm-email").loads(token, max_age=int(CONFIRM_MAX_AGE.total_seconds()))
    except SignatureExpired as error:
        raise ValidationFailed(_l("This confirmation link has expired. Ask for a new one.")) from error
    except (BadSignature, TypeError, ValueError) as error:
        raise ValidationFailed(_l("This confirmation link is not valid.")) from error
    user = db.session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or user.email != data.get("email"):
        raise ValidationFailed(_l("This confirmation link is not valid."))
    if not user.email_confirmed:
        user.email_confirmed_at = utcnow()
        record("user.email_confirmed", "user", user.id, actor=user)
    return user


# --- sign-in and API tokens ----------------------------------------------------------------

def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None. Rehashes when argon2 parameters changed."""
    user = user_by_email(email or "")
    if user is None or not user.active:
        _hasher_for_app().hash("timing-equaliser")  # do comparable work for unknown accounts
        return None
    try:
        _hasher_for_app().verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if _hasher_for_app().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(user: User) -> tuple[str, ApiToken]:
    token = "ib_" + secrets.token_urlsafe(32)
    ttl = timedelta(hours=current_app.config["API_TOKEN_TTL_HOURS"])
    # Issuing is its first use (signing in); later uses move last_used_at on (see token_for).
    now = utcnow()
    row = ApiToken(user_id=user.id, token_hash=_token_digest(token), expires_at=now + ttl, last_used_at=now)
    db.session.add(row)
    db.session.flush()
    record("api_token.issued", "user", user.id, actor=user, token_id=row.id)
    return token, row


TOKEN_USE_GRANULARITY = timedelta(minutes=5)


def token_for(token: str) -> ApiToken | None:
    """The working token row for a bearer token (not revoked, not expired, user active), or None."""
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(token)))
    now = utcnow()
    if row is None or not row.is_usable(now):
        return None
    if row.last_used_at is None or row.last_used_at <= now - TOKEN_USE_GRANULARITY:
        # Written apart from the request's transaction (reads commit nothing), at most every few minutes.
        with db.engine.begin() as connection:
            connection.execute(ApiToken.__table__.update().where(ApiToken.id == row.id).values(last_used_at=now))
        db.session.expire(row, ["last_used_at"])
    return row


# --- password reset -------------------------------------------------------------------------

def _reset_fingerprint(user: User) -> str:
    # Changes with the password, so a used reset link stops working.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def request_password_reset(email: str) -> None:
    """Mail a reset link if the account exists; say nothing either way."""
    user = user_by_email(email or "")
    if user is None:
        return
    token = _serializer("reset-password").dumps({"uid": user.id, "fp": _reset_fingerprint(user)})
    link = current_app.config["PUBLIC_URL"].rstrip("/") + url_for("accounts.reset_password", token=token)
    queue_mail(user.email, "reset_password", locale=user.locale, user=user, link=link)
    record("user.password_reset_requested", "user", user.id, actor=user)


def reset_password(token: str, new_password: str) -> User:
    try:
        data = _serializer("reset-password").loads(token, max_age=int(RESET_MAX_AGE.total_seconds()))
    except (BadSignature, TypeError, ValueError) as error:
        raise ValidationFailed(_l("This reset link is not valid or has expired.")) from error
    user = db.session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or data.get("fp") != _reset_fingerprint(user):
        raise ValidationFailed(_l("This reset link is not valid or has expired."))
    _raise_if({"password": password_problems(new_password, user.email)})
    user.password_hash = hash_password(new_password)
    record("user.password_reset", "user", user.id, actor=user)
    from marketplace.accounts.credentials import end_other_sessions

    end_other_sessions(user, reason="password_reset")
    return user


def update_settings(user: User, *, display_name: str, country: str, locale: str, timezone: str) -> User:
    import zoneinfo

    locale = normalise_locale(locale) or locale
    problems = {
        "display_name": name_problems(display_name),
        "country": country_problems(country),
        "locale": locale_problems(locale),
        "timezone": ([] if timezone in zoneinfo.available_timezones()
                     else [str(_l("Choose a time zone from the list."))]),
    }
    _raise_if(problems)
    user.display_name, user.country = display_name.strip(), country.upper()
    user.locale, user.timezone = locale, timezone
    record("user.settings_changed", "user", user.id, actor=user, locale=locale, country=user.country)
    return user


# --- organizations and roles ----------------------------------------------------------------

def parse_premium(value, *, field: str = "premium_pct") -> Decimal:
    try:
        premium = Decimal(str(value))
    except (InvalidOperation, ValueError) as error:
        raise ValidationFailed(_l("Enter a number."), errors={field: [_l("Enter a number.")]}) from error
    if not premium.is_finite():
        raise ValidationFailed(_l("Enter a number."), errors={field: [_l("Enter a number.")]})
    return premium


def create_organization(*, slug: str, name: str, country: str, premium_pct=Decimal("15"), actor=None) -> Organization:
    problems = {
        "slug": [] if SLUG_RE.match(slug or "") else [str(_l("Use 3 to 60 lower-case letters, digits and hyphens."))],
        "name": name_problems(name),
        "country": country_problems(country),
    }
    _raise_if(problems)
    premium = parse_premium(premium_pct)
    low, high = current_app.config.get("PREMIUM_RANGE", (Decimal("10"), Decimal("20")))
    if not low <= premium <= high:
        raise ValidationFailed(_l("The premium must lie between %(low)s and %(high)s percent.", low=low, high=high),
                               errors={"premium_pct": [_l("Out of the allowed range.")]})
    if db.session.scalar(select(Organization.id).where(Organization.slug == slug)):
        raise Conflict(_l("This short name is already taken."), errors={"slug": [_l("Already taken.")]})
    org = Organization(slug=slug, name=name.strip(), country=country.upper(), premium_pct=premium)
    db.session.add(org)
    db.session.flush()
    record("organization.created", "organization", org.id, actor=actor, slug=slug)
    return org


def grant_role(user: User, role: Role | str, organization: Organization | None = None, *, actor=None) -> RoleGrant:
    try:
        role = Role(role)
    except ValueError as error:
        raise ValidationFailed(_l("Unknown role."), errors={"role": [_l("Unknown role.")]}) from error
    if role is Role.SOLVER:
        raise ValidationFailed(_l("Everyone is a solver already."))
    if role in ORGANIZATION_ROLES and organization is None:
        raise ValidationFailed(_l("This role needs an organization."), errors={"org": [_l("Required.")]})
    if role is Role.ADMIN:
        organization = None
    if user.has_role(role, organization):
        return next(g for g in user.roles if g.role == role and g.organization_id == getattr(organization, "id", None))
    grant = RoleGrant(role=role.value, organization=organization)
    user.roles.append(grant)
    db.session.flush()
    record("role.granted", "user", user.id, actor=actor, role=role.value,
           organization=organization.slug if organization else None, organization_scope=organization)
    return grant


def organization_by_slug(slug: str) -> Organization:
    org = db.session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        raise NotFound(_l("No such organization."))
    return org


def staffed_organization(slug: str, user) -> Organization:
    """The organization `slug` names, if `user` is on its staff; else NotFound, the same whether it exists or not."""
    org = db.session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None or not user.is_staff_of(org):
        raise NotFound(_l("No such organization."))
    return org
