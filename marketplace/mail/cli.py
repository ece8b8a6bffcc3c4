import click
from flask.cli import AppGroup

from marketplace.extensions import db
from marketplace.locks import scheduled_once
from marketplace.mail import services

mail_cli = AppGroup("mail", help="The mail outbox.")


@mail_cli.command("flush")
@scheduled_once("mail.flush")
def flush() -> None:
    """Send every pending mail in the outbox now."""
    if not services.mail_configured():
        raise click.ClickException("MAIL_SERVER is not set: mails stay in the outbox (see /admin/outbox).")
    services.release_stuck_sends()
    db.session.commit()
    sent, failed = services.send_mails(due_only=False)
    click.echo(f"Sent {sent} mail(s); {failed} failed and stay in the outbox for a later retry.")
    if failed:
        raise SystemExit(1)
