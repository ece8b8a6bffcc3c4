"""The JSON API's shared machinery: problem+json errors, authentication,
pagination and Idempotency-Key replay. Feature packages build on it in their api.py.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

import marshmallow as ma
from flask import Response, current_app, g, request
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin, current_user
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from marketplace.errors import DomainError

API_PREFIX = "/api/v1"
PROBLEM_JSON = "application/problem+json"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def problem(status: int, title: str, detail: str | None = None, errors: dict | None = None,
            headers: dict | None = None) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False, default=str), status=status, mimetype=PROBLEM_JSON
    )
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _flatten_errors(messages) -> dict[str, list[str]]:
    """webargs nests errors by location ({"json": {"field": [...]}}); clients want fields."""
    if not isinstance(messages, dict):
        return {"_schema": [str(messages)]}
    flat: dict[str, list[str]] = {}
    for location, fields in messages.items():
        is_location = isinstance(fields, dict) and location in {"json", "query", "form", "files", "headers"}
        source = fields if is_location else {location: fields}
        for field, value in source.items():
            if isinstance(value, dict):
                for sub, text in _flatten_errors(value).items():
                    flat[f"{field}.{sub}"] = text
            else:
                flat[field] = [str(v) for v in (value if isinstance(value, list) else [value])]
    return flat


def schema_name(schema) -> str:
    """OpenAPI component names qualified by feature package: accounts.SettingsIn -> AccountsSettingsIn."""
    from apispec.ext.marshmallow.common import resolve_schema_cls

    cls = resolve_schema_cls(schema)
    parts = cls.__module__.split(".")
    package = parts[1].title().replace("_", "") if parts[0] == "marketplace" and len(parts) > 2 else ""
    return package + cls.__name__.removesuffix("Schema")


MAX_DATABASE_ID = 2**31 - 1  # ids are INTEGER columns, 32-bit on PostgreSQL


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` bounded to what an INTEGER column can hold.

    A larger number cannot name a row, and handing it to the database overflows
    (a 500 on both SQLite and PostgreSQL); out of range it simply matches no route: 404.
    """

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_DATABASE_ID, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits, min, max, signed)


class RowId(ma.fields.Integer):
    """An id sent in a body or query string: a positive integer an INTEGER column can hold.

    Unbounded, a huge number reaches the database and overflows (a 500); bounded, it is a 422.
    """

    def __init__(self, *, strict: bool = True, **kwargs):
        super().__init__(strict=strict, validate=ma.validate.Range(min=1, max=MAX_DATABASE_ID), **kwargs)


class Api(SmorestApi):
    """flask-smorest with RFC 9457 problem documents for every API error."""

    def __init__(self, app=None, **kwargs):
        from apispec.ext.marshmallow import MarshmallowPlugin

        spec_kwargs = {"marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=schema_name),
                       **kwargs.pop("spec_kwargs", {})}
        super().__init__(app, spec_kwargs=spec_kwargs, **kwargs)

    def init_app(self, app, **kwargs):
        # Before any blueprint adds its rules, so HTML and API routes alike get the bound.
        from flask_smorest.spec.plugins import integerconverter2paramschema

        from marketplace import openapi_doc

        app.url_map.converters["int"] = DatabaseIdConverter
        super().init_app(app, **kwargs)
        self.register_converter(DatabaseIdConverter, integerconverter2paramschema)
        openapi_doc.register_fields(self)

    def _register_responses(self):
        from marketplace import openapi_doc

        openapi_doc.register_responses(self.spec)

    def _openapi_json(self):
        from marketplace import openapi_doc

        idempotent = frozenset((method.lower(), openapi_doc.openapi_path(rule))
                               for method, rule, _endpoint in idempotent_rules(current_app))
        document = openapi_doc.complete(self.spec.to_dict(), idempotent)
        return current_app.response_class(json.dumps(document, indent=2), mimetype="application/json")

    def register_blueprint(self, blp, **options):
        # API calls authenticate with bearer tokens, or with a cookie plus X-CSRFToken
        # (checked in authenticate_api_request), so form CSRF does not apply here.
        from marketplace.extensions import csrf

        csrf.exempt(blp)
        super().register_blueprint(blp, **options)

    def handle_http_exception(self, error: HTTPException):
        if (error.code or 500) >= 500:
            from marketplace.extensions import db

            db.session.rollback()
        if not is_api_request():
            from marketplace.pages import render_error_page

            return render_error_page(error)
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        errors = _flatten_errors(data["messages"]) if "messages" in data else None
        title = error.name
        detail = data.get("message") or error.description
        if status == 422:
            detail = _("Some fields are not valid.")
        elif status == 400 and errors and "json" in errors:
            detail, errors = _("The request body is not valid JSON."), None
        elif status >= 500:
            detail = _("Something went wrong on our side. Please try again.")
        headers = dict(getattr(error, "get_headers", lambda: [])() or []) if status in (405, 429) else None
        if status == 429:
            detail = _("Too many attempts. Please wait a minute and try again.")
        if headers:  # the ones the document promises: Retry-After on 429, Allow on 405
            headers = {k: v for k, v in headers.items() if k.lower() in ("retry-after", "allow")}
        return problem(status, title, detail, errors, headers)


def handle_domain_error(error: DomainError):
    if is_api_request():
        errors = {k: [str(m) for m in v] for k, v in error.errors.items()} or None
        return problem(error.status, error.title, str(error.detail) if error.detail else None, errors)
    from marketplace.pages import render_error_page

    return render_error_page(error)


def handle_csrf_error(error: CSRFError):
    if is_api_request():
        return problem(400, "Bad request", _("The CSRF token is missing or invalid."))
    from marketplace.pages import render_error_page

    return render_error_page(error)


def authenticate_api_request() -> Response | None:
    """Before each API request: bearer tokens authenticate; a session cookie only with a CSRF token.

    Also refuses bodies that are not JSON (or multipart, for uploads) with 415.
    """
    if not is_api_request():
        return None
    if request.method in UNSAFE_METHODS and request.content_length:
        mimetype = request.mimetype
        if mimetype != "application/json" and not mimetype.endswith("+json") and mimetype != "multipart/form-data":
            return problem(415, "Unsupported Media Type", _("Send the request body as application/json."))
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("Bearer "):
        from marketplace.accounts.services import token_for

        # The token alone decides who the caller is, whatever cookie came along.
        row = token_for(authorization[len("Bearer "):].strip())
        g.api_token_id = row.id if row is not None else None
        g._login_user = row.user if row is not None else AnonymousUserMixin()
        return None
    if current_user.is_authenticated:
        try:
            validate_csrf(request.headers.get("X-CSRFToken", ""))
        except Exception:  # noqa: BLE001 - any failure means: do not trust the cookie
            g._login_user = AnonymousUserMixin()
    return None


# --- pagination ---------------------------------------------------------------------------

class PageArgs(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100000))
    per_page = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))


class PageOut(ma.Schema):
    """What `page_of` answers; a subclass documents its `items`."""

    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    total = ma.fields.Integer()


def page_of(session, statement, page: int, per_page: int, serialise=lambda x: x) -> dict:
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [serialise(r) for r in rows], "page": page, "per_page": per_page, "total": total}


def one_page(items: list) -> dict:
    """A short list answered in `page_of`'s shape, all of it on one page (clients read every list alike)."""
    return {"items": items, "page": 1, "per_page": len(items), "total": len(items)}


# --- one step on one row ----------------------------------------------------------------

def step_on(load, answer):
    """The `_step` of a feature's API: `step(row_id, action, status=200)` loads the row (`load(row_id)`, NotFound
    when the caller may not see it), runs `action(row)` (the service checks who may take the step), commits and
    replies `answer(row, status)`."""

    def step(row_id: int, action, status: int = 200):
        from marketplace.extensions import db

        row = load(row_id)
        action(row)
        db.session.commit()
        return answer(row, status)

    return step


# --- authentication helpers for API views -------------------------------------------------

def login_required_api(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return problem(401, "Unauthorized", _("Send a valid bearer token."),
                           headers={"WWW-Authenticate": 'Bearer realm="api"'})
        return view(*args, **kwargs)

    return wrapper


# --- Idempotency-Key ----------------------------------------------------------------------
# The one home of the rule: every API write (POST, PUT, PATCH, DELETE under /api/v1) that a
# signed-in caller sends with an Idempotency-Key is reserved before its view runs and answered
# once (see marketplace.idempotency); a repeat replays the first answer. Installed on the app by
# `install_idempotency`, so a new endpoint cannot forget it; the OpenAPI document lists the header
# on exactly the operations `idempotency_applies` names. Keys are per caller: an anonymous request
# is answered as if it had no key (its view refuses it, or it is exempt below).

IDEMPOTENCY_EXEMPT = {  # endpoint -> why an Idempotency-Key is ignored there
    "accounts_api.issue_token": "the answer is a new bearer token, which must never be stored in the replay "
                                "table; a retry only issues another token, which expires",
    "accounts_api.register": "no caller yet; the e-mail address is the natural key: a repeat is refused with 409",
    "accounts_api.confirm": "no caller; the link token is the key: confirming again changes nothing",
    "accounts_api.password_reset_request": "no caller; always 202 and rate limited: a repeat only mails another link",
    "accounts_api.password_reset": "no caller; the reset token is single-use: a repeat is refused",
    "accounts_api.confirm_email_change": "no caller; the link token is single-use: a repeat is refused",
    "payments_webhooks.stripe_webhook": "Stripe signs each event; its stored id makes a redelivery a no-op",
}


def idempotency_applies(method: str, path: str, endpoint: str | None) -> bool:
    """Whether a request with this method, path and endpoint takes an Idempotency-Key."""
    return (method in UNSAFE_METHODS and path.startswith(API_PREFIX) and endpoint is not None
            and endpoint not in IDEMPOTENCY_EXEMPT)


def idempotent_rules(app) -> list[tuple[str, str, str]]:
    """(method, rule, endpoint) of every API write that takes the key, for the document and the tests."""
    return sorted((method, rule.rule, rule.endpoint) for rule in app.url_map.iter_rules()
                  for method in (rule.methods or ()) if idempotency_applies(method, rule.rule, rule.endpoint))


def install_idempotency(app) -> None:
    """Register the hooks; after `authenticate_api_request`, so the caller is known."""
    app.before_request(_reserve_idempotency_key)
    app.after_request(_store_idempotent_answer)
    app.teardown_request(_release_idempotency_key)


def _request_fingerprint() -> str:
    query = request.query_string
    target = request.path.encode() + (b"?" + query if query else b"")
    return hashlib.sha256(request.method.encode() + target + request.get_data()).hexdigest()


def _reserve_idempotency_key() -> Response | None:
    """Before the view: reserve the caller's key, or answer with the first request's answer."""
    key = request.headers.get("Idempotency-Key")
    if not key or not idempotency_applies(request.method, request.path, request.endpoint):
        return None
    if not current_user.is_authenticated:  # keys are per caller; the view answers 401 (or is exempt)
        return None
    from marketplace import idempotency

    if len(key) > idempotency.MAX_KEY_LENGTH:
        return problem(422, "Validation failed", _("Idempotency-Key is too long."))
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in key):
        return problem(422, "Validation failed", _("Idempotency-Key may hold only printable characters."))
    user_id, fingerprint = current_user.id, _request_fingerprint()
    for _attempt in range(3):
        if idempotency.reserve(user_id, key, fingerprint):
            g.idempotency = (user_id, key, fingerprint)
            return None
        found = idempotency.wait_for_first(user_id, key, current_app.config.get("IDEMPOTENCY_WAIT_SECONDS", 10))
        if found is not None:
            return _replay(found, fingerprint)
    return _key_busy()


def _store_idempotent_answer(response: Response) -> Response:
    """After the view (and the error handlers): keep its answer for replays."""
    reserved = g.pop("idempotency", None)
    if reserved is not None:
        from marketplace import idempotency

        idempotency.store_answer(*reserved, response)
    return response


def _release_idempotency_key(error: BaseException | None) -> None:
    """An exception no handler answered (TESTING propagates them): free or close the reservation."""
    reserved = g.pop("idempotency", None)
    if reserved is not None:
        from marketplace import idempotency

        idempotency.release(*reserved[:2])


def _key_busy() -> Response:
    return problem(409, "Conflict", _("A request with this Idempotency-Key is already in progress."))


def _replay(found, fingerprint: str) -> Response:
    if found.fingerprint != fingerprint:
        return problem(422, "Validation failed", _("This Idempotency-Key was already used for a different request."))
    if found.pending:
        return _key_busy()
    return current_app.response_class(found.body, status=found.status_code, mimetype=found.mimetype,
                                      headers={"Idempotent-Replayed": "true"})


__all__ = ["Api", "Blueprint", "problem", "page_of", "PageArgs", "idempotency_applies",
           "install_idempotency", "login_required_api"]
