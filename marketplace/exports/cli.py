"""`flask exports proposals --challenge ID --format csv --out FILE` (and ranking, payouts), with a progress bar."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from marketplace.extensions import db

exports_cli = AppGroup("exports", help="CSV and XLSX exports for center staff.")


def _export(kind: str, challenge_id: int, fmt: str, out: str) -> None:
    from marketplace.challenges.models import Challenge
    from marketplace.exports import sources
    from marketplace.exports.writers import csv_chunks, write_xlsx

    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None:
        raise click.ClickException(f"No challenge {challenge_id}.")
    table = getattr(sources, kind)(challenge)
    total = table.count()
    started = time.perf_counter()
    with click.progressbar(length=total, label=f"Exporting {kind} of challenge {challenge_id}", show_pos=True) as bar:
        if fmt == "csv":
            with open(out, "w", encoding="utf-8", newline="") as handle:
                for chunk in csv_chunks(table.header, table.rows(), progress=bar.update):
                    handle.write(chunk)
        else:
            write_xlsx(out, [(kind, table.header, table.rows())], progress=bar.update)
    click.echo(f"Wrote {total} rows to {out} in {time.perf_counter() - started:.1f} s.")


def _command(kind: str):
    @click.option("--challenge", "challenge_id", type=int, required=True, help="The challenge's id.")
    @click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
    @click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True, help="The file to write.")
    def command(challenge_id: int, fmt: str, out: str) -> None:
        _export(kind, challenge_id, fmt, out)

    command.__doc__ = f"Export the {kind} of a challenge (run by an operator; the file holds personal data)."
    return exports_cli.command(kind)(command)


for _kind in ("proposals", "ranking", "payouts"):
    _command(_kind)
