"""HTTP caching of the public pages: one rule for every anonymous, cacheable answer.

A visitor (no account, no bearer token) who reads a public page gets `Cache-Control: public,
max-age=PUBLIC_CACHE_SECONDS` (default 60), an ETag and, where the page knows it, a Last-Modified
date, so a proxy or CDN may serve the page and a conditional request is answered 304. Signed-in
users, and any answer that sets a cookie, get `Cache-Control: private`. Routes that know when their
content last changed set `g.last_modified` (see `last_modified`).
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask, Response, current_app, g, request, session
from flask_login import current_user

PUBLIC_ENDPOINTS = frozenset({
    "pages.home", "challenges.browse", "challenges.detail", "analytics.public_stats",
    "challenges_api.list_challenges", "challenges_api.get_challenge", "analytics_api.public_statistics",
})
DEFAULT_SECONDS = 60


def last_modified(moment: datetime | None) -> None:
    """Tell the caching rule when the content of this answer last changed."""
    if moment is not None:
        g.last_modified = moment


def is_shared_cacheable(response: Response) -> bool:
    """The one rule: an anonymous, cookie-free, successful read of a public endpoint."""
    return (request.method in ("GET", "HEAD") and request.endpoint in PUBLIC_ENDPOINTS
            and response.status_code == 200 and not current_user.is_authenticated
            and not session.modified and "Set-Cookie" not in response.headers)


def cache_headers(response: Response) -> Response:
    if request.endpoint not in PUBLIC_ENDPOINTS:
        return response
    if not is_shared_cacheable(response):
        response.cache_control.private = True
        return response
    response.cache_control.public = True
    response.cache_control.max_age = int(current_app.config.get("PUBLIC_CACHE_SECONDS", DEFAULT_SECONDS))
    response.vary.update(("Accept-Language", "Cookie"))
    if g.get("last_modified") is not None:
        response.last_modified = g.last_modified
    response.add_etag()
    return response.make_conditional(request)


def install(app: Flask) -> None:
    app.after_request(cache_headers)
