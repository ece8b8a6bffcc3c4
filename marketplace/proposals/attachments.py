"""A proposal's files: the per-proposal caps, adding and removing a file, and the download check.

The bytes are stored by marketplace.files (content-addressed, sanitized); this module keeps the
rows and the audit trail. Services flush, never commit.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from marketplace.audit.services import record, record_read
from marketplace.db import lock_for_update, utcnow
from marketplace.errors import Conflict, NotFound, PayloadTooLarge
from marketplace.extensions import db
from marketplace.proposals.content import may_download
from marketplace.proposals.guards import require_author, require_editable
from marketplace.proposals.models import Attachment, Proposal


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

    require_author(proposal, user)
    require_editable(proposal)
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
    require_author(proposal, user)
    require_editable(proposal)
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
    record_read("proposal.attachment_downloaded", "proposal", proposal.id, actor=user, attachment=attachment.id)
    return attachment
