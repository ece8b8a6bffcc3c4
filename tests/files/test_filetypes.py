"""Type detection from content: the allow-list, disguised executables, active text, zip safety."""

from __future__ import annotations

import io
import stat
import struct
import tracemalloc
import zipfile

import pytest

from marketplace.files.filetypes import detect
from marketplace.files.kinds import ArchiveLimits, Kind, UnsafeArchive, UnsupportedFileType
from tests.files import samples

MiB = 1024 * 1024


def detect_bytes(tmp_path, data: bytes, limits: ArchiveLimits | None = None):
    path = tmp_path / "upload"
    path.write_bytes(data)
    return detect(path, limits=limits)


def refused(tmp_path, data: bytes, limits: ArchiveLimits | None = None) -> UnsupportedFileType:
    with pytest.raises(UnsupportedFileType) as error:
        detect_bytes(tmp_path, data, limits)
    return error.value


@pytest.mark.parametrize(("make", "kind", "content_type"), [
    (samples.pdf, Kind.PDF, "application/pdf"),
    (lambda: samples.pdf(owner_password="owner"), Kind.PDF, "application/pdf"),  # opens without a password
    (samples.png, Kind.PNG, "image/png"),
    (samples.jpeg, Kind.JPEG, "image/jpeg"),
    (samples.gif, Kind.GIF, "image/gif"),
    (samples.webp, Kind.WEBP, "image/webp"),
    (samples.docx, Kind.DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (lambda: samples.zip_of({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"}), Kind.XLSX,
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (lambda: samples.zip_of({"[Content_Types].xml": "<Types/>", "ppt/presentation.xml": "<p/>"}), Kind.PPTX,
     "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    (lambda: samples.zip_of({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<x/>"},
                            compression=zipfile.ZIP_STORED), Kind.ODT, "application/vnd.oasis.opendocument.text"),
    (lambda: samples.ole(("WordDocument", 2), ("\x05SummaryInformation", 2)), Kind.DOC, "application/msword"),
    (lambda: samples.ole(("Workbook", 2)), Kind.XLS, "application/vnd.ms-excel"),
    (lambda: samples.ole(("PowerPoint Document", 2)), Kind.PPT, "application/vnd.ms-powerpoint"),
    (lambda: samples.zip_of({"data/results.csv": "a,b\n1,2\n", "src/model.py": "print(1)\n"}), Kind.ZIP,
     "application/zip"),
    (lambda: "Catalyst yield rose 12 %.\n催化剂产率提高了。\n".encode(), Kind.TEXT, "text/plain; charset=utf-8"),
    (lambda: "\ufeffBOM text\n".encode(), Kind.TEXT, "text/plain; charset=utf-8"),
    (lambda: "\ufeffUTF-16 text, 中文\n".encode("utf-16-le"), Kind.TEXT, "text/plain; charset=utf-16"),
    (lambda: b"sample,temperature,yield\nA1,350,0.82\nA2,\"375, peak\",0.91\n", Kind.CSV, "text/csv; charset=utf-8"),
    (lambda: b"sample;yield\nA1;0,82\nA2;0,91\n", Kind.CSV, "text/csv; charset=utf-8"),
    (lambda: b"sample\tyield\nA1\t0.82\n", Kind.CSV, "text/csv; charset=utf-8"),
    (lambda: b"One sentence, with a comma.\nAnother sentence without.\n", Kind.TEXT, "text/plain; charset=utf-8"),
])
def test_allowed_content_is_recognised(tmp_path, make, kind, content_type):
    detected = detect_bytes(tmp_path, make())
    assert (detected.kind, detected.content_type) == (kind, content_type)


@pytest.mark.parametrize(("data", "detected"), [
    (b"\x7fELF\x02\x01\x01\x00" + bytes(100), "ELF executable"),
    (b"MZ\x90\x00" + bytes(60) + b"PE\x00\x00", "Windows executable (PE/MZ)"),
    (b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + bytes(100), "Mach-O executable"),
    (b"\xca\xfe\xba\xbe\x00\x00\x00\x02" + bytes(100), "Mach-O universal binary or Java class"),
    (b"#!/usr/bin/env python3\nimport os\n", "script (#!)"),
    ("\ufeff#!/bin/sh\necho hi\n".encode(), "script (#!)"),
    (b"{\\rtf1\\ansi {\\object\\objemb}}", "RTF document"),
    (b"\x1f\x8b\x08\x00" + bytes(20), "gzip archive"),
    (b"Rar!\x1a\x07\x01\x00" + bytes(20), "rar archive"),
    (b"<!DOCTYPE html><html><body>hi</body></html>", "HTML or XML document"),
    (b"\n  <script>alert(1)</script>", "HTML or XML document"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "SVG image"),
    (b"<svg onload=alert(1)>", "SVG image"),
    (b"Results table\nsee <iframe src=x>", "HTML or XML document"),
    (b"caf\xe9 au lait\n", "text that is not UTF-8 or UTF-16, or binary data"),  # Latin-1
    (b"text\x00with NUL", "binary data of an unknown type"),
    (bytes(range(1, 32)) * 20, "binary data of an unknown type"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "damaged OLE compound file"),
    (b"%PDF-1.7\ngarbage without any objects", "damaged PDF"),
])
def test_refused_content(tmp_path, data, detected):
    assert refused(tmp_path, data).detected == detected


def test_password_protected_pdf_is_refused(tmp_path):
    error = refused(tmp_path, samples.pdf(user_password="secret", owner_password="owner"))
    assert error.detected == "password-protected PDF"
    assert "password-protected PDF" in str(error.detail)
    assert error.errors["file"]


@pytest.mark.parametrize(("entries", "detected"), [
    ((("\x05SummaryInformation", 2), ("\x05DocumentSummaryInformation", 2)),
     "OLE compound file that is not Word, Excel or PowerPoint (e.g. an installer)"),
    ((("WordDocument", 2), ("Macros", 1)), "Office document with macros"),
    ((("Workbook", 2), ("_VBA_PROJECT_CUR", 1)), "Office document with macros"),
    ((("EncryptedPackage", 2), ("EncryptionInfo", 2)), "password-protected Office document"),
])
def test_ole_files_that_are_not_plain_office_documents_are_refused(tmp_path, entries, detected):
    assert refused(tmp_path, samples.ole(*entries)).detected == detected


def test_macro_enabled_ooxml_is_refused(tmp_path):
    docm = samples.docx(extra={"word/vbaProject.bin": b"\x00" * 10})
    assert refused(tmp_path, docm).detected == "Office document with macros"


# --- zip safety -----------------------------------------------------------------------------------

def test_zip_bomb_by_ratio_is_refused(tmp_path):
    error = refused(tmp_path, samples.zip_bomb(20 * 1024 * 1024))
    assert isinstance(error, UnsafeArchive)
    assert error.detected == "compression ratio above 100:1"


def _refused_measuring_memory(tmp_path, data: bytes, limits: ArchiveLimits | None = None):
    tracemalloc.start()
    try:
        error = refused(tmp_path, data, limits)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return error, peak


def test_zip_bomb_whose_headers_lie_is_stopped_at_the_ratio_limit_while_streaming(tmp_path):
    bomb = samples.lying_zip_bomb(400 * MiB)  # 398 KiB; headers claim 1,000 bytes; inflates to 419 MB
    assert len(bomb) < 400 * 1024
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert archive.infolist()[0].file_size == 1000
    error, peak = _refused_measuring_memory(tmp_path, bomb)
    assert isinstance(error, UnsafeArchive)
    assert error.detected == "compression ratio above 100:1"
    assert peak < 8 * MiB  # streamed in chunks, never the whole thing in memory


def test_zip_bomb_whose_headers_lie_is_stopped_at_the_total_limit_while_streaming(tmp_path):
    limits = ArchiveLimits(max_ratio=10**6)  # only the 200 MiB budget left to stop it
    error, peak = _refused_measuring_memory(tmp_path, samples.lying_zip_bomb(400 * MiB), limits)
    assert error.detected == "more than 200 MiB once unpacked"
    assert peak < 8 * MiB


def test_zip_bomb_by_total_size_is_refused(tmp_path):
    limits = ArchiveLimits(max_total_uncompressed=2 * 1024 * 1024, max_ratio=10_000)
    error = refused(tmp_path, samples.zip_bomb(3 * 1024 * 1024), limits)
    assert error.detected == "more than 2 MiB once unpacked"


def test_small_highly_compressible_files_are_fine(tmp_path):
    data = samples.zip_of({"zeros.csv": "0,0\n" * 100_000})  # 400 kB at far more than 100:1
    assert detect_bytes(tmp_path, data).kind is Kind.ZIP


def test_too_many_entries_are_refused(tmp_path):
    data = samples.zip_of({f"f{index}.txt": "" for index in range(10_001)}, compression=zipfile.ZIP_STORED)
    assert refused(tmp_path, data).detected == "more than 10000 entries"


def test_one_nested_archive_is_fine_but_two_levels_are_refused(tmp_path):
    inner = samples.zip_of({"data.csv": "a,b\n1,2\n"})
    assert detect_bytes(tmp_path, samples.zip_of({"inner.zip": inner})).kind is Kind.ZIP
    nested_twice = samples.zip_of({"middle.zip": samples.zip_of({"inner.zip": inner})})
    assert refused(tmp_path, nested_twice).detected == "archives nested too deeply"


def test_nested_archive_counts_towards_the_total_budget(tmp_path):
    limits = ArchiveLimits(max_total_uncompressed=2 * 1024 * 1024, max_ratio=10_000)
    inner = samples.zip_bomb(3 * 1024 * 1024)
    error = refused(tmp_path, samples.zip_of({"inner.zip": inner}, compression=zipfile.ZIP_STORED), limits)
    assert error.detected == "more than 2 MiB once unpacked"


def test_nested_gzip_is_measured_once_decompressed(tmp_path):
    import gzip

    limits = ArchiveLimits(max_total_uncompressed=2 * 1024 * 1024, max_ratio=10_000)
    small = samples.zip_of({"run.log.gz": gzip.compress(b"line\n" * 1000)}, compression=zipfile.ZIP_STORED)
    assert detect_bytes(tmp_path, small, limits).kind is Kind.ZIP
    bomb = samples.zip_of({"zeros.gz": gzip.compress(bytes(3 * 1024 * 1024))}, compression=zipfile.ZIP_STORED)
    assert refused(tmp_path, bomb, limits).detected == "more than 2 MiB once unpacked"


def test_uninspectable_nested_archive_is_refused(tmp_path):
    data = samples.zip_of({"data.7z": b"7z\xbc\xaf\x27\x1c" + bytes(30)})
    assert refused(tmp_path, data).detected == "7z archive inside, which cannot be inspected"


@pytest.mark.parametrize("name", ["../../etc/cron.d/evil", "/etc/passwd", "C:/Windows/evil.dll", "a/../../b",
                                  "..\\..\\evil.txt"])
def test_entries_with_unsafe_paths_are_refused(tmp_path, name):
    data = samples.zip_of({"ok.txt": "fine", name: "bad"})
    assert refused(tmp_path, data).detected.startswith("entry with an unsafe path")


def test_symbolic_link_entry_is_refused(tmp_path):
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        link = zipfile.ZipInfo("passwd")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    assert refused(tmp_path, output.getvalue()).detected == "symbolic link (passwd)"


def test_encrypted_entry_is_refused(tmp_path):
    data = bytearray(samples.zip_of({"secret.txt": "hidden"}))
    # Set the "encrypted" flag bit in the local header and in the central directory.
    struct.pack_into("<H", data, 6, struct.unpack_from("<H", data, 6)[0] | 1)
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<H", data, central + 8, struct.unpack_from("<H", data, central + 8)[0] | 1)
    assert refused(tmp_path, bytes(data)).detected == "encrypted entry (secret.txt)"


def test_executable_inside_a_zip_is_refused(tmp_path):
    data = samples.zip_of({"docs/readme.txt": "hi", "tools/setup.pdf": b"MZ\x90\x00" + bytes(100)})
    assert refused(tmp_path, data).detected == "executable inside (tools/setup.pdf)"


def test_duplicate_entry_names_are_refused(tmp_path):
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        archive.writestr("report.txt", "shown to the checker")
        archive.writestr("report.txt", "extracted last")
    assert refused(tmp_path, output.getvalue()).detected == "duplicate entry names"


def test_entry_whose_header_lies_about_its_size_is_refused(tmp_path):
    payload = b"A" * 5000
    data = bytearray(samples.zip_of({"small.txt": payload}))
    # Claim 10 bytes instead of 5000 in both headers: an unpacker trusting the stream would get more.
    struct.pack_into("<I", data, 22, 10)
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 10)
    assert refused(tmp_path, bytes(data)).detected == "entry whose header hides its real size (small.txt)"


def test_truncated_zip_is_refused(tmp_path):
    data = samples.docx()
    assert refused(tmp_path, data[: len(data) // 2]).detected == "damaged or unsupported zip archive"
