"""Zip archives, Office Open XML and OpenDocument files: inspected entry by entry, without unpacking to
disk, against ArchiveLimits (bombs, traversal, executables inside, nesting)."""

from __future__ import annotations

import bz2
import copy
import gzip
import io
import lzma
import re
import stat
import zipfile
import zlib
from pathlib import Path
from typing import IO

from marketplace.files.kinds import (
    CHUNK,
    ODF,
    REFUSED_SIGNATURES,
    ArchiveLimits,
    Kind,
    MiB,
    UnsafeArchive,
    UnsupportedFileType,
    printable,
)

_ZIP = b"PK\x03\x04"
_NATIVE_EXECUTABLES = tuple(sig for sig, name in REFUSED_SIGNATURES if "executable" in name or "binary" in name)


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


def inspect_zip(path: Path, limits: ArchiveLimits) -> Kind:
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
        raise UnsafeArchive(f"entry with an unsafe path ({printable(info.filename)})")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UnsafeArchive(f"symbolic link ({printable(info.filename)})")
    if info.flag_bits & 0x1:
        raise UnsafeArchive(f"encrypted entry ({printable(info.filename)})")


def _check_entry_content(archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, depth: int, meter: _Meter) -> None:
    member = _CountedMember(archive, info, meter)
    try:
        _inspect_member(member, info, depth=depth, budget=meter.budget)
        # Reading to the end makes zipfile verify the CRC; the count shows a size that lies.
        member.drain()
    finally:
        member.close()
    if member.count != info.file_size:
        raise UnsafeArchive(f"entry whose header hides its real size ({printable(info.filename)})")


def _inspect_member(member: _CountedMember, info: zipfile.ZipInfo, *, depth: int, budget: _Budget) -> None:
    limits = budget.limits
    head = member.read(8)
    if head.startswith(_NATIVE_EXECUTABLES):
        raise UnsafeArchive(f"executable inside ({printable(info.filename)})")
    nested = _nested_archive_type(head)
    if nested and depth + 1 > limits.max_nesting:
        raise UnsafeArchive("archives nested too deeply")
    if nested == "zip":
        data = head + member.read(limits.max_nested_archive_bytes + 1 - len(head))
        if len(data) > limits.max_nested_archive_bytes:
            raise UnsafeArchive(f"nested archive too large to inspect ({printable(info.filename)})")
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
        kinds = {ODF + "text": Kind.ODT, ODF + "spreadsheet": Kind.ODS, ODF + "presentation": Kind.ODP}
        if mimetype in kinds:
            if any(name.startswith(("basic/", "scripts/")) for name in lowered):
                raise UnsupportedFileType("OpenDocument file with macros")
            return kinds[mimetype]
    return Kind.ZIP
