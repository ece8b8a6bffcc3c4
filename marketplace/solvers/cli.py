"""Commands: `flask notifications digest` and `flask experts reindex`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.locks import scheduled_once
from marketplace.mail import services as mail
from marketplace.solvers import alerts, experts

notifications_cli = AppGroup("notifications", help="Challenge alerts and notifications.")
experts_cli = AppGroup("experts", help="The expert database.")


@notifications_cli.command("digest")
@scheduled_once("notifications.digest")
def digest() -> None:
    """Mail each digest subscriber one summary of the challenge alerts not mailed yet."""
    recipients = alerts.digest_recipients()
    mails: list[int] = []
    notified = 0
    with click.progressbar(recipients, label="Sending digests", show_pos=True) as bar:
        for user_id in bar:
            count, mail_id = alerts.send_digest(db.session.get(User, user_id))
            db.session.commit()  # per user: a crash half-way never mails anyone twice
            notified += count
            if mail_id is not None:
                mails.append(mail_id)
    if mails and mail.mail_configured():
        sent, failed = mail.send_mails(mails)
        click.echo(f"Sent {sent} digest mail(s); {failed} failed and stay in the outbox for a retry.")
    click.echo(f"{len(mails)} digest(s) with {notified} challenge alert(s) queued.")


@experts_cli.command("reindex")
def reindex() -> None:
    """Rebuild the expert database's search terms (after a change of analysis, or renamed users)."""
    total = db.session.scalar(db.select(db.func.count()).select_from(experts.ExpertProfile))
    with click.progressbar(length=total, label="Indexing expert profiles", show_pos=True) as bar:
        count = experts.reindex_all(progress=bar.update)
    db.session.commit()
    click.echo(f"Indexed {count} profile(s).")
