from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.api import RowId


class ProposalIn(ma.Schema):
    title = ma.fields.String(required=True, validate=validate.Length(min=1, max=300))
    abstract = ma.fields.String(load_default="", validate=validate.Length(max=5000))
    body = ma.fields.String(load_default="", validate=validate.Length(max=200_000))
    locale = ma.fields.String(load_default=None, validate=validate.Length(max=16))
    team_emails = ma.fields.List(ma.fields.String(validate=validate.Length(max=254)), load_default=list,
                                 validate=validate.Length(max=10))


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


def attachment_json(attachment) -> dict:
    return {"id": attachment.id, "filename": attachment.filename, "size": attachment.size,
            "sha256": attachment.sha256, "content_type": attachment.content_type}


def proposal_json(proposal, viewer) -> dict:
    staff_only = proposal.challenge.is_staff(viewer) and not proposal.is_author(viewer)
    return {
        "id": proposal.id,
        "challenge_id": proposal.challenge_id,
        "status": proposal.status,
        "version": proposal.version,
        "title": proposal.title,
        "abstract": proposal.abstract,
        "body": proposal.body,
        "locale": proposal.locale,
        "submitted_at": proposal.submitted_at.isoformat() if proposal.submitted_at else None,
        "authors": [{"user_id": m.user_id, "display_name": m.user.display_name if m.user else None,
                     "email": None if staff_only else m.email, "role": m.role, "status": m.status,
                     "share_pct": str(m.share_pct) if m.share_pct is not None else None,
                     "share_agreed": m.share_agreed} for m in proposal.members],
        "attachments": [attachment_json(a) for a in proposal.attachments],
    }


def version_json(version) -> dict:
    return {"number": version.number, "title": version.title, "abstract": version.abstract, "body": version.body,
            "locale": version.locale, "attachments": version.attachments,
            "submitted_at": version.submitted_at.isoformat()}
