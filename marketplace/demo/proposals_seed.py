"""Demo proposals on the open challenges: drafts, submitted ones with files, a revised one,
a team with agreed shares, and a withdrawn one, all made through the proposal services."""

from __future__ import annotations

import io

from pypdf import PdfWriter
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.challenges import agreements
from marketplace.challenges.models import Challenge
from marketplace.extensions import db
from marketplace.proposals import attachments, teams
from marketplace.proposals import services as proposals
from marketplace.proposals.guards import active_proposal_of


def _pdf(title: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title, "/Author": "Demo author"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _csv() -> bytes:
    rows = ["frequency_hz,noise_nv_per_sqrt_hz"] + [f"{10 ** (3 + i / 4):.0f},{1.9 - i * 0.02:.2f}" for i in range(13)]
    return ("\n".join(rows) + "\n").encode()


def _accept(challenge: Challenge, user: User) -> bool:
    if challenge.participation_refusal(user):
        return False
    agreements.accept(challenge, user, version=challenge.agreement_version)
    return True


def seed_proposals(password: str) -> None:
    open_challenges = list(db.session.scalars(
        select(Challenge).where(Challenge.status == "open").order_by(Challenge.id)))
    solvers = {u.email: u for u in db.session.scalars(select(User).where(User.email.like("%.example")))}
    anna, james, maria = (solvers.get(e) for e in ("anna.schmidt@tum.example", "james.okafor@imperial.example",
                                                   "maria.garcia@upm.example"))
    kenji, priya = solvers.get("kenji.tanaka@u-tokyo.example"), solvers.get("priya.nair@iisc.example")
    if not open_challenges or None in (anna, james, maria, kenji, priya):
        return
    first = open_challenges[0]
    for user in (anna, james, maria, kenji, priya):
        if not agreements.has_accepted(first, user):
            _accept(first, user)
    # A submitted proposal with two files, then revised before the deadline (version 2).
    if not active_proposal_of(first.id, anna.id):
        submitted = proposals.create_proposal(first, anna, {
            "title": "Chopper-stabilised two-stage readout", "locale": "en",
            "abstract": "A chopper-stabilised front end with correlated double sampling reaches 1.6 nV/√Hz.",
            "body": "## Architecture\n\nTwo gain stages, chopping at 200 kHz, ripple reduction loop.\n\n"
                    "## Evidence\n\nTransistor-level simulation in a 28 nm process; see the attached data."})
        attachments.add_attachment(submitted, anna, io.BytesIO(_pdf("Readout design notes")), "design-notes.pdf")
        attachments.add_attachment(submitted, anna, io.BytesIO(_csv()), "noise-measurements.csv")
        proposals.submit(submitted, anna)
        proposals.update_proposal(submitted, anna, {"abstract": submitted.abstract + " Power: 3.8 mW per channel."})
        proposals.submit(submitted, anna)  # the resubmission is version 2
    # A team proposal with agreed shares, submitted.
    if not active_proposal_of(first.id, james.id):
        team = proposals.create_proposal(first, james, {
            "title": "Auto-zeroed readout with digital noise cancellation", "locale": "en",
            "abstract": "Auto-zeroing plus a digital LMS canceller.", "body": "Details in the attached notes.",
            "team_emails": [maria.email]})
        teams.respond_to_invitation(team, maria, accept=True)
        teams.set_shares(team, james, {james.id: 60, maria.id: 40})
        teams.agree_to_shares(team, maria)
        attachments.add_attachment(team, james, io.BytesIO(_pdf("Auto-zero notes")), "auto-zero.pdf")
        proposals.submit(team, james)
    # A draft, and a withdrawn one.
    if not active_proposal_of(first.id, kenji.id):
        proposals.create_proposal(first, kenji, {"title": "Draft: a lock-in readout", "locale": "ja",
                                                 "abstract": "ロックイン検出による読み出し。", "body": ""})
    if not active_proposal_of(first.id, priya.id):
        withdrawn = proposals.create_proposal(first, priya, {"title": "Correlated sampling variant", "locale": "en"})
        proposals.submit(withdrawn, priya)
        proposals.withdraw(withdrawn, priya)
