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

import codecs
import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import olefile
from pypdf import PasswordType, PdfReader

from marketplace.files.archives import inspect_zip
from marketplace.files.kinds import (
    CHUNK,
    KINDS,
    REFUSED_SIGNATURES,
    ArchiveLimits,
    Detected,
    Kind,
    UnsupportedFileType,
)

_PDF = b"%PDF-"
_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
_GIF = (b"GIF87a", b"GIF89a")
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def detect(path: Path, *, limits: ArchiveLimits | None = None) -> Detected:
    """Return the kind of the file at `path` or raise UnsupportedFileType / UnsafeArchive."""
    limits = limits or ArchiveLimits()
    with path.open("rb") as handle:
        head = handle.read(4096)
    for signature, name in REFUSED_SIGNATURES:
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
        return _detected(inspect_zip(path, limits))
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
