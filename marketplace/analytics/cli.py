import time

import click
from flask.cli import AppGroup

from marketplace.analytics import cache
from marketplace.locks import scheduled_once

analytics_cli = AppGroup("analytics", help="Analytics figures.")


@analytics_cli.command("refresh")
@scheduled_once("analytics.refresh")
def refresh() -> None:
    """Recompute the platform-wide figures (run it from a scheduler every few minutes)."""
    started = time.perf_counter()
    stored = cache.refresh_all()
    click.echo(f"Refreshed {', '.join(sorted(stored))} in {time.perf_counter() - started:.2f} s.")
