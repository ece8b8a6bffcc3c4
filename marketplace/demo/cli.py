from __future__ import annotations

import os
import secrets
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.demo import seed as demo_seed
from marketplace.extensions import db

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
@click.option("--force", is_flag=True, help="Seed even if the database already has users.")
def seed(force: bool) -> None:
    """Fill an empty database with demo centers, staff and solvers."""
    if db.session.scalar(select(func.count(User.id))) and not force:
        click.echo("The database already has users; demo seed left it alone (use --force to add anyway).")
        return
    # The demo password comes from the environment, or is made up now and shown once.
    password = os.environ.get("DEMO_PASSWORD") or "demo-" + secrets.token_urlsafe(12)
    with click.progressbar(length=len(demo_seed.STEPS), label="Seeding demo data") as bar:
        for step in demo_seed.STEPS:
            step(password)
            db.session.flush()
            bar.update(1)
    db.session.commit()
    from marketplace.challenges import indexing

    indexing.flush_scheduled()
    lines = [f"{email}  ({label})" for email, label in demo_seed.login_overview()]
    summary = "Demo accounts (password for all: " + password + ")\n" + "\n".join(lines) + "\n"
    Path(current_app.instance_path, "demo-accounts.txt").write_text(summary)
    click.echo(summary)
    click.echo(f"Also written to {Path(current_app.instance_path, 'demo-accounts.txt')}")
