"""gunicorn settings, read from the working directory: refuse per-worker rate limits in production.

`gunicorn --workers 4 wsgi:app` without REDIS_URL would count rate limits per worker; this hook
stops the server at start-up with a clear message instead (README, Configuration).
Development (FLASK_ENV_MODE=development) is exempt.
"""

import os

from marketplace.config import check_shared_rate_limits


def on_starting(server):
    settings = {"DEVELOPMENT": os.environ.get("FLASK_ENV_MODE", "production") == "development",
                "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://"}
    check_shared_rate_limits(settings, server.cfg.workers)
