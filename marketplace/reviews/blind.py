"""Blind review: pseudonyms, author identities masked in the text, flagged to staff, clean attachments.

Reviewers never see who wrote a proposal. Three layers make that so:
- what the reviewer is given is built here from the version for review only (no author list, no file names);
- author names, e-mail addresses, ORCID iDs and affiliations found in the text are masked for reviewers and
  flagged to staff before the review starts (`identity_flags`), so staff can ask the authors to fix the files too;
- attachments are served under pseudonymous names with PDF/Office/image metadata stripped; a file whose metadata
  cannot be removed is refused, one of a kind that cannot be cleaned (legacy Office, zip) carries a warning.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.audit.services import record
from marketplace.errors import Conflict, NotFound
from marketplace.extensions import db
from marketplace.files.kinds import Kind
from marketplace.files.sanitize import MetadataError, blind_safe, pseudonymous_name, strip_metadata
from marketplace.files.storage import local_copy, storage_for, upload_root
from marketplace.proposals.models import Attachment, Proposal, ProposalVersion
from marketplace.reviews.conflicts.identities import load_directory
from marketplace.reviews.conflicts.service import author_ids
from marketplace.reviews.models import Review

MASK = "[…]"
_PSEUDONYM_ALPHABET = "ACDEFHJKMNPRTUVWXY34679"  # no look-alikes (0/O, 1/I/L, 2/Z, 5/S, 8/B)
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_PARENTHESES = re.compile(r"[(（]([^)）]*)[)）]")
TEXT_FIELDS = ("title", "abstract", "body")


def new_pseudonym(taken: set[str] = frozenset()) -> str:
    """A code like "K7Q-X3M" that says nothing about the proposal or its authors."""
    while True:
        raw = "".join(secrets.choice(_PSEUDONYM_ALPHABET) for _ in range(6))
        code = f"{raw[:3]}-{raw[3:]}"
        if code not in taken:
            return code


@dataclass(frozen=True)
class Marker:
    kind: str  # name | surname | email | orcid | affiliation | domain
    text: str


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def identity_markers(proposal: Proposal) -> list[Marker]:
    """Strings that would identify the proposal's authors, longest first."""
    directory = load_directory(author_ids(proposal))
    found: dict[str, Marker] = {}

    def add(kind: str, text: str | None) -> None:
        text = " ".join((text or "").split())
        if not text:
            return
        is_han = bool(_HAN.search(text))
        if (is_han and len(text) < 2) or (not is_han and len(text) < 4):
            return
        for variant in {text, _strip_accents(text)}:
            found.setdefault(variant.casefold(), Marker(kind, variant))

    for user in directory.users.values():
        name = user.display_name or ""
        add("name", name)
        outside = _PARENTHESES.sub(" ", name).strip()
        add("name", outside)
        for inside in _PARENTHESES.findall(name):
            add("name", inside)
        words = outside.split()
        if len(words) >= 2 and not _HAN.search(outside) and len(words[-1]) >= 4:
            add("surname", words[-1])
        add("email", user.email)
        profile = directory.profile(user.id)
        if profile is not None:
            if profile.orcid:
                add("orcid", profile.orcid)
            add("affiliation", profile.affiliation)
            for entry in profile.affiliation_history or ():
                if entry.get("end") is None:
                    add("affiliation", entry.get("name"))
                    add("domain", entry.get("domain"))
    return sorted(found.values(), key=lambda m: -len(m.text))


def _pattern(markers: list[Marker]) -> re.Pattern | None:
    if not markers:
        return None
    parts = []
    for marker in markers:
        escaped = re.escape(marker.text).replace(r"\ ", r"\s+")
        parts.append(escaped if _HAN.search(marker.text) else rf"(?<!\w){escaped}(?!\w)")
    return re.compile("|".join(parts), re.IGNORECASE)


def mask(text: str, markers: list[Marker]) -> str:
    pattern = _pattern(markers)
    return pattern.sub(MASK, text or "") if pattern else (text or "")


def find_markers(text: str, markers: list[Marker]) -> list[tuple[Marker, str]]:
    """Each marker found in `text`, with a short excerpt around its first occurrence."""
    hits = []
    for marker in markers:
        pattern = _pattern([marker])
        match = pattern.search(text or "") if pattern else None
        if match:
            start, end = max(0, match.start() - 40), min(len(text), match.end() + 40)
            hits.append((marker, ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")))
    return hits


def identity_flags(proposal: Proposal, version: ProposalVersion) -> list[dict]:
    """What staff must know before the review starts: identities found in the text of the version for review."""
    markers = identity_markers(proposal)
    flags = []
    for field in TEXT_FIELDS:
        for marker, excerpt in find_markers(getattr(version, field) or "", markers):
            flags.append({"proposal_id": proposal.id, "field": field, "kind": marker.kind, "found": marker.text,
                          "excerpt": excerpt})
    # Attachments whose metadata cannot be removed are worth a look too.
    for index, attachment in enumerate(version_attachments(version), start=1):
        if not blind_safe(Kind(attachment.kind)):
            flags.append({"proposal_id": proposal.id, "field": f"attachment-{index}", "kind": "unclean_file",
                          "found": attachment.filename, "excerpt": ""})
    return flags


def blind_text(proposal: Proposal, version: ProposalVersion) -> dict[str, str]:
    markers = identity_markers(proposal)
    return {field: mask(getattr(version, field) or "", markers) for field in TEXT_FIELDS}


# --- attachments -----------------------------------------------------------------------------------

def version_attachments(version: ProposalVersion) -> list[Attachment]:
    """The attachments frozen with this version, in their order (still served even if removed later)."""
    ids = [entry["id"] for entry in version.attachments or ()]
    rows = {a.id: a for a in db.session.scalars(select(Attachment).where(Attachment.id.in_(ids)))} if ids else {}
    return [rows[i] for i in ids if i in rows]


def attachment_listing(version: ProposalVersion) -> list[dict]:
    return [{"index": index, "name": pseudonymous_name(Kind(a.kind), index), "size": a.size,
             "blind_safe": blind_safe(Kind(a.kind))}
            for index, a in enumerate(version_attachments(version), start=1)]


@dataclass(frozen=True)
class BlindFile:
    attachment: Attachment
    name: str
    content: bytes | None  # None: the stored file as it is (a kind with nothing to strip, or one we cannot clean)
    warning: bool  # True when the kind may carry author metadata we cannot remove


def blind_file(version: ProposalVersion, index: int) -> BlindFile:
    files = version_attachments(version)
    if not 1 <= index <= len(files):
        raise NotFound(_l("No such attachment."))
    attachment = files[index - 1]
    kind = Kind(attachment.kind)
    try:
        with local_copy(storage_for(current_app.config), attachment.sha256,
                        staging=upload_root(current_app.config) / "tmp") as path:
            cleaned = strip_metadata(path, kind)
    except MetadataError as error:
        raise Conflict(_l("This file cannot be made anonymous, so it is not shown to reviewers. The center's staff "
                          "can ask the authors for a clean copy.")) from error
    content = cleaned if isinstance(cleaned, bytes) else None
    return BlindFile(attachment, pseudonymous_name(kind, index), content, not blind_safe(kind))


def review_version(review: Review) -> ProposalVersion | None:
    """The frozen version the review is about."""
    return db.session.scalar(select(ProposalVersion).where(ProposalVersion.proposal_id == review.proposal_id,
                                                           ProposalVersion.number == review.proposal_version))


def attachment_for_reviewer(review: Review, reviewer, index: int) -> BlindFile:
    """One attachment of the reviewed version, made anonymous; the view and the download are on record."""
    from marketplace.reviews.scoring import open_review

    open_review(review, reviewer, what=f"attachment-{index}")
    version = review_version(review)
    if version is None:
        raise NotFound(_l("No such attachment."))
    file = blind_file(version, index)
    record("review.attachment_downloaded", "review", review.id, actor=reviewer, attachment=file.attachment.id,
           served_as=file.name, metadata_removed=file.content is not None, warning=file.warning)
    return file
