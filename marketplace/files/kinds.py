"""The vocabulary of accepted files: the kinds on the allow-list, their names and content types, the
limits for archives, and the errors a refused file raises (filetypes.py and archives.py decide)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from flask_babel import lazy_gettext as _l

from marketplace.errors import ValidationFailed

MiB = 1024 * 1024
CHUNK = 64 * 1024


class Kind(StrEnum):
    PDF = "pdf"
    PNG = "png"
    JPEG = "jpeg"
    GIF = "gif"
    WEBP = "webp"
    DOCX = "docx"
    XLSX = "xlsx"
    PPTX = "pptx"
    ODT = "odt"
    ODS = "ods"
    ODP = "odp"
    DOC = "doc"
    XLS = "xls"
    PPT = "ppt"
    ZIP = "zip"
    TEXT = "text"
    CSV = "csv"


@dataclass(frozen=True)
class KindInfo:
    extension: str  # with the dot, used for pseudonymous and download names
    content_type: str
    aliases: frozenset[str]  # original extensions that may be kept in a download name


def _info(extension: str, content_type: str, *aliases: str) -> KindInfo:
    return KindInfo(extension, content_type, frozenset((extension, *aliases)))


_OOXML = "application/vnd.openxmlformats-officedocument."
ODF = "application/vnd.oasis.opendocument."
KINDS: dict[Kind, KindInfo] = {
    Kind.PDF: _info(".pdf", "application/pdf"),
    Kind.PNG: _info(".png", "image/png"),
    Kind.JPEG: _info(".jpg", "image/jpeg", ".jpeg", ".jpe"),
    Kind.GIF: _info(".gif", "image/gif"),
    Kind.WEBP: _info(".webp", "image/webp"),
    Kind.DOCX: _info(".docx", _OOXML + "wordprocessingml.document"),
    Kind.XLSX: _info(".xlsx", _OOXML + "spreadsheetml.sheet"),
    Kind.PPTX: _info(".pptx", _OOXML + "presentationml.presentation"),
    Kind.ODT: _info(".odt", ODF + "text"),
    Kind.ODS: _info(".ods", ODF + "spreadsheet"),
    Kind.ODP: _info(".odp", ODF + "presentation"),
    Kind.DOC: _info(".doc", "application/msword"),
    Kind.XLS: _info(".xls", "application/vnd.ms-excel"),
    Kind.PPT: _info(".ppt", "application/vnd.ms-powerpoint"),
    Kind.ZIP: _info(".zip", "application/zip"),
    # Only extensions no operating system executes may stay on a text file's download name.
    Kind.TEXT: _info(".txt", "text/plain", ".text", ".md", ".markdown", ".rst", ".log", ".tex", ".bib", ".json"),
    Kind.CSV: _info(".csv", "text/csv", ".tsv"),
}


@dataclass(frozen=True)
class Detected:
    kind: Kind
    content_type: str  # text kinds carry their charset: "text/plain; charset=utf-8"


@dataclass(frozen=True)
class ArchiveLimits:
    max_entries: int = 10_000
    max_total_uncompressed: int = 200 * MiB
    max_ratio: int = 100
    ratio_applies_above: int = 1 * MiB  # small, very repetitive files compress far beyond 100:1
    max_nesting: int = 1  # a zip may contain archives; those may not contain archives
    max_nested_archive_bytes: int = 32 * MiB  # a nested zip is inspected in memory


class UnsupportedFileType(ValidationFailed):
    """The content is not on the allow-list; `detected` names what it looked like (English)."""

    def __init__(self, detected: str, detail=None):
        message = detail or _l(
            "This file type is not accepted (%(detected)s). Upload a PDF, an image (PNG, JPEG, GIF, WebP), "
            "an Office document, a zip archive, plain text or CSV.",
            detected=detected,
        )
        super().__init__(message, errors={"file": [message]})
        self.detected = detected


class UnsafeArchive(UnsupportedFileType):
    """A zip (or Office document) that could harm whoever unpacks it: bomb, traversal, executable."""

    def __init__(self, detected: str):
        super().__init__(detected, _l("This archive cannot be accepted: %(reason)s.", reason=detected))


# Refused whatever the name says. Checked before the allow-list so that a polyglot cannot slip through.
REFUSED_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x7fELF", "ELF executable"),
    (b"MZ", "Windows executable (PE/MZ)"),
    (b"\xfe\xed\xfa\xce", "Mach-O executable"),
    (b"\xfe\xed\xfa\xcf", "Mach-O executable"),
    (b"\xce\xfa\xed\xfe", "Mach-O executable"),
    (b"\xcf\xfa\xed\xfe", "Mach-O executable"),
    (b"\xca\xfe\xba\xbe", "Mach-O universal binary or Java class"),
    (b"\x00asm", "WebAssembly module"),
    (b"#!", "script (#!)"),
    (b"{\\rtf", "RTF document"),
    (b"\x1f\x8b", "gzip archive"),
    (b"BZh", "bzip2 archive"),
    (b"\xfd7zXZ\x00", "xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"Rar!\x1a\x07", "rar archive"),
)


def printable(name: str) -> str:
    """An entry name fit for an error message: no control characters, bounded length."""
    cleaned = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    return cleaned[:80]
