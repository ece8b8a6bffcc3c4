"""What a viewer sees of a proposal: its authors the working copy, the center's staff the last submitted version.

After a submission an author's saves change only the working copy (see Proposal.has_unsubmitted_changes);
the page, the API and the staff's lists ask `content_for`, so the staff never see a change before it is resubmitted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.proposals.models import Attachment, Proposal


@dataclass(frozen=True)
class ShownContent:
    title: str
    abstract: str
    body: str
    locale: str
    attachments: list[Attachment]
    working_copy: bool  # True: the authors' working copy; False: the last submitted version

    def has_unsubmitted_changes(self, proposal: Proposal) -> bool | None:
        """The authors learn whether they have unsubmitted changes; anyone else gets None (not theirs to know)."""
        return proposal.has_unsubmitted_changes if self.working_copy else None


def _sees_working_copy(proposal: Proposal, viewer) -> bool:
    return proposal.is_author(viewer) or bool(viewer and viewer.is_authenticated and proposal.is_invited(viewer))


def content_for(proposal: Proposal, viewer) -> ShownContent:
    sees_working_copy = _sees_working_copy(proposal, viewer)
    latest = proposal.latest_version
    if sees_working_copy or latest is None:
        return ShownContent(proposal.title, proposal.abstract, proposal.body, proposal.locale,
                            list(proposal.attachments), True)
    return ShownContent(latest.title, latest.abstract, latest.body, latest.locale,
                        _files_of(proposal, [f["id"] for f in latest.attachments]), False)


def _files_of(proposal: Proposal, ids: list[int]) -> list[Attachment]:
    """The version's files; without unsubmitted file changes they are the loaded ones (no query in lists)."""
    if sorted(ids) == sorted(a.id for a in proposal.attachments):
        return list(proposal.attachments)
    if not ids:
        return []
    return list(db.session.scalars(select(Attachment).where(Attachment.proposal_id == proposal.id,
                                                            Attachment.id.in_(ids)).order_by(Attachment.id)))


def may_download(proposal: Proposal, viewer, attachment_id: int) -> bool:
    """A viewer of the proposal downloads its files; a file never submitted stays with the authors."""
    if _sees_working_copy(proposal, viewer):
        return True
    return any(f["id"] == attachment_id for version in proposal.versions for f in version.attachments)
