"""`flask reviews remind`: mail reviewers whose open reviews are due soon (run it daily, e.g. from cron)."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import AppGroup

from marketplace.extensions import db
from marketplace.locks import scheduled_once
from marketplace.reviews import scoring

reviews_cli = AppGroup("reviews", help="Peer review.")


@reviews_cli.command("remind")
@scheduled_once("reviews.remind")
@click.option("--days", type=click.IntRange(0, 60), default=3, show_default=True,
              help="Remind about reviews due within this many days (overdue ones always).")
def remind(days: int) -> None:
    """Mail each reviewer with open reviews near their due date (at most once a day per review)."""
    mails = scoring.send_reminders(within=timedelta(days=days))
    db.session.commit()
    click.echo(f"Reminders queued: {mails}")
