"""Security baseline: headers with a strict CSP, and how users are loaded for each request."""

from __future__ import annotations

from flask import Flask, abort, request

from marketplace.extensions import db, login_manager

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'"
)


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def refuse_nul_characters() -> None:
    """PostgreSQL text cannot hold NUL (0x00): refuse it at the door with a 400, not a 500 at the INSERT.

    Query string, form fields and JSON bodies are checked; uploaded files are binary and may hold anything.
    """
    if "\x00" in request.path or any(_holds_nul(values) for values in request.args.listvalues()):
        abort(400)
    if request.method in {"POST", "PUT", "PATCH", "DELETE"}:
        if request.mimetype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            if any(_holds_nul(values) for values in request.form.listvalues()):
                abort(400)
        elif request.is_json and _holds_nul(request.get_json(silent=True)):
            abort(400)


def user_for_session(session_id: str):
    """The user a session (or remember cookie) names: "<id>:<auth_version>", as written by User.get_id().

    A password reset or change raises the user's auth_version, so every session signed in before
    it stops loading here (the session that made the change is signed in again under the new value).
    """
    from marketplace.accounts.models import User

    user_id, _sep, version = str(session_id or "").partition(":")
    if not (user_id.isdigit() and version.isdigit()) or int(user_id) > 2**31 - 1:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.auth_version != int(version):
        return None
    return user


def retry_after_on_every_429(response):
    """Every 429 tells the client when to come back (Flask-Limiter's own refusals included)."""
    if response.status_code == 429 and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = "60"
    return response


def install(app: Flask) -> None:
    app.before_request(refuse_nul_characters)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(session_id: str):
        return user_for_session(session_id)

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import abort, redirect, url_for

        if request.path.startswith("/api/"):
            abort(401)
        return redirect(url_for("accounts.login", next=request.full_path))

    app.after_request(retry_after_on_every_429)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.path.startswith("/api/") or response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response
