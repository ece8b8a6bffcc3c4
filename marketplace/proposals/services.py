"""Proposal rules: who may create, edit, submit and withdraw, until when, and what is recorded.

A submission freezes the working copy into a numbered ProposalVersion. Editing a submitted
proposal changes only the working copy (its unsubmitted changes); each resubmission before the
deadline freezes one new version, with one receipt. Nothing after the deadline is stored as
submitted. Services flush, never commit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import User, user_by_email
from marketplace.audit.services import record
from marketplace.challenges import agreements
from marketplace.challenges.models import Challenge
from marketplace.challenges.services import close_if_due
from marketplace.content_locales import is_content_locale
from marketplace.db import lock_for_update, utcnow
from marketplace.errors import Conflict, Forbidden, NotFound, PayloadTooLarge, ValidationFailed
from marketplace.extensions import db
from marketplace.mail.services import queue_mail, register_subject
from marketplace.proposals.content import may_download
from marketplace.proposals.models import (
    Attachment,
    Proposal,
    ProposalMember,
    ProposalVersion,
    proposal_window_refusal,
)

register_subject("proposal_receipt", lambda: str(_l("Your proposal was received")))
register_subject("team_invitation", lambda: str(_l("You are invited to join a proposal team")))

MAX_TEAM = 10
LIMITS = {"title": 300, "abstract": 5000, "body": 200_000}
ACTIVE = ("draft", "submitted")


def _fail(field: str, message) -> ValidationFailed:
    return ValidationFailed(message, errors={field: [message]})


# --- guards ---------------------------------------------------------------------------------


def _require_open_before_deadline(challenge: Challenge) -> None:
    close_if_due(challenge)
    refusal = proposal_window_refusal(challenge)
    if refusal:
        raise Conflict(refusal)


def _require_editable(proposal: Proposal) -> None:
    """Content, files and team change only while `Proposal.is_editable` (the page asks the same rule)."""
    close_if_due(proposal.challenge)
    refusal = proposal.edit_refusal()
    if refusal:
        raise Conflict(refusal)


def _require_may_take_part(challenge: Challenge, user) -> None:
    problem = challenge.participation_refusal(user)
    if problem:
        raise Forbidden(problem)
    if not agreements.has_accepted(challenge, user):
        raise Forbidden(
            _l("Accept the challenge agreement (version %(version)s) first.", version=challenge.agreement_version)
        )


def _require_author(proposal: Proposal, user) -> None:
    if not proposal.is_author(user):
        raise NotFound(_l("No such proposal."))


def _require_lead(proposal: Proposal, user) -> None:
    _require_author(proposal, user)
    if proposal.lead_id != user.id:
        raise Forbidden(_l("Only the team lead can do this."))


def _check_content(data: dict) -> None:
    for field, limit in LIMITS.items():
        if field in data and len(data[field] or "") > limit:
            raise _fail(field, _l("Use at most %(n)d characters.", n=limit))
    if "title" in data and not (data["title"] or "").strip():
        raise _fail("title", _l("Give your proposal a title."))
    if data.get("locale") is not None and not is_content_locale(data["locale"]):
        raise _fail("locale", _l("Unknown locale."))


def active_proposal_of(challenge_id: int, user_id: int) -> Proposal | None:
    """The active proposal the user leads or belongs to in this challenge's current stage."""
    current_stage = select(Challenge.current_stage_id).where(Challenge.id == challenge_id).scalar_subquery()
    led = db.session.scalar(
        select(Proposal).where(
            Proposal.challenge_id == challenge_id, Proposal.stage_id == current_stage, Proposal.lead_id == user_id,
            Proposal.status.in_(ACTIVE)
        )
    )
    if led:
        return led
    return db.session.scalar(
        select(Proposal)
        .join(ProposalMember)
        .where(
            Proposal.challenge_id == challenge_id,
            Proposal.stage_id == current_stage,
            Proposal.status.in_(ACTIVE),
            ProposalMember.user_id == user_id,
            ProposalMember.status == "accepted",
        )
    )


# --- create and edit -------------------------------------------------------------------------


def create_proposal(challenge: Challenge, user, data: dict) -> Proposal:
    _require_open_before_deadline(challenge)
    _require_may_take_part(challenge, user)
    _check_content({"title": data.get("title", ""), **data})
    if active_proposal_of(challenge.id, user.id):
        raise Conflict(_l("You already have an active proposal for this challenge; edit it or withdraw it first."))
    invitees = _resolve_invitees(challenge, user, data.get("team_emails") or [])
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
        _invite(proposal, user, invitee)
    return proposal


def _earlier_proposal(challenge: Challenge, user, proposal_id) -> Proposal | None:
    """The finalist's proposal of the stage before, to start from (`from_proposal_id`); None when not given."""
    if proposal_id is None:
        return None
    earlier = db.session.get(Proposal, proposal_id) if isinstance(proposal_id, int) else None
    current = challenge.current_stage
    if (earlier is None or earlier.challenge_id != challenge.id or not earlier.is_author(user) or current is None
            or earlier.stage.position != current.position - 1 or earlier.advanced_at is None):
        raise _fail("from_proposal_id", _l("Start from your own proposal that advanced from the previous stage."))
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
    _require_author(proposal, user)
    _require_editable(proposal)
    _check_content(data)
    for field in ("title", "abstract", "body", "locale"):
        if field in data and data[field] is not None:
            setattr(proposal, field, data[field].strip() if field == "title" else data[field])
    # After a submission this changes only the working copy: reviewers keep the last version until a resubmit.
    record("proposal.edited", "proposal", proposal.id, actor=user, fields=sorted(k for k in data if k in LIMITS))
    return proposal


# --- submission ------------------------------------------------------------------------------


def submit(proposal: Proposal, user) -> ProposalVersion:
    _require_author(proposal, user)
    if not user.email_confirmed:
        raise Forbidden(_l("Confirm your e-mail address before you submit a proposal."))
    lock_for_update(db.session, proposal)  # two submissions at once: the second sees the first
    db.session.refresh(proposal, ["versions", "attachments"])  # ... and its version, so it has no change to resubmit
    if proposal.status == "withdrawn":
        raise Conflict(_l("This proposal was withdrawn."))
    if proposal.status == "submitted" and not proposal.has_unsubmitted_changes:  # a resubmit needs a change
        raise Conflict(_l("This proposal is already submitted; edit it to submit a new version."))
    _require_open_before_deadline(proposal.challenge)
    _require_may_take_part(proposal.challenge, user)
    problem = proposal.author_conflict()  # a co-author who joined the center or its reviewer pool since
    if problem:
        raise Forbidden(problem)
    _check_team_ready(proposal)
    proposal.status = "submitted"
    return _freeze_version(proposal, user)


def discard_changes(proposal: Proposal, user) -> Proposal:
    """The working copy goes back to the last submitted version: its text and its files."""
    _require_author(proposal, user)
    _require_editable(proposal)
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
    _require_lead(proposal, user)
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


# --- teams -------------------------------------------------------------------------------------


def _resolve_invitees(challenge: Challenge, lead, emails: list[str]) -> list[User]:
    if len(emails) > MAX_TEAM:
        raise _fail("team_emails", _l("A team has at most %(n)d co-authors.", n=MAX_TEAM))
    users = []
    for email in dict.fromkeys(e.strip().lower() for e in emails if e and e.strip()):
        user = user_by_email(email)
        if user is None:
            raise _fail(
                "team_emails", _l("No InnoBridge account uses %(email)s; ask them to register first.", email=email)
            )
        if user.id == lead.id:
            continue
        problem = challenge.participation_refusal(user)
        if problem:
            raise _fail("team_emails", problem)
        users.append(user)
    return users


def _invite(proposal: Proposal, lead, invitee: User) -> ProposalMember:
    if len(proposal.members) > MAX_TEAM:
        raise _fail("email", _l("A team has at most %(n)d co-authors.", n=MAX_TEAM))
    if any(m.email == invitee.email for m in proposal.members):
        raise Conflict(_l("%(email)s is already on this team.", email=invitee.email))
    member = ProposalMember(user_id=invitee.id, email=invitee.email, role="coauthor", status="invited")
    proposal.members.append(member)
    db.session.flush()
    record("proposal.member_invited", "proposal", proposal.id, actor=lead, member=invitee.id)
    _locale, title = proposal.challenge.localized("title", invitee.locale)
    link = current_app.config["PUBLIC_URL"].rstrip("/") + f"/proposals/{proposal.id}"
    queue_mail(
        invitee.email,
        "team_invitation",
        locale=invitee.locale,
        user=invitee,
        lead=lead,
        challenge_title=title,
        proposal=proposal,
        link=link,
    )
    return member


def invite(proposal: Proposal, lead, email: str) -> ProposalMember:
    _require_lead(proposal, lead)
    _require_editable(proposal)
    invitees = _resolve_invitees(proposal.challenge, lead, [email])
    if not invitees:
        raise _fail("email", _l("You lead this proposal already."))
    return _invite(proposal, lead, invitees[0])


def respond_to_invitation(proposal: Proposal, user, *, accept: bool) -> ProposalMember:
    member = next((m for m in proposal.members if m.user_id == user.id and m.status == "invited"), None)
    if member is None:
        raise NotFound(_l("No such invitation."))
    if accept:
        _require_may_take_part(proposal.challenge, user)
        other = active_proposal_of(proposal.challenge_id, user.id)
        if other and other.id != proposal.id:
            raise Conflict(_l("You are already on another active proposal for this challenge."))
    member.status = "accepted" if accept else "declined"
    _reset_share_agreement(proposal)
    record("proposal.invitation_" + member.status, "proposal", proposal.id, actor=user)
    return member


def _reset_share_agreement(proposal: Proposal) -> None:
    for member in proposal.members:
        member.share_agreed = False


def set_shares(proposal: Proposal, lead, shares: dict[int, object]) -> Proposal:
    """The lead proposes award shares (percent) for the accepted members; each must agree again."""
    from decimal import Decimal, InvalidOperation

    _require_lead(proposal, lead)
    accepted = {m.user_id: m for m in proposal.members if m.status == "accepted"}
    if set(shares) != set(accepted):
        raise _fail("shares", _l("Give a share for every accepted team member, and only for them."))
    try:
        values = {uid: Decimal(str(pct)) for uid, pct in shares.items()}
    except InvalidOperation as error:
        raise _fail("shares", _l("Shares are percentages.")) from error
    if any(not v.is_finite() or v <= 0 or v > 100 or v != v.quantize(Decimal("0.01")) for v in values.values()):
        raise _fail("shares", _l("Each share lies between 0.01 and 100."))
    if sum(values.values()) != 100:
        raise _fail("shares", _l("The shares must add up to 100."))
    for uid, value in values.items():
        accepted[uid].share_pct = value
    _reset_share_agreement(proposal)
    accepted[lead.id].share_agreed = True
    record(
        "proposal.shares_proposed",
        "proposal",
        proposal.id,
        actor=lead,
        shares={str(k): str(v) for k, v in values.items()},
    )
    return proposal


def agree_to_shares(proposal: Proposal, user) -> ProposalMember:
    _require_author(proposal, user)
    member = next(m for m in proposal.members if m.user_id == user.id)
    if member.share_pct is None:
        raise Conflict(_l("The lead has not proposed shares yet."))
    member.share_agreed = True
    record("proposal.shares_agreed", "proposal", proposal.id, actor=user, share=str(member.share_pct))
    return member


def _check_team_ready(proposal: Proposal) -> None:
    accepted = [m for m in proposal.members if m.status == "accepted"]
    if len(accepted) > 1 and not all(m.share_agreed and m.share_pct is not None for m in accepted):
        raise Conflict(_l("Every team member must agree to the award shares before the team submits."))


def shares(proposal: Proposal) -> dict[int, object]:
    """Award shares by user id: the agreed split, or 100 % for a solver alone."""
    from decimal import Decimal

    accepted = [m for m in proposal.members if m.status == "accepted"]
    if len(accepted) == 1:
        return {accepted[0].user_id: Decimal(100)}
    return {m.user_id: m.share_pct for m in accepted}


# --- attachments ----------------------------------------------------------------------------------


def attachment_room(proposal: Proposal) -> int:
    """The bytes one more attachment may take: the one home of the per-proposal caps.

    MAX_ATTACHMENTS_PER_PROPOSAL (409 when reached) and MAX_PROPOSAL_BYTES (413 when the
    attachments together would pass it). The proposal row is locked, so concurrent uploads
    are counted one after the other.
    """
    lock_for_update(db.session, proposal)
    db.session.refresh(proposal, ["attachments"])
    limit = current_app.config["MAX_ATTACHMENTS_PER_PROPOSAL"]
    if len(proposal.attachments) >= limit:
        raise Conflict(_l("This proposal already has the maximum number of attachments (%(count)s). Remove one "
                          "before adding another.", count=limit))
    room = current_app.config["MAX_PROPOSAL_BYTES"] - sum(a.size for a in proposal.attachments)
    if room <= 0:
        raise _proposal_too_large()
    return room


def _proposal_too_large() -> PayloadTooLarge:
    limit = current_app.config["MAX_PROPOSAL_BYTES"]
    message = _l("The attachments of a proposal may take at most %(size)s MB together. Remove a file first or "
                 "send a smaller one.", size=f"{limit / 1_000_000:g}")
    return PayloadTooLarge(message, errors={"file": [message]})


def add_attachment(proposal: Proposal, user, stream, filename: str) -> Attachment:
    from marketplace.files.storage import FileTooLarge, storage_for, store_upload, upload_root

    _require_author(proposal, user)
    _require_editable(proposal)
    room = attachment_room(proposal)
    try:
        stored = store_upload(
            stream,
            original_name=filename or "file",
            max_bytes=min(current_app.config["MAX_UPLOAD_BYTES"], room),
            root=upload_root(current_app.config),
            storage=storage_for(current_app.config),
        )
    except FileTooLarge as error:
        if room < current_app.config["MAX_UPLOAD_BYTES"]:
            raise _proposal_too_large() from error
        raise
    attachment = Attachment(
        proposal_id=proposal.id,
        sha256=stored.sha256,
        size=stored.size,
        content_type=stored.content_type,
        kind=str(stored.kind),
        filename=stored.original_name,
        uploaded_by_id=user.id,
    )
    db.session.add(attachment)
    db.session.flush()
    db.session.refresh(proposal, ["attachments"])
    record(
        "proposal.attachment_added",
        "proposal",
        proposal.id,
        actor=user,
        attachment=attachment.id,
        sha256=stored.sha256,
        size=stored.size,
    )
    return attachment


def remove_attachment(proposal: Proposal, user, attachment_id: int) -> None:
    _require_author(proposal, user)
    _require_editable(proposal)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.proposal_id != proposal.id or attachment.removed_at:
        raise NotFound(_l("No such attachment."))
    attachment.removed_at = utcnow()
    db.session.flush()
    db.session.refresh(proposal, ["attachments"])
    record("proposal.attachment_removed", "proposal", proposal.id, actor=user, attachment=attachment.id)


def attachment_for_download(attachment_id: int, user) -> Attachment:
    """Authors and the challenge's staff download through the app; everyone else gets 404."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound(_l("No such attachment."))
    proposal = db.session.get(Proposal, attachment.proposal_id)
    if not proposal.can_view(user) or not may_download(proposal, user, attachment.id):
        raise NotFound(_l("No such attachment."))
    record("proposal.attachment_downloaded", "proposal", proposal.id, actor=user, attachment=attachment.id)
    return attachment


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
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or not proposal.can_view(user):
        raise NotFound(_l("No such proposal."))
    return proposal


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
