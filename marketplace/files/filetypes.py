"""What a file is, decided from its bytes (never its name), against an allow-list.

Accepted: PDF, PNG, JPEG, GIF, WebP, Office Open XML (docx, xlsx, pptx), OpenDocument
(odt, ods, odp), legacy Office (doc, xls, ppt), zip, plain text and CSV.

Decisions, so that reviewers can open what solvers send without risk:
- Executables are refused whatever their name: ELF, Windows PE/DOS ("MZ"), Mach-O, Java
  class files, WebAssembly, scripts starting with "#!", MSI installers (OLE files that are
  not Word, Excel or PowerPoint).
- HTML, SVG and XML are refused: a browser runs their scripts. Text is sniffed the way
  browsers do (WHATWG MIME sniffing patterns at the start, plus script/markup tags in the
  first kilobyte), so "plain text" cannot turn into a page. RTF is refused too (a common
  carrier of Office exploits) although it looks like ASCII text.
- Office files with macros (vbaProject.bin, OLE "Macros"/"_VBA_PROJECT_CUR", ODF Basic
  scripts) are refused: a solver can always save without macros.
- Encrypted content is refused: password-protected PDFs (an owner password alone is fine,
  they open with an empty password), encrypted Office files and encrypted zip entries.
  Nothing inside them can be checked and reviewers could not open them anyway.
- Only zip is accepted as an archive. gzip, bzip2 and xz streams inside a zip are measured;
  7z and rar inside a zip are refused (they cannot be inspected with the standard library).
- Zip safety (zip, OOXML and ODF alike), inspected in memory with `zipfile`, never extracted:
  at most 10,000 entries, 200 MiB uncompressed in total (nested archives included), a
  compression ratio of at most 100:1 once more than 1 MiB is unpacked, archives nested at
  most one level deep, no absolute paths, drive letters or ".." in entry names, no symbolic
  links, no duplicate names, no native executables. Every entry is decompressed once (in
  streaming, output discarded) to the end of its compressed data, whatever its header claims:
  the bytes actually inflated count against the limits as they come (a 400 KiB zip whose
  headers say 1,000 bytes but which inflates to 419 MB stops at the limit, never in memory),
  and a CRC or a size that lies is refused.
- Plain text must be UTF-8 (with or without BOM) or UTF-16 with a BOM, without NUL and with
  at most 1 % control characters. CSV is text whose rows all have the same number (>= 2) of
  fields for one of the delimiters , ; tab | (quotes respected).
"""

from __future__ import annotations

import bz2
import codecs
import copy
import csv
import gzip
import io
import lzma
import re
import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO

import olefile
from flask_babel import lazy_gettext as _l
from pypdf import PasswordType, PdfReader

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
_ODF = "application/vnd.oasis.opendocument."
KINDS: dict[Kind, KindInfo] = {
    Kind.PDF: _info(".pdf", "application/pdf"),
    Kind.PNG: _info(".png", "image/png"),
    Kind.JPEG: _info(".jpg", "image/jpeg", ".jpeg", ".jpe"),
    Kind.GIF: _info(".gif", "image/gif"),
    Kind.WEBP: _info(".webp", "image/webp"),
    Kind.DOCX: _info(".docx", _OOXML + "wordprocessingml.document"),
    Kind.XLSX: _info(".xlsx", _OOXML + "spreadsheetml.sheet"),
    Kind.PPTX: _info(".pptx", _OOXML + "presentationml.presentation"),
    Kind.ODT: _info(".odt", _ODF + "text"),
    Kind.ODS: _info(".ods", _ODF + "spreadsheet"),
    Kind.ODP: _info(".odp", _ODF + "presentation"),
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
_REFUSED_SIGNATURES: tuple[tuple[bytes, str], ...] = (
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
_PDF = b"%PDF-"
_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
_GIF = (b"GIF87a", b"GIF89a")
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_NATIVE_EXECUTABLES = tuple(sig for sig, name in _REFUSED_SIGNATURES if "executable" in name or "binary" in name)


def detect(path: Path, *, limits: ArchiveLimits | None = None) -> Detected:
    """Return the kind of the file at `path` or raise UnsupportedFileType / UnsafeArchive."""
    limits = limits or ArchiveLimits()
    with path.open("rb") as handle:
        head = handle.read(4096)
    for signature, name in _REFUSED_SIGNATURES:
        if head.startswith(signature):
            raise UnsupportedFileType(name)
    if head.startswith(_PDF):
        _check_pdf(path)
        return _detected(Kind.PDF)
    if head.startswith(_PNG):
        return _detected(Kind.PNG)
    if head.startswith(_JPEG):
        return _detected(Kind.JPEG)
    if head.startswith(_GIF):
        return _detected(Kind.GIF)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _detected(Kind.WEBP)
    if head.startswith(_ZIP):
        return _detected(_inspect_zip(path, limits))
    if head.startswith(_OLE):
        return _detected(_inspect_ole(path))
    return _inspect_text(path, head)


def _detected(kind: Kind, charset: str | None = None) -> Detected:
    content_type = KINDS[kind].content_type
    return Detected(kind, f"{content_type}; charset={charset}" if charset else content_type)


# --- PDF ---------------------------------------------------------------------------------------

def _check_pdf(path: Path) -> None:
    """Refuse PDFs that cannot be read or need a password: reviewers could not open them."""
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise UnsupportedFileType("password-protected PDF")
        pages = len(reader.pages)
    except UnsupportedFileType:
        raise
    except Exception as error:  # noqa: BLE001 - a parser of hostile input may raise anything
        raise UnsupportedFileType("damaged PDF") from error
    if pages == 0:
        raise UnsupportedFileType("PDF without pages")


# --- Zip, Office Open XML, OpenDocument ----------------------------------------------------------

class _Budget:
    """What all archive levels of one upload may unpack together."""

    def __init__(self, limits: ArchiveLimits):
        self.limits = limits
        self.entries = 0
        self.uncompressed = 0

    def add_entries(self, count: int) -> None:
        self.entries += count
        if self.entries > self.limits.max_entries:
            raise UnsafeArchive(f"more than {self.limits.max_entries} entries")

    def add_bytes(self, count: int) -> None:
        self.uncompressed += count
        self.check(0)

    def check(self, more: int) -> None:
        """Refuse when `more` bytes on top of what was unpacked would pass the limit (headers: a first look)."""
        if self.uncompressed + more > self.limits.max_total_uncompressed:
            raise UnsafeArchive(f"more than {self.limits.max_total_uncompressed // MiB} MiB once unpacked")


class _Meter:
    """Bytes ACTUALLY inflated from one archive's entries, whatever their headers claim.

    Counted while streaming, so a bomb whose headers lie is stopped at the first byte over the
    limit: the archive's ratio cap, or the budget shared by every level of the upload.
    """

    def __init__(self, archive_size: int, budget: _Budget):
        limits = budget.limits
        self.cap = max(limits.ratio_applies_above, limits.max_ratio * max(archive_size, 1))
        self.budget = budget
        self.inflated = 0

    def add(self, count: int) -> None:
        self.inflated += count
        if self.inflated > self.cap:
            raise UnsafeArchive(f"compression ratio above {self.budget.limits.max_ratio}:1")
        self.budget.add_bytes(count)


class _CountedMember:
    """An archive member read to the end of its compressed data (not to its declared size), metered."""

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, meter: _Meter):
        unbounded = copy.copy(info)
        unbounded.file_size = 1 << 62  # zipfile stops at the declared size: a lying header would hide the rest
        self._stream = archive.open(unbounded)
        self._meter = meter
        self.count = 0

    def read(self, size: int) -> bytes:
        data = self._stream.read(size)
        self.count += len(data)
        self._meter.add(len(data))
        return data

    def drain(self) -> None:
        while self.read(CHUNK):
            pass

    def close(self) -> None:
        self._stream.close()


def _inspect_zip(path: Path, limits: ArchiveLimits) -> Kind:
    try:
        with zipfile.ZipFile(path) as archive:
            _check_archive(archive, path.stat().st_size, depth=0, budget=_Budget(limits))
            return _zip_kind(archive)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, lzma.LZMAError, OSError) as error:
        # NotImplementedError: a compression method zipfile lacks (deflate64, ...): uninspectable.
        raise UnsupportedFileType("damaged or unsupported zip archive") from error


def _check_archive(archive: zipfile.ZipFile, archive_size: int, *, depth: int, budget: _Budget) -> None:
    infos = archive.infolist()
    budget.add_entries(len(infos))
    # Declared sizes give a cheap first refusal; what counts is what _Meter sees inflated.
    declared = sum(info.file_size for info in infos)
    budget.check(declared)
    limits = budget.limits
    meter = _Meter(archive_size, budget)
    if declared > meter.cap:
        raise UnsafeArchive(f"compression ratio above {limits.max_ratio}:1")
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise UnsafeArchive("duplicate entry names")
    for info in infos:
        _check_entry_header(info)
        if not info.is_dir():
            _check_entry_content(archive, info, depth=depth, meter=meter)


def _check_entry_header(info: zipfile.ZipInfo) -> None:
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or re.match(r"[A-Za-z]:", name) or ".." in name.split("/"):
        raise UnsafeArchive(f"entry with an unsafe path ({_printable(info.filename)})")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UnsafeArchive(f"symbolic link ({_printable(info.filename)})")
    if info.flag_bits & 0x1:
        raise UnsafeArchive(f"encrypted entry ({_printable(info.filename)})")


def _check_entry_content(archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, depth: int, meter: _Meter) -> None:
    member = _CountedMember(archive, info, meter)
    try:
        _inspect_member(member, info, depth=depth, budget=meter.budget)
        # Reading to the end makes zipfile verify the CRC; the count shows a size that lies.
        member.drain()
    finally:
        member.close()
    if member.count != info.file_size:
        raise UnsafeArchive(f"entry whose header hides its real size ({_printable(info.filename)})")


def _inspect_member(member: _CountedMember, info: zipfile.ZipInfo, *, depth: int, budget: _Budget) -> None:
    limits = budget.limits
    head = member.read(8)
    if head.startswith(_NATIVE_EXECUTABLES):
        raise UnsafeArchive(f"executable inside ({_printable(info.filename)})")
    nested = _nested_archive_type(head)
    if nested and depth + 1 > limits.max_nesting:
        raise UnsafeArchive("archives nested too deeply")
    if nested == "zip":
        data = head + member.read(limits.max_nested_archive_bytes + 1 - len(head))
        if len(data) > limits.max_nested_archive_bytes:
            raise UnsafeArchive(f"nested archive too large to inspect ({_printable(info.filename)})")
        with zipfile.ZipFile(io.BytesIO(data)) as inner:
            _check_archive(inner, len(data), depth=depth + 1, budget=budget)
    elif nested in ("gzip", "bzip2", "xz"):
        _measure_stream(nested, _Prefixed(head, member), budget)
    elif nested:
        raise UnsafeArchive(f"{nested} archive inside, which cannot be inspected")


def _nested_archive_type(head: bytes) -> str | None:
    for signature, name in ((_ZIP, "zip"), (b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"),
                            (b"7z\xbc\xaf\x27\x1c", "7z"), (b"Rar!\x1a\x07", "rar")):
        if head.startswith(signature):
            return name
    return None


class _Prefixed(io.RawIOBase):
    """A member stream with its already-read first bytes put back in front."""

    def __init__(self, head: bytes, rest: _CountedMember):
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _measure_stream(kind: str, raw: io.RawIOBase, budget: _Budget) -> None:
    """Decompress a nested gzip/bzip2/xz stream in chunks, counting against the budget."""
    source = io.BufferedReader(raw)
    stream: IO[bytes]
    if kind == "gzip":
        stream = gzip.GzipFile(fileobj=source)
    elif kind == "bzip2":
        stream = bz2.BZ2File(source)
    else:
        stream = lzma.LZMAFile(source)
    with stream:
        while chunk := stream.read(CHUNK):
            budget.add_bytes(len(chunk))


def _zip_kind(archive: zipfile.ZipFile) -> Kind:
    names = archive.namelist()
    lowered = [name.lower() for name in names]
    if "[Content_Types].xml" in names:
        if any(name.endswith("vbaproject.bin") for name in lowered):
            raise UnsupportedFileType("Office document with macros")
        for prefix, kind in (("word/", Kind.DOCX), ("xl/", Kind.XLSX), ("ppt/", Kind.PPTX)):
            if any(name.startswith(prefix) for name in names):
                return kind
    if names and names[0] == "mimetype":
        mimetype = archive.read("mimetype").strip().decode("ascii", "replace")
        kinds = {_ODF + "text": Kind.ODT, _ODF + "spreadsheet": Kind.ODS, _ODF + "presentation": Kind.ODP}
        if mimetype in kinds:
            if any(name.startswith(("basic/", "scripts/")) for name in lowered):
                raise UnsupportedFileType("OpenDocument file with macros")
            return kinds[mimetype]
    return Kind.ZIP


# --- Legacy Office (OLE compound files) -----------------------------------------------------------

def _inspect_ole(path: Path) -> Kind:
    try:
        with olefile.OleFileIO(str(path)) as ole:
            entries = {"/".join(parts).lower() for parts in ole.listdir(streams=True, storages=True)}
    except Exception as error:  # noqa: BLE001 - a parser of hostile input may raise anything
        raise UnsupportedFileType("damaged OLE compound file") from error
    if "encryptedpackage" in entries:
        raise UnsupportedFileType("password-protected Office document")
    if any(part in ("macros", "_vba_project_cur", "vba") for entry in entries for part in entry.split("/")):
        raise UnsupportedFileType("Office document with macros")
    if "worddocument" in entries:
        return Kind.DOC
    if "workbook" in entries or "book" in entries:
        return Kind.XLS
    if "powerpoint document" in entries:
        return Kind.PPT
    raise UnsupportedFileType("OLE compound file that is not Word, Excel or PowerPoint (e.g. an installer)")


# --- Text and CSV -------------------------------------------------------------------------------

# WHATWG MIME sniffing: text starting (after whitespace) with one of these is HTML or XML to a browser.
_MARKUP_START = re.compile(
    r"<(?:!doctype\s+html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|svg|math)[\s>/]"
    r"|<!--|<\?xml",
    re.IGNORECASE,
)
_MARKUP_ANYWHERE = re.compile(r"<(?:script|html|svg|iframe|object|embed)[\s>/]", re.IGNORECASE)
# Unicode control characters (category Cc) except tab, line breaks, form feed and escape.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")
_CSV_SAMPLE_CHARS = 64 * 1024


def _inspect_text(path: Path, head: bytes) -> Detected:
    if head.startswith(codecs.BOM_UTF8):
        encoding, charset, skip = "utf-8", "utf-8", len(codecs.BOM_UTF8)
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, charset, skip = "utf-16", "utf-16", 0  # the utf-16 codec reads and drops the BOM
    else:
        if b"\x00" in head:
            raise UnsupportedFileType("binary data of an unknown type")
        encoding, charset, skip = "utf-8", "utf-8", 0
    total = controls = 0
    sample: list[str] = []
    sampled = 0
    try:
        for text in _decode_chunks(path, encoding, skip):
            if "\x00" in text:
                raise UnsupportedFileType("binary data of an unknown type")
            total += len(text)
            controls += len(_CONTROL.findall(text))
            if sampled < _CSV_SAMPLE_CHARS:
                sample.append(text)
                sampled += len(text)
    except UnicodeDecodeError as error:
        raise UnsupportedFileType("text that is not UTF-8 or UTF-16, or binary data") from error
    if total == 0:
        raise UnsupportedFileType("text without content")
    if controls > total / 100:
        raise UnsupportedFileType("binary data of an unknown type")
    beginning = "".join(sample)
    _refuse_active_text(beginning)
    if _looks_like_csv(beginning, truncated=sampled < total):
        return _detected(Kind.CSV, charset)
    return _detected(Kind.TEXT, charset)


def _decode_chunks(path: Path, encoding: str, skip: int) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with path.open("rb") as handle:
        handle.seek(skip)
        while chunk := handle.read(CHUNK):
            yield decoder.decode(chunk)
        yield decoder.decode(b"", final=True)


def _refuse_active_text(beginning: str) -> None:
    """Text a browser or a shell would treat as code is refused, whatever its name."""
    start = beginning.lstrip(" \t\r\n\f\ufeff")
    if start.startswith("#!"):
        raise UnsupportedFileType("script (#!)")
    if start.startswith("{\\rtf"):
        raise UnsupportedFileType("RTF document")
    if _MARKUP_START.match(start) or _MARKUP_ANYWHERE.search(beginning[:1024]):
        lowered = start[:1024].lower()
        raise UnsupportedFileType("SVG image" if "<svg" in lowered else "HTML or XML document")


def _looks_like_csv(sample: str, *, truncated: bool) -> bool:
    if truncated:  # the last line of a cut sample may be incomplete
        sample = sample[: sample.rfind("\n") + 1]
    if sum(1 for line in sample.splitlines() if line.strip()) < 2:
        return False
    for delimiter in (",", ";", "\t", "|"):
        try:
            rows = [row for row in csv.reader(io.StringIO(sample), delimiter=delimiter) if any(row)]
        except csv.Error:
            continue
        widths = {len(row) for row in rows}
        if len(rows) >= 2 and len(widths) == 1 and widths.pop() >= 2:
            return True
    return False


def _printable(name: str) -> str:
    """An entry name fit for an error message: no control characters, bounded length."""
    cleaned = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    return cleaned[:80]
