from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.api import RowId
from marketplace.proposals.content import content_for


class ProposalIn(ma.Schema):
    title = ma.fields.String(required=True, validate=validate.Length(min=1, max=300))
    abstract = ma.fields.String(load_default="", validate=validate.Length(max=5000))
    body = ma.fields.String(load_default="", validate=validate.Length(max=200_000))
    locale = ma.fields.String(load_default=None, validate=validate.Length(max=16))
    team_emails = ma.fields.List(ma.fields.String(validate=validate.Length(max=254)), load_default=list,
                                 validate=validate.Length(max=10))
    # In a later stage: the finalist's proposal of the stage before, whose text, team and files carry over.
    from_proposal_id = RowId(load_default=None, allow_none=True)


class ProposalPatchIn(ma.Schema):
    title = ma.fields.String(validate=validate.Length(min=1, max=300))
    abstract = ma.fields.String(validate=validate.Length(max=5000))
    body = ma.fields.String(validate=validate.Length(max=200_000))
    locale = ma.fields.String(validate=validate.Length(max=16))


class InviteIn(ma.Schema):
    email = ma.fields.String(required=True, validate=validate.Length(max=254))


class InvitationAnswerIn(ma.Schema):
    accept = ma.fields.Boolean(required=True)


class SharesIn(ma.Schema):
    shares = ma.fields.Dict(keys=RowId(strict=False), values=ma.fields.Decimal(allow_nan=False), required=True)


class ReceiptFileOut(ma.Schema):
    filename = ma.fields.String(required=True)
    size = ma.fields.Integer(required=True)
    sha256 = ma.fields.String(required=True)


class ReceiptOut(ma.Schema):
    """The submission receipt of the latest submitted version (the proposal's authors only)."""

    proposal_id = ma.fields.Integer(required=True)
    challenge_id = ma.fields.Integer(required=True)
    version = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    submitted_at = ma.fields.String(required=True, metadata={"description": "ISO 8601, UTC"})
    submitted_at_local = ma.fields.String(required=True, metadata={
        "description": "ISO 8601 in the caller's time zone (see `timezone`)"})
    timezone = ma.fields.String(required=True, metadata={"description": "the caller's IANA time zone"})
    content_sha256 = ma.fields.String(required=True, metadata={
        "description": "SHA-256 of the version's title, abstract and body (as in the receipt mail and the audit log)"})
    attachments = ma.fields.List(ma.fields.Nested(ReceiptFileOut), required=True)


def receipt_json(receipt, timezone: str) -> dict:
    """`timezone` names the caller's zone; the local time is converted with Flask-Babel's zone for the request."""
    from datetime import UTC

    from flask_babel import get_timezone

    submitted = receipt.version.submitted_at.astimezone(UTC)
    return {
        "proposal_id": receipt.proposal.id, "challenge_id": receipt.proposal.challenge_id,
        "version": receipt.version.number, "title": receipt.version.title,
        "submitted_at": submitted.isoformat(), "submitted_at_local": submitted.astimezone(get_timezone()).isoformat(),
        "timezone": timezone, "content_sha256": receipt.digest,
        "attachments": [{"filename": f["filename"], "size": f["size"], "sha256": f["sha256"]}
                        for f in receipt.version.attachments],
    }


def attachment_json(attachment) -> dict:
    return {"id": attachment.id, "filename": attachment.filename, "size": attachment.size,
            "sha256": attachment.sha256, "content_type": attachment.content_type}


def proposal_json(proposal, viewer) -> dict:
    """Authors get the working copy and `has_unsubmitted_changes`; the staff the last submitted version (and null)."""
    staff_only = proposal.challenge.is_staff(viewer) and not proposal.is_author(viewer)
    shown = content_for(proposal, viewer)
    return {
        "id": proposal.id,
        "challenge_id": proposal.challenge_id,
        "stage_id": proposal.stage_id,
        "previous_proposal_id": proposal.previous_proposal_id,
        "advanced": proposal.advanced_at is not None,
        "status": proposal.status,
        "version": proposal.version,
        "title": shown.title,
        "abstract": shown.abstract,
        "body": shown.body,
        "locale": shown.locale,
        "submitted_at": proposal.submitted_at.isoformat() if proposal.submitted_at else None,
        "has_unsubmitted_changes": shown.has_unsubmitted_changes(proposal),
        "authors": [{"user_id": m.user_id, "display_name": m.user.display_name if m.user else None,
                     "email": None if staff_only else m.email, "role": m.role, "status": m.status,
                     "share_pct": str(m.share_pct) if m.share_pct is not None else None,
                     "share_agreed": m.share_agreed} for m in proposal.members],
        "attachments": [attachment_json(a) for a in shown.attachments],
    }


def version_json(version) -> dict:
    return {"number": version.number, "title": version.title, "abstract": version.abstract, "body": version.body,
            "locale": version.locale, "attachments": version.attachments,
            "submitted_at": version.submitted_at.isoformat()}
