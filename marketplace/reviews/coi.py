"""Conflicts of interest of a challenge, from the database, with their reason codes; solvers' exclusions.

The rules themselves live in `conflicts.py` (pure); this module gathers the people (`people.py`), the declared
conflicts and the solvers' exclusions, and returns every conflicting (proposal, reviewer) pair with its reasons.
Every conflict is a hard constraint of the assignment; staff see the reason codes on the pool page.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import User, user_by_email
from marketplace.audit.services import record
from marketplace.challenges.models import Challenge
from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.proposals.models import Proposal
from marketplace.reviews import conflicts
from marketplace.reviews.access import settings_of
from marketplace.reviews.models import ConflictOfInterest, SolverExclusion
from marketplace.reviews.people import Directory, load_directory

# Reason codes as staff read them.
REASON_LABELS = {
    conflicts.SAME_PERSON: _l("Same person as an author"),
    conflicts.SAME_TEAM: _l("Member of the proposal's team"),
    conflicts.SOLVER_IN_CHALLENGE: _l("Solver in this challenge"),
    conflicts.SAME_ORGANIZATION: _l("Same organization as an author (now or in the last 12 months)"),
    conflicts.SAME_EMAIL_DOMAIN: _l("Same e-mail domain as an author"),
    conflicts.COAUTHOR: _l("Co-author of an author in the last 48 months"),
    conflicts.ADVISOR: _l("Advisor or advisee of an author"),
    conflicts.DECLARED_BY_REVIEWER: _l("Declared by the reviewer"),
    conflicts.DECLARED_BY_SOLVER: _l("Excluded by the solver"),
    conflicts.SAME_COUNTRY: _l("Same country as an author (rule of this challenge)"),
}
EXCLUSION_STATES = ("open", "closed")  # once reviewers are assigned, an exclusion would come too late


def reason_label(code: str) -> str:
    return str(REASON_LABELS.get(code, code))


def author_ids(proposal: Proposal) -> set[int]:
    """Everyone on the proposal: the lead, members who accepted, and members still invited (to be safe)."""
    return {proposal.lead_id} | {m.user_id for m in proposal.members
                                 if m.user_id is not None and m.status in ("accepted", "invited")}


def challenge_conflicts(challenge: Challenge, reviewer_ids: Iterable[int], *,
                        proposal_ids: Iterable[int] | None = None,
                        directory: Directory | None = None) -> dict[tuple[int, int], tuple[str, ...]]:
    """{(proposal_id, reviewer_id): sorted reason codes} for the challenge's proposals (or those given)."""
    reviewer_ids = sorted(set(reviewer_ids))
    proposals = list(db.session.scalars(select(Proposal).where(Proposal.challenge_id == challenge.id)
                                        .order_by(Proposal.id)))
    wanted = set(proposal_ids) if proposal_ids is not None else {p.id for p in proposals}
    if not reviewer_ids or not wanted:
        return {}
    authors = {p.id: author_ids(p) for p in proposals}
    needed = set(reviewer_ids).union(*authors.values())
    if directory is None:
        directory = load_directory(needed)
    elif missing := needed - directory.users.keys():  # e.g. authors of drafts and withdrawn proposals
        extra = load_directory(missing)
        directory = Directory({**directory.users, **extra.users}, {**directory.profiles, **extra.profiles})
    teams: dict[int, set[str]] = defaultdict(set)
    for pid, uids in authors.items():
        for uid in uids:
            teams[uid].add(f"proposal:{pid}")

    exclusions: dict[int, set[str]] = defaultdict(set)
    for row in db.session.scalars(select(SolverExclusion).join(Proposal, Proposal.id == SolverExclusion.proposal_id)
                                  .where(Proposal.challenge_id == challenge.id)):
        exclusions[row.proposal_id].add(f"user:{row.excluded_user_id}")

    # Every proposal goes in, drafts and withdrawn ones too: their solvers may review none of the challenge.
    parties = [conflicts.ProposalParties(
        proposal_id=p.id, team=f"proposal:{p.id}", excluded_by_solver=frozenset(exclusions[p.id]),
        authors=tuple(directory.person(uid, teams=teams[uid]) for uid in sorted(authors[p.id])
                      if uid in directory.users)) for p in proposals]
    reviewers = [(rid, directory.person(rid, teams=teams.get(rid, ()))) for rid in reviewer_ids
                 if rid in directory.users]
    policy = conflicts.ConflictPolicy(today=dt.date.today(), same_country=settings_of(challenge).exclude_same_country)
    found = conflicts.find_conflicts(reviewers, parties, policy, declared_by_reviewers=declared_pairs(
        challenge, [p.id for p in proposals]))
    return {pair: reasons for pair, reasons in found.items() if pair[0] in wanted}


def declared_pairs(challenge: Challenge, proposal_ids: list[int]) -> set[tuple[int, int]]:
    """(reviewer_id, proposal_id) of every conflict a reviewer declared; a whole-challenge one covers all."""
    pairs: set[tuple[int, int]] = set()
    for row in db.session.scalars(select(ConflictOfInterest).where(
            ConflictOfInterest.challenge_id == challenge.id, ConflictOfInterest.declared_by == "reviewer")):
        if row.proposal_id is None:
            pairs.update((row.reviewer_id, pid) for pid in proposal_ids)
        else:
            pairs.add((row.reviewer_id, row.proposal_id))
    return pairs


# --- solvers' exclusions --------------------------------------------------------------------------

def _require_author(proposal: Proposal, user) -> None:
    if not proposal.is_author(user):
        raise NotFound(_l("No such proposal."))


def exclusions_of(proposal: Proposal, user) -> list[SolverExclusion]:
    _require_author(proposal, user)
    return list(db.session.scalars(select(SolverExclusion).where(SolverExclusion.proposal_id == proposal.id)
                                   .order_by(SolverExclusion.id)))


def _fail(message) -> ValidationFailed:
    return ValidationFailed(message, errors={"user_id": [message]})


def add_exclusion(proposal: Proposal, actor, *, user_id: int | None = None, email: str | None = None,
                  reason: str = "") -> SolverExclusion:
    """An author asks that a person (by account id or e-mail) never reviews this proposal; at most three."""
    _require_author(proposal, actor)
    if proposal.status == "withdrawn":
        raise Conflict(_l("This proposal was withdrawn."))
    if proposal.challenge.status not in EXCLUSION_STATES:
        raise Conflict(_l("Reviewers are being assigned or have been assigned; exclusions are closed. Tell the "
                          "center's staff if a reviewer has a conflict with you."))
    person = db.session.get(User, user_id) if user_id is not None else user_by_email(email or "")
    if person is None:
        raise _fail(_l("No InnoBridge account matches; name the person by their account e-mail."))
    if person.id in author_ids(proposal):
        raise _fail(_l("You cannot exclude a member of your own team."))
    existing = exclusions_of(proposal, actor)
    if any(row.excluded_user_id == person.id for row in existing):
        raise Conflict(_l("This person is already excluded."))
    if len(existing) >= conflicts.MAX_SOLVER_EXCLUSIONS:
        raise _fail(_l("You may exclude at most %(n)d people.", n=conflicts.MAX_SOLVER_EXCLUSIONS))
    row = SolverExclusion(proposal_id=proposal.id, excluded_user_id=person.id, reason=(reason or "").strip()[:2000])
    db.session.add(row)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        raise Conflict(_l("This person is already excluded.")) from error
    # Only ids in the audit log: whom a solver excluded is sensitive.
    record("proposal.reviewer_excluded", "proposal", proposal.id, actor=actor, excluded=person.id)
    return row


def remove_exclusion(proposal: Proposal, actor, exclusion_id: int) -> None:
    _require_author(proposal, actor)
    if proposal.challenge.status not in EXCLUSION_STATES:
        raise Conflict(_l("Reviewers are being assigned or have been assigned; exclusions are closed."))
    row = db.session.get(SolverExclusion, exclusion_id)
    if row is None or row.proposal_id != proposal.id:
        raise NotFound(_l("No such exclusion."))
    db.session.delete(row)
    record("proposal.reviewer_exclusion_removed", "proposal", proposal.id, actor=actor, excluded=row.excluded_user_id)
