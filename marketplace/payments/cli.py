"""`flask payments reconcile` and `flask payments release-batch`."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.awards.models import Award
from marketplace.challenges.models import Challenge
from marketplace.extensions import db
from marketplace.locks import scheduled_once

payments_cli = AppGroup("payments", help="Payouts, refunds and the ledger.")


@payments_cli.command("reconcile")
@scheduled_once("payments.reconcile")
@click.option("--retry-failed", is_flag=True, help="Send declined payouts again (with a new key) once fixed.")
@click.option("--min-age-seconds", type=int, default=0, show_default=True,
              help="Leave payouts younger than this alone (they may still be in flight; retrying them is safe too).")
def reconcile_command(retry_failed: bool, min_age_seconds: int) -> None:
    """Compare pending payouts, refunds and fundings with the provider; complete or retry them once."""
    from marketplace.payments.reconcile import reconcile

    lines = reconcile(retry_failed=retry_failed, min_age=timedelta(seconds=min_age_seconds))
    for line in lines:
        click.echo(str(line))
    alerts = [line for line in lines if line.action == "alert"]
    if alerts:
        raise click.ClickException(f"{len(alerts)} problem(s) need a person")


@payments_cli.command("release-batch")
@click.option("--approver", "approver_email", required=True, help="E-mail of the approving finance officer.")
@click.option("--organization", "org_slug", help="Only awards of this organization's challenges.")
@click.option("--award", "award_ids", multiple=True, type=int, help="Only these awards (repeatable).")
@click.option("--workers", type=int, default=8, show_default=True, help="Parallel provider calls.")
def release_batch_command(approver_email: str, org_slug: str | None, award_ids: tuple[int, ...], workers: int) -> None:
    """Approve every award whose release was requested (by someone else) and pay it."""
    from marketplace.accounts.models import Organization
    from marketplace.payments.release import APPROVE_CHUNK, approve_and_pay

    approver = db.session.scalar(select(User).filter_by(email=approver_email.strip().lower()))
    if approver is None:
        raise click.ClickException(f"no user {approver_email}")
    statement = select(Award.id).where(Award.status == "release_requested").order_by(Award.id)
    if org_slug:
        org = db.session.scalar(select(Organization).filter_by(slug=org_slug))
        if org is None:
            raise click.ClickException(f"no organization {org_slug}")
        statement = statement.join(Challenge, Challenge.id == Award.challenge_id).where(
            Challenge.organization_id == org.id)
    if award_ids:
        statement = statement.where(Award.id.in_(award_ids))
    ids = list(db.session.scalars(statement))
    if not ids:
        click.echo("No award is waiting for approval.")
        return
    logging.getLogger("stripe").setLevel(logging.WARNING)  # one line per request would bury the progress bars
    started = time.monotonic()
    bars = [click.progressbar(length=len(ids), label="Approving awards", show_pos=True)]
    approved_at = started

    def start_paying(total: int) -> None:
        nonlocal approved_at
        bars[0].render_finish()
        approved_at = time.monotonic()
        bars.append(click.progressbar(length=total, label="Paying recipients", show_pos=True))

    report = approve_and_pay(ids, approver, workers=workers, chunk=APPROVE_CHUNK, on_approved=bars[0].update,
                             on_paying=start_paying, on_paid=lambda n: bars[-1].update(n))
    bars[-1].render_finish()
    finished = time.monotonic()
    click.echo(f"Approved {len(report.approved)} of {len(ids)} awards in {approved_at - started:.1f} s; "
               f"{len(report.orders)} transfers in {finished - approved_at:.1f} s; total {finished - started:.1f} s.")
    click.echo("Payouts: " + (", ".join(f"{count} {status}" for status, count in sorted(report.payouts.items()))
                              or "none"))
    for award_id, error in sorted(report.refused.items()):
        click.echo(f"award {award_id} refused: {error.detail}")
