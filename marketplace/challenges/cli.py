import click
from flask.cli import AppGroup

from marketplace.challenges import indexing, services
from marketplace.extensions import db
from marketplace.locks import scheduled_once

challenges_cli = AppGroup("challenges", help="Challenge lifecycle jobs.")


@challenges_cli.command("close-due")
@scheduled_once("challenges.close-due")
def close_due() -> None:
    """Close every open challenge whose deadline has passed (run it from a scheduler, e.g. every minute)."""
    closed = services.close_due()
    db.session.commit()
    indexing.flush_scheduled()
    click.echo(f"Closed {len(closed)} challenge(s){': ' + ', '.join(map(str, closed)) if closed else '.'}")
