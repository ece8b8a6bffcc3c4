"""Solvers' exclusions: up to three people an author asks never to review their proposal.

An exclusion is one input of the conflict rules (`rules.DECLARED_BY_SOLVER`); it may be added or removed only
while the challenge is open or closed, before reviewers are assigned.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import User, user_by_email
from marketplace.audit.services import record
from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.proposals.models import Proposal
from marketplace.reviews.conflicts.rules import MAX_SOLVER_EXCLUSIONS
from marketplace.reviews.conflicts.service import author_ids
from marketplace.reviews.models import SolverExclusion

EXCLUSION_STATES = ("open", "closed")  # once reviewers are assigned, an exclusion would come too late


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
    if len(existing) >= MAX_SOLVER_EXCLUSIONS:
        raise _fail(_l("You may exclude at most %(n)d people.", n=MAX_SOLVER_EXCLUSIONS))
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
