"""`flask reminders send`: deadline reminders, safe to run every minute (each reminder goes out once)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace.extensions import db
from marketplace.locks import scheduled_once
from marketplace.reminders import services

reminders_cli = AppGroup("reminders", help="Deadline reminders.")


@reminders_cli.command("send")
@scheduled_once("reminders.send")
def send() -> None:
    """Mail and notify solvers and reviewers 7 and 1 days (REMINDER_DAYS) before their deadlines."""
    work = services.pending()
    total = sum(len(rows) for _kind, _offset, rows in work)
    with click.progressbar(length=total, label="Sending reminders", show_pos=True) as bar:
        def batch_done(due: int, _sent: int) -> None:
            db.session.commit()  # per batch: a crash loses at most this batch, never sends twice
            bar.update(due)

        report = services.send_due_reminders(work=work, on_batch=batch_done)
    db.session.commit()
    details = ", ".join(f"{key}: {count}" for key, count in sorted(report.by_kind.items())) or "none due"
    click.echo(f"Reminders sent: {report.sent} ({details}). Mails wait in the outbox for `flask mail flush`.")
