"""Blind-review copies of attachments: author metadata removed, names replaced.

`strip_metadata(path, kind)` returns the bytes of a cleaned copy, or the stored file's own path
when that kind has nothing hidden to remove or cannot be cleaned here (see `blind_safe`). The
stored original is never modified: authors and staff download it as sent.

What is removed, per kind:
- PDF (pypdf): the Info dictionary (author, creator, producer, title, subject, keywords, dates),
  the document and page XMP metadata streams, page PieceInfo, and the author (/T) of every
  annotation, replaced by "Author". The file is rewritten from its parsed objects, so earlier
  incremental revisions (which may hold older metadata) are dropped too. Active content is
  removed as well, so no reviewer opens a script: JavaScript (/JS, /JavaScript name trees),
  /OpenAction, additional actions (/AA), /Launch, XFA forms, and actions of kind JavaScript,
  Launch, ImportData, SubmitForm, Rendition and GoToE wherever they are referenced.
- Office Open XML (docx, xlsx, pptx) and OpenDocument (odt, ods, odp), by rewriting the zip:
  core properties and ODF meta.xml emptied (creator, last modified by, title, dates...),
  Company/Manager/Template/HyperlinkBase blanked in app.xml, custom properties emptied, every
  `author`/`initials` attribute (comments, tracked changes, people.xml) set to "Author"/"A",
  `<author>` elements of spreadsheet comments and `<dc:creator>` of ODF annotations set to
  "Author", user ids and display names in the people/persons/authors parts blanked, and entry
  timestamps set to 1980-01-01.
- Images, without Pillow so that nothing is re-encoded (lossless): JPEG APP1 (Exif, XMP),
  APP3-APP13 (IPTC/Photoshop), APP15 and comment segments, also between progressive scans;
  PNG tEXt/zTXt/iTXt/eXIf/tIME chunks; WebP EXIF and XMP chunks; GIF comment and application
  extensions other than animation loops; and trailing bytes after the image end. A JPEG whose
  Exif said "rotate" may show unrotated.
- Text and CSV hold no hidden metadata: passed through.
- Not cleaned, passed through (`blind_safe` is False so callers can warn the solver and staff):
  legacy doc/xls/ppt (author names also live inside their binary streams) and zip archives
  (their members are not rewritten).
Known gaps: files embedded inside PDFs or Office documents keep their own metadata; Word's
attached-template path (may contain a user name) stays in settings.xml.rels.

A file that cannot be parsed raises `MetadataError`: callers must then not serve it to reviewers
(fail closed) rather than leak metadata.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from marketplace.files.kinds import KINDS, Kind

HIDDEN_AUTHOR = "Author"
_PASSED_THROUGH = frozenset({Kind.DOC, Kind.XLS, Kind.PPT, Kind.ZIP})
_NOTHING_HIDDEN = frozenset({Kind.TEXT, Kind.CSV})


class MetadataError(ValueError):
    """The file's structure could not be parsed, so its metadata could not be removed."""


def blind_safe(kind: Kind) -> bool:
    """Whether the reviewer copy of this kind carries no author metadata we know how to remove."""
    return kind not in _PASSED_THROUGH


def pseudonymous_name(kind: Kind, index: int) -> str:
    """The name reviewers see: `attachment-1.pdf`, `attachment-2.docx`, ..."""
    return f"attachment-{index}{KINDS[Kind(kind)].extension}"


def strip_metadata(path: Path, kind: Kind) -> bytes | Path:
    """Bytes of a copy without author metadata, or `path` itself when there is nothing to change."""
    kind = Kind(kind)
    path = Path(path)
    if kind in _PASSED_THROUGH or kind in _NOTHING_HIDDEN:
        return path
    if kind is Kind.PDF:
        return _strip_pdf(path)
    if kind in (Kind.DOCX, Kind.XLSX, Kind.PPTX):
        return _rewrite_zip(path, _clean_ooxml_part)
    if kind in (Kind.ODT, Kind.ODS, Kind.ODP):
        return _rewrite_zip(path, _clean_odf_part)
    strippers = {Kind.JPEG: _strip_jpeg, Kind.PNG: _strip_png, Kind.GIF: _strip_gif, Kind.WEBP: _strip_webp}
    try:
        return strippers[kind](path.read_bytes())
    except (IndexError, struct.error) as error:
        raise MetadataError(f"truncated {kind} file") from error


# --- PDF ---------------------------------------------------------------------------------------

def _strip_pdf(path: Path) -> bytes:
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            reader.decrypt("")  # only PDFs that open without a password were accepted
        writer = PdfWriter(clone_from=reader)
        writer.metadata = None  # no Info dictionary at all, not even pypdf's Producer
        _disarm_pdf(writer.root_object)
        writer.root_object.pop(NameObject("/Metadata"), None)
        for page in writer.pages:
            page.pop(NameObject("/Metadata"), None)
            page.pop(NameObject("/PieceInfo"), None)
            annotations = page.get("/Annots")
            for annotation in annotations.get_object() if annotations is not None else []:
                annotation = annotation.get_object()
                if "/T" in annotation:
                    annotation[NameObject("/T")] = TextStringObject(HIDDEN_AUTHOR)
        # The writer would otherwise write every cloned object, the detached Info and XMP included.
        writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
        output = io.BytesIO()
        writer.write(output)
    except Exception as error:  # noqa: BLE001 - a parser of hostile input may raise anything
        raise MetadataError("PDF could not be rewritten") from error
    return output.getvalue()


# Keys that run something when the file is opened or touched, and actions that run code, start a
# program, fetch or send data. URI links stay: the reviewer's viewer asks before following them.
_ACTIVE_KEYS = frozenset({"/JS", "/JavaScript", "/OpenAction", "/AA", "/Launch", "/XFA"})
_ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/Rendition", "/GoToE"})


def _is_active_action(value) -> bool:
    value = value.get_object()
    return isinstance(value, DictionaryObject) and value.get("/S") in _ACTIVE_ACTIONS


def _disarm_pdf(root) -> None:
    """Remove every script and automatic action reachable from the catalog (reviewers get no script)."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        node = node.get_object() if hasattr(node, "get_object") else node
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, DictionaryObject):
            for key in list(node.keys()):
                if key in _ACTIVE_KEYS or _is_active_action(node[key]):
                    del node[key]
                else:
                    stack.append(node[key])
        elif isinstance(node, ArrayObject):
            node[:] = [item for item in node if not _is_active_action(item)]
            stack.extend(node)


# --- Office Open XML and OpenDocument ------------------------------------------------------------

_EMPTY_CORE = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    b'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
)
_EMPTY_CUSTOM = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
    b'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"/>'
)
_EMPTY_ODF_META = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    b'office:version="1.2"><office:meta/></office:document-meta>'
)
# Regular expressions rather than an XML round trip: ElementTree renames namespace prefixes, which
# breaks the mc:Ignorable lists Office relies on. Attribute values cannot contain their own quote.
_APP_FIELDS = re.compile(rb"(<(?:[\w.-]+:)?(Company|Manager|Template|HyperlinkBase)>)[^<]*(</(?:[\w.-]+:)?\2>)")
_AUTHOR_ATTRIBUTES = re.compile(rb"(\s(?:[\w.-]+:)?(author|initials)\s*=\s*)(\"[^\"]*\"|'[^']*')")
_AUTHOR_ELEMENTS = re.compile(rb"(<((?:[\w.-]+:)?(?:author|creator))>)[^<]*(</\2>)")
_PERSON_ATTRIBUTES = re.compile(rb"(\s(?:[\w.-]+:)?(userId|providerId|displayName|name)\s*=\s*)(\"[^\"]*\"|'[^']*')")
_PEOPLE_PARTS = re.compile(r"(word/people\.xml|xl/persons/[^/]+\.xml|ppt/(comment)?authors\.xml)", re.IGNORECASE)


def _blank_authors(data: bytes) -> bytes:
    def attribute(match: re.Match[bytes]) -> bytes:
        value = b"A" if match.group(2) == b"initials" else HIDDEN_AUTHOR.encode()
        return match.group(1) + b'"' + value + b'"'

    data = _AUTHOR_ATTRIBUTES.sub(attribute, data)
    return _AUTHOR_ELEMENTS.sub(rb"\1" + HIDDEN_AUTHOR.encode() + rb"\3", data)


def _clean_ooxml_part(name: str, data: bytes) -> bytes:
    if name == "docProps/core.xml":
        return _EMPTY_CORE
    if name == "docProps/custom.xml":
        return _EMPTY_CUSTOM
    if name == "docProps/app.xml":
        return _APP_FIELDS.sub(rb"\1\3", data)
    if not name.endswith(".xml") or not name.startswith(("word/", "xl/", "ppt/")):
        return data
    data = _blank_authors(data)
    if _PEOPLE_PARTS.fullmatch(name):
        data = _PERSON_ATTRIBUTES.sub(
            lambda match: match.group(1) + (b'"Author"' if match.group(2) in (b"displayName", b"name") else b'""'),
            data,
        )
    return data


def _clean_odf_part(name: str, data: bytes) -> bytes:
    if name == "meta.xml":
        return _EMPTY_ODF_META
    if name.endswith(".xml") and name != "manifest.xml":
        return _blank_authors(data)
    return data


def _rewrite_zip(path: Path, clean: Callable[[str, bytes], bytes]) -> bytes:
    output = io.BytesIO()
    try:
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(output, "w") as target:
            for info in source.infolist():
                # Same order and compression (ODF needs "mimetype" first and stored); neutral timestamps.
                clone = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
                clone.compress_type = info.compress_type
                clone.external_attr = info.external_attr
                target.writestr(clone, clean(info.filename, source.read(info)))
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as error:
        raise MetadataError("document archive could not be rewritten") from error
    return output.getvalue()


# --- Images ------------------------------------------------------------------------------------

# In scan data a 0xFF byte is followed by 0x00 (stuffing) or a restart marker; anything else is a marker.
_JPEG_MARKER_IN_SCAN = re.compile(rb"\xff(?=[^\x00\xd0-\xd7\xff])")
_JPEG_KEEP_APP = {0xE0: (b"JFIF\x00", b"JFXX\x00"), 0xE2: (b"ICC_PROFILE\x00",), 0xEE: (b"Adobe",)}


def _strip_jpeg(data: bytes) -> bytes:
    if not data.startswith(b"\xff\xd8"):
        raise MetadataError("not a JPEG")
    parts = [b"\xff\xd8"]
    position = 2
    while True:
        if data[position] != 0xFF:
            raise MetadataError("JPEG segment expected")
        while data[position + 1] == 0xFF:  # fill bytes
            position += 1
        marker = data[position + 1]
        if marker == 0xD9:  # end of image; anything after it is dropped
            parts.append(b"\xff\xd9")
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            parts.append(data[position:position + 2])
            position += 2
            continue
        length = struct.unpack(">H", data[position + 2:position + 4])[0]
        end = position + 2 + length
        if length < 2 or end > len(data):
            raise MetadataError("truncated JPEG segment")
        if marker == 0xDA:  # start of scan: copy it and its entropy-coded data up to the next marker
            following = _JPEG_MARKER_IN_SCAN.search(data, end)
            if following is None:
                raise MetadataError("JPEG ends inside a scan")
            parts.append(data[position:following.start()])
            position = following.start()
            continue
        payload = data[position + 4:end]
        is_metadata = marker == 0xFE or (0xE0 <= marker <= 0xEF and not payload.startswith(
            _JPEG_KEEP_APP.get(marker, ())))
        if not is_metadata:
            parts.append(data[position:end])
        position = end
    return b"".join(parts)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_METADATA_CHUNKS = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"}


def _strip_png(data: bytes) -> bytes:
    if not data.startswith(_PNG_SIGNATURE):
        raise MetadataError("not a PNG")
    parts = [_PNG_SIGNATURE]
    position = len(_PNG_SIGNATURE)
    while True:
        length, chunk_type = struct.unpack(">I4s", data[position:position + 8])
        end = position + 12 + length  # length, type, data, CRC
        if end > len(data):
            raise MetadataError("truncated PNG chunk")
        if chunk_type not in _PNG_METADATA_CHUNKS:
            parts.append(data[position:end])
        position = end
        if chunk_type == b"IEND":
            return b"".join(parts)


def _strip_webp(data: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise MetadataError("not a WebP image")
    chunks = []
    position, riff_end = 12, min(8 + struct.unpack("<I", data[4:8])[0], len(data))
    while position + 8 <= riff_end:
        fourcc, size = struct.unpack("<4sI", data[position:position + 8])
        end = position + 8 + size + (size & 1)  # chunks are padded to an even length
        if position + 8 + size > len(data):
            raise MetadataError("truncated WebP chunk")
        chunk = data[position:end]
        if fourcc == b"VP8X":
            flags = chunk[8] & ~(0x08 | 0x04)  # no more EXIF or XMP chunk
            chunk = chunk[:8] + bytes([flags]) + chunk[9:]
        if fourcc not in (b"EXIF", b"XMP "):
            chunks.append(chunk)
        position = end
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


_GIF_KEPT_APPLICATIONS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")


def _strip_gif(data: bytes) -> bytes:
    if not data.startswith((b"GIF87a", b"GIF89a")):
        raise MetadataError("not a GIF")
    position = 13
    if data[10] & 0x80:  # global colour table
        position += 3 * 2 ** ((data[10] & 0x07) + 1)
    parts = [data[:position]]
    while True:
        introducer = data[position]
        if introducer == 0x3B:  # trailer; anything after it is dropped
            parts.append(b"\x3b")
            return b"".join(parts)
        if introducer == 0x2C:  # image: descriptor, optional local colour table, LZW size, data
            packed = data[position + 9]
            end = position + 10 + (3 * 2 ** ((packed & 0x07) + 1) if packed & 0x80 else 0) + 1
            end = _skip_sub_blocks(data, end)
            parts.append(data[position:end])
        elif introducer == 0x21:
            label = data[position + 1]
            end = _skip_sub_blocks(data, position + 2)
            application = data[position + 3:position + 14] if label == 0xFF else b""
            if label != 0xFE and (label != 0xFF or application in _GIF_KEPT_APPLICATIONS):
                parts.append(data[position:end])
        else:
            raise MetadataError("unknown GIF block")
        position = end


def _skip_sub_blocks(data: bytes, position: int) -> int:
    while (size := data[position]) != 0:
        position += 1 + size
    if position >= len(data):
        raise MetadataError("truncated GIF data")
    return position + 1
