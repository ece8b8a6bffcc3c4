"""InnoBridge: an open-innovation challenge marketplace."""

from __future__ import annotations

import logging
import os
from decimal import Decimal

from flask import Flask

from marketplace import config as configuration
from marketplace import wiring
from marketplace.extensions import babel, csrf, db, limiter, login_manager, migrate

# Feature packages, each contributing models, blueprints (HTML and API) and CLI commands.
FEATURES = ("accounts", "audit", "mail", "admin", "pricing", "programs", "challenges", "solvers", "proposals",
            "reviews", "awards", "payments", "results", "analytics", "exports", "search", "reminders", "stages", "demo")


def create_app(config: dict | None = None) -> Flask:
    settings = configuration.from_environment()
    settings.update(config or {})
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"], instance_relative_config=False)
    app.config.update(settings)
    app.config.setdefault("PREMIUM_RANGE", (Decimal("10"), Decimal("20")))
    app.config.setdefault("SANCTIONED_COUNTRIES", configuration.sanctioned_countries())
    app.config.update(
        API_TITLE="InnoBridge API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE="en",
        BABEL_TRANSLATION_DIRECTORIES=os.path.join(os.path.dirname(os.path.dirname(__file__)), "translations"),
        JSON_SORT_KEYS=False,
    )
    app.debug = bool(app.config.get("DEVELOPMENT")) and os.environ.get("FLASK_DEBUG") == "1"
    configuration.check_shared_rate_limits(app.config, configuration.gunicorn_workers())
    logging.basicConfig(level=logging.INFO)

    _bind_extensions(app)
    _register_features(app)
    wiring.register_kinds()  # notification, reminder and search kinds: one visible list, never on import
    return app


def _bind_extensions(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError

    from marketplace import i18n, pages, security
    from marketplace.api import (
        Api,
        authenticate_api_request,
        handle_csrf_error,
        handle_domain_error,
        install_idempotency,
    )
    from marketplace.errors import DomainError

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"),
                     render_as_batch=True, compare_type=True)
    babel.init_app(app, locale_selector=i18n.negotiate_locale, timezone_selector=i18n.select_timezone)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    app.extensions["smorest_api"] = Api(app)
    app.before_request(authenticate_api_request)
    install_idempotency(app)  # after authentication: keys are per caller
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    security.install(app)
    pages.install(app)


def _register_features(app: Flask) -> None:
    import importlib

    import marketplace.models  # noqa: F401 - every table known before anything queries

    api = app.extensions["smorest_api"]
    for name in FEATURES:
        package = importlib.import_module(f"marketplace.{name}")
        package.register(app, api)
