"""Configuration read from the environment, with safe defaults.

Every setting that differs between machines comes from an environment variable.
Secrets never have a default: SECRET_KEY is generated once into the instance
folder when it is not given, and never committed.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def normalise_database_url(url: str) -> str:
    """Accept plain `postgresql://user@host:port/db` URLs and use psycopg 3 for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def instance_path() -> Path:
    return Path(os.environ.get("INSTANCE_PATH") or "instance").resolve()


def load_or_create_secret(folder: Path) -> str:
    """Return the instance's secret key, creating it (mode 0600) on first use."""
    return _load_or_create(folder, "secret_key", lambda: secrets.token_urlsafe(48))


def load_or_create_payee_key(folder: Path) -> str:
    """Development only: a payee-data encryption key (AES-256, urlsafe base64) kept in the instance folder."""
    import base64

    return _load_or_create(folder, "payee_encryption_key",
                           lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())


def _load_or_create(folder: Path, name: str, make) -> str:
    """The key in `folder / name`, written by `make()` (mode 0600) when missing.

    Several processes (gunicorn workers) may start at once: the key is written to a
    private temporary file and linked into place, so nobody reads a half-written key
    and the first link wins.
    """
    folder.mkdir(parents=True, exist_ok=True)
    key_file = folder / name
    if not key_file.exists():
        draft = folder / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(make())
            os.link(draft, key_file)
        except FileExistsError:
            pass  # another process won the race; use its key
        finally:
            draft.unlink()
    return key_file.read_text().strip()


def sanctioned_countries() -> tuple[str, ...]:
    """The platform sanctions list (ISO codes), configurable with SANCTIONED_COUNTRIES=CU,IR,KP,SY."""
    raw = os.environ.get("SANCTIONED_COUNTRIES", "CU,IR,KP,SY")
    return tuple(sorted({code.strip().upper() for code in raw.split(",") if code.strip()}))


def _storage_url() -> str | None:
    """STORAGE_URL, checked at start-up: unset (the local folder) or s3://bucket/prefix."""
    url = os.environ.get("STORAGE_URL") or None
    if url:
        from marketplace.files.storage import parse_storage_url

        parse_storage_url(url)
    return url


def from_environment() -> dict:
    """Build the Flask config mapping from os.environ, one section per concern."""
    folder = instance_path()
    folder.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'innobridge.sqlite'}"
    redis_url = os.environ.get("REDIS_URL") or None
    development = os.environ.get("FLASK_ENV_MODE", "production") == "development"
    return {
        "INSTANCE_PATH": str(folder),
        "SECRET_KEY": os.environ.get("SECRET_KEY") or load_or_create_secret(folder),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": redis_url,
        "DEVELOPMENT": development,
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        **_security_settings(development, redis_url),
        **_upload_settings(),
        **_mail_settings(),
        **_payment_settings(folder, development),
        **_serving_settings(),
    }


def _security_settings(development: bool, redis_url: str | None) -> dict:
    return {
        # Cookies: secure unless explicitly running plain HTTP on localhost.
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", default=not development),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", default=not development),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "API_TOKEN_TTL_HOURS": _int("API_TOKEN_TTL_HOURS", 24 * 30),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Failed sign-ins: Redis when configured, else the database (shared by all workers either way).
        "LOGIN_THROTTLE_STORAGE_URI": redis_url or "database",
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "5 per minute"),
    }


def _upload_settings() -> dict:
    return {
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_BYTES", 25 * 1024 * 1024) + 1024 * 1024,
        "MAX_UPLOAD_BYTES": _int("MAX_UPLOAD_BYTES", 25 * 1024 * 1024),
        "MAX_ATTACHMENTS_PER_PROPOSAL": _int("MAX_ATTACHMENTS_PER_PROPOSAL", 20),
        "MAX_PROPOSAL_BYTES": _int("MAX_PROPOSAL_BYTES", 100 * 1024 * 1024),
        # unset: attachments under UPLOAD_ROOT / the instance folder; s3://bucket/prefix: an S3-compatible
        # store (credentials and S3_ENDPOINT_URL from the environment, as boto3 reads them)
        "STORAGE_URL": _storage_url(),
        "S3_ENDPOINT_URL": os.environ.get("S3_ENDPOINT_URL") or None,
    }


def _mail_settings() -> dict:
    return {
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": _int("MAIL_PORT", 25),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS"),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "InnoBridge <no-reply@innobridge.localhost>"),
        "MAIL_TIMEOUT_SECONDS": _int("MAIL_TIMEOUT_SECONDS", 10),
    }


def _payment_settings(folder: Path, development: bool) -> dict:
    return {
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY") or None,
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE") or None,
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET") or None,
        "STRIPE_WEBHOOK_TOLERANCE_SECONDS": _int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", 300),
        "STRIPE_MAX_NETWORK_RETRIES": _int("STRIPE_MAX_NETWORK_RETRIES", 2),
        "STRIPE_TIMEOUT_MS": _int("STRIPE_TIMEOUT_MS", 30_000),
        "STRIPE_PLATFORM_COUNTRY": os.environ.get("STRIPE_PLATFORM_COUNTRY") or "US",
        "STRIPE_PAYOUT_COUNTRIES": os.environ.get("STRIPE_PAYOUT_COUNTRIES") or None,
        # Payee identity and bank details are encrypted with this key (AES-256-GCM; comma-separated
        # keys rotate: the first encrypts, every one decrypts). Generated only in development.
        "PAYEE_ENCRYPTION_KEY": os.environ.get("PAYEE_ENCRYPTION_KEY")
        or (load_or_create_payee_key(folder) if development else None),
        "PAYOUT_TARGET_DAYS": _int("PAYOUT_TARGET_DAYS", 30),
    }


def _serving_settings() -> dict:
    return {
        # whoosh (an index folder per instance) or postgres (shared by every instance on the database)
        "SEARCH_BACKEND": os.environ.get("SEARCH_BACKEND") or "whoosh",
        # anonymous public answers: cacheable by proxies and kept by the app itself (http_cache)
        "PUBLIC_CACHE_SECONDS": _int("PUBLIC_CACHE_SECONDS", 60),
        "PUBLIC_PAGE_CACHE": _bool("PUBLIC_PAGE_CACHE", True),
        "VIEW_COUNT_FLUSH_SECONDS": _int("VIEW_COUNT_FLUSH_SECONDS", 2),
    }


def gunicorn_workers() -> int:
    """Worker processes gunicorn starts by default: WEB_CONCURRENCY (gunicorn's own default), else 1."""
    return _int("WEB_CONCURRENCY", 1)


def check_shared_rate_limits(settings: dict, workers: int) -> None:
    """Refuse a multi-worker production server whose rate limits each worker would count alone.

    With `memory://` storage every worker keeps its own counts (3 workers: three times the limit).
    Development and test runs are single-process and exempt. Called by create_app() with
    WEB_CONCURRENCY and by gunicorn.conf.py with gunicorn's --workers.
    """
    production = not (settings.get("DEVELOPMENT") or settings.get("TESTING") or settings.get("DEBUG"))
    in_memory = str(settings.get("RATELIMIT_STORAGE_URI") or "memory://").startswith("memory://")
    if production and in_memory and workers > 1:
        raise RuntimeError(
            f"Refusing to start {workers} workers with in-memory rate limits: each worker would count "
            "separately. Set REDIS_URL (shared limits) or run a single worker.")
