"""HTTP caching of the public pages: one rule for every anonymous, cacheable answer.

A visitor (no account, no bearer token) who reads a public page gets `Cache-Control: public,
max-age=PUBLIC_CACHE_SECONDS` (default 60), an ETag and, where the page knows it, a Last-Modified
date, so a proxy or CDN may serve the page and a conditional request is answered 304. Signed-in
users, and any answer that sets a cookie, get `Cache-Control: private`. Routes that know when their
content last changed set `g.last_modified` (see `last_modified`).

The application keeps the same answers itself (`PageStore`), at most for the same time: what a
proxy may serve for a minute, the app serves from memory (or Redis, shared by every worker and
instance, when `REDIS_URL` is set) instead of rendering it again. The key is the path with its
query, the visitor's language and time zone, and the store's generation: every commit that changes
data (`_note_change`) starts a new generation, so the store never serves an answer older than the
last change (with Redis, for every instance; without it, for this worker, the others within the
minute). A visitor with a message waiting in the session is never served from it.
`PUBLIC_PAGE_CACHE=0` turns the store off (the headers stay).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from datetime import datetime

from flask import Flask, Response, current_app, g, has_app_context, request, session
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

PUBLIC_ENDPOINTS = frozenset({
    "pages.home", "challenges.browse", "challenges.detail", "analytics.public_stats",
    "challenges_api.list_challenges", "challenges_api.get_challenge", "analytics_api.public_statistics",
})
DEFAULT_SECONDS = 60
MEMORY_ENTRIES = 2000  # per worker, without Redis
UNSTORED_HEADERS = frozenset({"content-length", "date", "set-cookie", "etag", "last-modified", "cache-control"})


def last_modified(moment: datetime | None) -> None:
    """Tell the caching rule when the content of this answer last changed."""
    if moment is not None:
        g.last_modified = moment


def is_shared_cacheable(response: Response) -> bool:
    """The one rule: an anonymous, cookie-free, successful read of a public endpoint."""
    return (request.method in ("GET", "HEAD") and request.endpoint in PUBLIC_ENDPOINTS
            and response.status_code == 200 and not current_user.is_authenticated
            and not session.modified and "Set-Cookie" not in response.headers)


def _seconds() -> int:
    return int(current_app.config.get("PUBLIC_CACHE_SECONDS", DEFAULT_SECONDS))


def cache_headers(response: Response) -> Response:
    if request.endpoint not in PUBLIC_ENDPOINTS:
        return response
    if not is_shared_cacheable(response):
        response.cache_control.private = True
        return response
    if "page_key" in g and not g.get("page_from_store") and not response.is_streamed:
        _store().put(g.page_key, response, g.get("last_modified"), _seconds())
    response.cache_control.public = True
    response.cache_control.max_age = _seconds()
    response.vary.update(("Accept-Language", "Cookie"))
    if g.get("last_modified") is not None:
        response.last_modified = g.last_modified
    response.add_etag()
    return response.make_conditional(request)


# --- the application's own store of the same answers ----------------------------------------


class PageStore:
    """Answers by key for `seconds`: in this process (bounded, least recently used first out)."""

    def __init__(self, entries: int = MEMORY_ENTRIES):
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._entries = entries
        self._lock = threading.Lock()
        self._generation = 0

    def generation(self) -> int:
        return self._generation

    def new_generation(self) -> None:
        with self._lock:
            self._generation += 1
            self._items.clear()

    def get_raw(self, key: str) -> bytes | None:
        with self._lock:
            found = self._items.get(key)
            if found is None or found[0] < time.monotonic():
                self._items.pop(key, None)
                return None
            self._items.move_to_end(key)
            return found[1]

    def set_raw(self, key: str, value: bytes, seconds: int) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + seconds, value)
            self._items.move_to_end(key)
            while len(self._items) > self._entries:
                self._items.popitem(last=False)

    def get(self, key: str) -> Response | None:
        try:
            raw = self.get_raw(key)
        except Exception:  # a cache that cannot answer is a miss, never an error page
            log.warning("page cache read failed", exc_info=True)
            return None
        if raw is None:
            return None
        head, _, body = raw.partition(b"\n")
        meta = json.loads(head)
        if meta.get("modified"):
            g.last_modified = datetime.fromisoformat(meta["modified"])
        return Response(body, headers=meta["headers"])

    def put(self, key: str, response: Response, modified: datetime | None, seconds: int) -> None:
        try:
            headers = [(name, value) for name, value in response.headers.items()
                       if name.lower() not in UNSTORED_HEADERS]
            meta = {"headers": headers, "modified": modified.isoformat() if modified else None}
            self.set_raw(key, json.dumps(meta).encode() + b"\n" + response.get_data(), seconds)
        except Exception:
            log.warning("page cache write failed", exc_info=True)


class RedisPageStore(PageStore):
    """The same, in Redis: one copy for every worker and instance."""

    def __init__(self, url: str):
        from redis import Redis

        self._redis = Redis.from_url(url, socket_timeout=0.5)

    def generation(self) -> int:
        return int(self._redis.get("page:generation") or 0)

    def new_generation(self) -> None:
        self._redis.incr("page:generation")

    def get_raw(self, key: str) -> bytes | None:
        return self._redis.get(f"page:{key}")

    def set_raw(self, key: str, value: bytes, seconds: int) -> None:
        self._redis.set(f"page:{key}", value, ex=seconds)


def _store() -> PageStore:
    return current_app.extensions["page_store"]


def _key() -> str:
    from marketplace.i18n import current_locale_id, select_timezone

    if "page_key" not in g:
        g.page_key = f"{_store().generation()}|{request.full_path}|{current_locale_id()}|{select_timezone()}"
    return g.page_key


def _may_use_store() -> bool:
    """The request side of `is_shared_cacheable`: an anonymous read of a public endpoint, nothing waiting."""
    return (current_app.config.get("PUBLIC_PAGE_CACHE", True) and request.method in ("GET", "HEAD")
            and request.endpoint in PUBLIC_ENDPOINTS and "Authorization" not in request.headers
            and not current_user.is_authenticated and not session.get("_flashes"))


def serve_from_store():
    if not _may_use_store():
        return None
    try:
        key = _key()
    except Exception:  # Redis unreachable: render the page
        log.warning("page cache generation unknown", exc_info=True)
        return None
    response = _store().get(key)
    if response is None:
        return None
    g.page_from_store = True
    for hook in STORE_HIT_HOOKS.get(request.endpoint, ()):
        hook(**(request.view_args or {}))
    return response


# Work a page does even when its answer comes from the store (counting a challenge's views).
STORE_HIT_HOOKS: dict[str, list] = {}


def on_store_hit(endpoint: str):
    def register(hook):
        STORE_HIT_HOOKS.setdefault(endpoint, []).append(hook)
        return hook

    return register


# Tables written while reading, or that no public page shows: a change there keeps the generation.
PRIVATE_TABLES = frozenset({"idempotency_records", "sign_in_failures", "api_tokens", "outbox_mails", "audit_entries",
                            "notifications", "challenge_views"})


def _note_change(session, flush_context=None) -> None:
    for instance in (*session.new, *session.dirty, *session.deleted):
        if getattr(instance, "__tablename__", None) not in PRIVATE_TABLES:
            session.info["public_change"] = True
            return


def _note_statement(state) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and not _only_private(state.statement):
        state.session.info["public_change"] = True


def _only_private(statement) -> bool:
    table = getattr(statement, "table", None)
    return getattr(table, "name", None) in PRIVATE_TABLES


def public_data_changed() -> None:
    """Stored answers are out of date: start a new generation (after a commit, or a search index update)."""
    store = current_app.extensions.get("page_store") if has_app_context() else None
    if store is not None:
        try:
            store.new_generation()
        except Exception:
            log.warning("page cache generation not renewed", exc_info=True)


def _after_commit(session) -> None:
    if session.info.pop("public_change", False):
        public_data_changed()


def _after_rollback(session) -> None:
    session.info.pop("public_change", None)


def _listen_for_changes() -> None:
    if not event.contains(Session, "after_flush", _note_change):
        event.listen(Session, "after_flush", _note_change)
        event.listen(Session, "do_orm_execute", _note_statement)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


def install(app: Flask) -> None:
    _listen_for_changes()
    url = app.config.get("REDIS_URL")
    app.extensions["page_store"] = RedisPageStore(url) if url else PageStore()
    app.before_request(serve_from_store)
    app.after_request(cache_headers)
