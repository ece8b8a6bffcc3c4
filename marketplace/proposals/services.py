"""Proposal services: create, edit, submit and withdraw, and what is recorded; reading a proposal and its receipt.

The guards (who may act, until when) are in guards.py, the team in teams.py, files in attachments.py.

A submission freezes the working copy into a numbered ProposalVersion. Editing a submitted
proposal changes only the working copy (its unsubmitted changes); each resubmission before the
deadline freezes one new version, with one receipt. Nothing after the deadline is stored as
submitted. Services flush, never commit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from marketplace.audit.services import record
from marketplace.challenges.models import Challenge
from marketplace.db import lock_for_update, utcnow
from marketplace.errors import Conflict, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.mail.services import queue_mail
from marketplace.permissions import visible_or_not_found
from marketplace.proposals.guards import (
    LIMITS,
    active_proposal_of,
    check_content,
    fail,
    require_author,
    require_editable,
    require_lead,
    require_may_take_part,
    require_open_before_deadline,
)
from marketplace.proposals.models import (
    Attachment,
    Proposal,
    ProposalMember,
    ProposalVersion,
)
from marketplace.proposals.teams import check_team_ready, invite_member, resolve_invitees

# --- create and edit -------------------------------------------------------------------------


def create_proposal(challenge: Challenge, user, data: dict) -> Proposal:
    require_open_before_deadline(challenge)
    require_may_take_part(challenge, user)
    check_content({"title": data.get("title", ""), **data})
    if active_proposal_of(challenge.id, user.id):
        raise Conflict(_l("You already have an active proposal for this challenge; edit it or withdraw it first."))
    invitees = resolve_invitees(challenge, user, data.get("team_emails") or [])
    earlier = _earlier_proposal(challenge, user, data.get("from_proposal_id"))
    proposal = Proposal(
        challenge_id=challenge.id,
        stage_id=challenge.current_stage_id,
        previous_proposal_id=earlier.id if earlier else None,
        lead_id=user.id,
        status="draft",
        title=data["title"].strip(),
        abstract=data.get("abstract", "") or (earlier.abstract if earlier else ""),
        body=data.get("body", "") or (earlier.body if earlier else ""),
        locale=data.get("locale") or (earlier.locale if earlier else challenge.default_locale),
    )
    proposal.members.append(ProposalMember(user_id=user.id, email=user.email, role="lead", status="accepted"))
    db.session.add(proposal)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:  # a concurrent create by the same lead
        raise Conflict(
            _l("You already have an active proposal for this challenge; edit it or withdraw it first.")
        ) from error
    if earlier is not None:
        _carry_over(earlier, proposal, user)
    record("proposal.created", "proposal", proposal.id, actor=user, challenge=challenge.id,
           stage=proposal.stage_id, from_proposal=earlier.id if earlier else None)
    for invitee in invitees:
        invite_member(proposal, user, invitee)
    return proposal


def _earlier_proposal(challenge: Challenge, user, proposal_id) -> Proposal | None:
    """The finalist's proposal of the stage before, to start from (`from_proposal_id`); None when not given."""
    if proposal_id is None:
        return None
    earlier = db.session.get(Proposal, proposal_id) if isinstance(proposal_id, int) else None
    current = challenge.current_stage
    if (earlier is None or earlier.challenge_id != challenge.id or not earlier.is_author(user) or current is None
            or earlier.stage.position != current.position - 1 or earlier.advanced_at is None):
        raise fail("from_proposal_id", _l("Start from your own proposal that advanced from the previous stage."))
    return earlier


def _carry_over(earlier: Proposal, proposal: Proposal, lead) -> None:
    """The same team and the same files go on into the next stage."""
    for member in earlier.members:
        if member.status == "accepted" and member.user_id not in (None, lead.id):
            proposal.members.append(ProposalMember(user_id=member.user_id, email=member.email, role="coauthor",
                                                   status="accepted", share_pct=member.share_pct,
                                                   share_agreed=member.share_agreed))
    for file in earlier.attachments:
        db.session.add(Attachment(proposal_id=proposal.id, sha256=file.sha256, size=file.size,
                                  content_type=file.content_type, kind=file.kind, filename=file.filename,
                                  uploaded_by_id=file.uploaded_by_id))
    db.session.flush()


def update_proposal(proposal: Proposal, user, data: dict) -> Proposal:
    require_author(proposal, user)
    require_editable(proposal)
    check_content(data)
    for field in ("title", "abstract", "body", "locale"):
        if field in data and data[field] is not None:
            setattr(proposal, field, data[field].strip() if field == "title" else data[field])
    # After a submission this changes only the working copy: reviewers keep the last version until a resubmit.
    record("proposal.edited", "proposal", proposal.id, actor=user, fields=sorted(k for k in data if k in LIMITS))
    return proposal


# --- submission ------------------------------------------------------------------------------


def submit(proposal: Proposal, user) -> ProposalVersion:
    require_author(proposal, user)
    if not user.email_confirmed:
        raise Forbidden(_l("Confirm your e-mail address before you submit a proposal."))
    lock_for_update(db.session, proposal)  # two submissions at once: the second sees the first
    db.session.refresh(proposal, ["versions", "attachments"])  # ... and its version, so it has no change to resubmit
    if proposal.status == "withdrawn":
        raise Conflict(_l("This proposal was withdrawn."))
    if proposal.status == "submitted" and not proposal.has_unsubmitted_changes:  # a resubmit needs a change
        raise Conflict(_l("This proposal is already submitted; edit it to submit a new version."))
    require_open_before_deadline(proposal.challenge)
    require_may_take_part(proposal.challenge, user)
    problem = proposal.author_conflict()  # a co-author who joined the center or its reviewer pool since
    if problem:
        raise Forbidden(problem)
    check_team_ready(proposal)
    proposal.status = "submitted"
    return _freeze_version(proposal, user)


def discard_changes(proposal: Proposal, user) -> Proposal:
    """The working copy goes back to the last submitted version: its text and its files."""
    require_author(proposal, user)
    require_editable(proposal)
    lock_for_update(db.session, proposal)
    db.session.refresh(proposal, ["versions", "attachments"])
    if not proposal.has_unsubmitted_changes:
        raise Conflict(_l("There are no unsubmitted changes to discard."))
    latest = proposal.latest_version
    proposal.title, proposal.abstract, proposal.body, proposal.locale = (
        latest.title, latest.abstract, latest.body, latest.locale)
    _restore_files(proposal, {f["id"] for f in latest.attachments})
    record("proposal.changes_discarded", "proposal", proposal.id, actor=user, version=latest.number)
    return proposal


def _restore_files(proposal: Proposal, kept_ids: set[int]) -> None:
    """Files added since the version are removed again; files removed since come back (blobs are never deleted)."""
    now = utcnow()
    for attachment in db.session.scalars(select(Attachment).where(Attachment.proposal_id == proposal.id)):
        attachment.removed_at = None if attachment.id in kept_ids else (attachment.removed_at or now)
    db.session.flush()
    db.session.refresh(proposal, ["attachments"])


def _freeze_version(proposal: Proposal, user) -> ProposalVersion:
    now = utcnow()
    number = (
        db.session.scalar(select(func.max(ProposalVersion.number)).where(ProposalVersion.proposal_id == proposal.id))
        or 0
    ) + 1
    version = ProposalVersion(
        proposal_id=proposal.id,
        number=number,
        title=proposal.title,
        abstract=proposal.abstract,
        body=proposal.body,
        locale=proposal.locale,
        submitted_at=now,
        submitted_by_id=user.id,
        attachments=[
            {"id": a.id, "filename": a.filename, "sha256": a.sha256, "size": a.size} for a in proposal.attachments
        ],
    )
    db.session.add(version)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:  # the same submission arrived twice at the same moment
        raise Conflict(_l("This proposal was just submitted by another request.")) from error
    proposal.version, proposal.submitted_at = number, now
    db.session.flush()
    db.session.expire(proposal, ["versions"])  # has_unsubmitted_changes compares with this new version
    digest = content_digest(version)  # hashed once: the audit entry and every receipt quote it
    record(
        "proposal.submitted",
        "proposal",
        proposal.id,
        actor=user,
        version=number,
        content_sha256=digest,
    )
    _send_receipts(proposal, version, digest)
    return version


def content_digest(version: ProposalVersion) -> str:
    digest = hashlib.sha256()
    for part in (version.title, version.abstract, version.body):
        digest.update(part.encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def _send_receipts(proposal: Proposal, version: ProposalVersion, digest: str) -> None:
    for member in proposal.members:
        if member.status != "accepted" or member.user is None:
            continue
        _locale, title = proposal.challenge.localized("title", member.user.locale)
        queue_mail(
            member.email,
            "proposal_receipt",
            locale=member.user.locale,
            user=member.user,
            proposal=proposal,
            version=version,
            challenge_title=title,
            digest=digest,
        )


def withdraw(proposal: Proposal, user) -> Proposal:
    require_lead(proposal, user)
    refusal = proposal.withdraw_refusal()
    if refusal:
        raise Conflict(refusal)
    proposal.status, proposal.withdrawn_at = "withdrawn", utcnow()
    record("proposal.withdrawn", "proposal", proposal.id, actor=user)
    return proposal


def version_for_review(proposal: Proposal) -> ProposalVersion | None:
    """The last version submitted before the deadline: what reviewers see."""
    return db.session.scalar(
        select(ProposalVersion)
        .where(ProposalVersion.proposal_id == proposal.id, ProposalVersion.submitted_at <= proposal.stage.deadline)
        .order_by(ProposalVersion.number.desc())
        .limit(1)
    )


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """What proves a submission: the version, its time, the SHA-256 of its text and of each file."""

    proposal: Proposal
    version: ProposalVersion
    digest: str

    @property
    def submitted_at_utc(self) -> str:
        return self.version.submitted_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def receipt_of(proposal: Proposal | None, user) -> Receipt:
    """The receipt of the latest submitted version, for the proposal's authors alone.

    Anyone else (the center's staff too: they have the proposal, not the authors' receipt) and a
    proposal never submitted get 404. The same digest as the receipt mail and the audit entry.
    """
    if proposal is None or not proposal.is_author(user):
        raise NotFound(_l("No such proposal."))
    version = max(proposal.versions, key=lambda v: v.number, default=None)
    if version is None:
        raise NotFound(_l("This proposal has not been submitted yet, so it has no receipt."))
    return Receipt(proposal, version, content_digest(version))



def get_visible(proposal_id: int, user) -> Proposal:
    return visible_or_not_found(Proposal, proposal_id, user, _l("No such proposal."))


# What proposal lists show (authors, files, the challenge's titles), loaded in a fixed number of queries.
LIST_LOADING = (
    selectinload(Proposal.challenge).selectinload(Challenge.texts),
    selectinload(Proposal.members).selectinload(ProposalMember.user),
    selectinload(Proposal.attachments),
    selectinload(Proposal.versions),  # the staff see the last submitted version (proposals.content)
)


def proposals_of(user):
    """A select of the proposals the user leads or co-authors (accepted or invited).

    One UNION of two index lookups (proposals.lead_id, proposal_members.user_id): written as
    `lead_id = ? OR id IN (...)` PostgreSQL walked the whole primary key instead (34 ms at 200k).
    """
    member_of = select(ProposalMember.proposal_id).where(
        ProposalMember.user_id == user.id, ProposalMember.status.in_(("accepted", "invited"))
    )
    mine = select(Proposal.id).where(Proposal.lead_id == user.id).union(member_of)
    return (
        select(Proposal)
        .where(Proposal.id.in_(mine))
        .options(*LIST_LOADING)
        .order_by(Proposal.id.desc())
    )
