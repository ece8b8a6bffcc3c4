"""Blind-review copies: author metadata gone, content kept, names pseudonymous."""

from __future__ import annotations

import io
import zipfile

import pytest
from pypdf import PdfReader

from marketplace.files.filetypes import detect
from marketplace.files.kinds import Kind
from marketplace.files.sanitize import MetadataError, blind_safe, pseudonymous_name, strip_metadata
from tests.files import samples

AUTHOR = samples.AUTHOR.encode()


def write(tmp_path, data: bytes, name: str = "original"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_pdf_loses_info_xmp_and_annotation_authors_but_keeps_pages(tmp_path):
    original = samples.pdf()
    assert original.count(b"Li Wei") >= 3  # Info (pypdf writes the "." as \056), XMP and the annotation
    cleaned = strip_metadata(write(tmp_path, original), Kind.PDF)
    assert isinstance(cleaned, bytes)
    assert AUTHOR not in cleaned and b"Li Wei" not in cleaned
    reader = PdfReader(io.BytesIO(cleaned))
    assert reader.metadata is None
    assert reader.xmp_metadata is None
    assert len(reader.pages) == 1
    note = reader.pages[0]["/Annots"][0].get_object()
    assert (note["/T"], note["/Contents"]) == ("Author", "Check the yield figure")


def test_pdf_with_owner_password_is_cleaned_too(tmp_path):
    cleaned = strip_metadata(write(tmp_path, samples.pdf(owner_password="owner")), Kind.PDF)
    assert AUTHOR not in cleaned
    assert PdfReader(io.BytesIO(cleaned)).metadata is None


def test_the_stored_original_is_not_modified(tmp_path):
    original = samples.pdf()
    path = write(tmp_path, original)
    strip_metadata(path, Kind.PDF)
    assert path.read_bytes() == original


def test_docx_loses_core_app_comment_revision_and_people_authors(tmp_path):
    original = samples.docx()
    cleaned = strip_metadata(write(tmp_path, original), Kind.DOCX)
    assert isinstance(cleaned, bytes)
    with zipfile.ZipFile(io.BytesIO(original)) as before, zipfile.ZipFile(io.BytesIO(cleaned)) as after:
        assert after.namelist() == before.namelist()
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in after.infolist())
        parts = {name: after.read(name) for name in after.namelist()}
    for name, data in parts.items():
        assert AUTHOR not in data, name
        assert b"Li Wei" not in data and b"li.wei@" not in data, name
    assert b"Tsinghua" not in parts["docProps/app.xml"] and b"Zhang" not in parts["docProps/app.xml"]
    assert b"<Pages>1</Pages>" in parts["docProps/app.xml"]
    assert b'w:author="Author"' in parts["word/comments.xml"]
    assert b'w:initials="A"' in parts["word/comments.xml"]
    assert b"Cite our 2024 paper" in parts["word/comments.xml"]
    assert b'w:author="Author"' in parts["word/document.xml"]
    assert b"New catalyst" in parts["word/document.xml"]
    assert b"Prof." not in parts["docProps/core.xml"] and b"creator" not in parts["docProps/core.xml"]
    # Still a document the type check accepts.
    assert detect(write(tmp_path, cleaned, "cleaned.docx")).kind is Kind.DOCX


def test_xlsx_comment_authors_and_persons_are_hidden(tmp_path):
    xlsx = samples.zip_of({
        "[Content_Types].xml": "<Types/>",
        "xl/workbook.xml": "<workbook/>",
        "xl/comments1.xml": f"<comments><authors><author>{samples.AUTHOR}</author></authors></comments>",
        "xl/persons/person.xml": f'<personList><person displayName="{samples.AUTHOR}" id="{{1}}" '
                                 'userId="li.wei@tsinghua.example" providerId="AD"/></personList>',
        "xl/tables/table1.xml": '<table id="1" name="Yields" displayName="Yields"/>',
    })
    cleaned = strip_metadata(write(tmp_path, xlsx), Kind.XLSX)
    with zipfile.ZipFile(io.BytesIO(cleaned)) as archive:
        assert archive.read("xl/comments1.xml") == b"<comments><authors><author>Author</author></authors></comments>"
        person = archive.read("xl/persons/person.xml")
        assert AUTHOR not in person and b"li.wei" not in person and b'id="{1}"' in person
        # displayName outside the people parts is a table's identifier, not a person: kept.
        assert archive.read("xl/tables/table1.xml") == b'<table id="1" name="Yields" displayName="Yields"/>'


def test_pptx_comment_authors_are_hidden(tmp_path):
    pptx = samples.zip_of({
        "[Content_Types].xml": "<Types/>",
        "ppt/presentation.xml": "<p:presentation/>",
        "ppt/commentAuthors.xml": f'<p:cmAuthorLst><p:cmAuthor id="0" name="{samples.AUTHOR}" initials="LW" '
                                  'lastIdx="1" clrIdx="0"/></p:cmAuthorLst>',
        "ppt/comments/comment1.xml": '<p:cmLst><p:cm authorId="0" idx="1"><p:text>Nice</p:text></p:cm></p:cmLst>',
    })
    cleaned = strip_metadata(write(tmp_path, pptx), Kind.PPTX)
    with zipfile.ZipFile(io.BytesIO(cleaned)) as archive:
        assert archive.read("ppt/commentAuthors.xml") == (
            b'<p:cmAuthorLst><p:cmAuthor id="0" name="Author" initials="A" lastIdx="1" clrIdx="0"/></p:cmAuthorLst>')
        assert b'authorId="0"' in archive.read("ppt/comments/comment1.xml")


def test_odt_meta_and_annotation_creators_are_removed(tmp_path):
    odt = samples.zip_of({
        "mimetype": "application/vnd.oasis.opendocument.text",
        "meta.xml": f"<office:document-meta><office:meta><meta:initial-creator>{samples.AUTHOR}"
                    "</meta:initial-creator></office:meta></office:document-meta>",
        "content.xml": f"<office:annotation><dc:creator>{samples.AUTHOR}</dc:creator><text:p>ok</text:p>"
                       "</office:annotation>",
    }, compression=zipfile.ZIP_STORED)
    cleaned = strip_metadata(write(tmp_path, odt), Kind.ODT)
    assert AUTHOR not in cleaned
    with zipfile.ZipFile(io.BytesIO(cleaned)) as archive:
        assert archive.namelist()[0] == "mimetype"
        assert archive.infolist()[0].compress_type == zipfile.ZIP_STORED
        assert b"<dc:creator>Author</dc:creator>" in archive.read("content.xml")


def test_png_text_chunks_are_removed_and_image_chunks_kept(tmp_path):
    original = samples.png(text=AUTHOR) + b"trailing secret"
    cleaned = strip_metadata(write(tmp_path, original), Kind.PNG)
    assert cleaned == samples.png()  # exactly the image without tEXt, tIME and trailing bytes


def test_jpeg_exif_xmp_iptc_and_comments_are_removed(tmp_path):
    original = samples.jpeg() + b"after the end of image"
    cleaned = strip_metadata(write(tmp_path, original), Kind.JPEG)
    assert cleaned == samples.jpeg(metadata=False)  # JFIF, ICC profile, tables and scan kept byte for byte
    assert AUTHOR not in cleaned


def test_jpeg_metadata_between_progressive_scans_is_removed(tmp_path):
    first_scan = samples.jpeg(metadata=False)[:-2]  # without its end-of-image marker
    second_scan = b"\xff\xda\x00\x08\x01\x01\x00\x01\x3f\x00" + b"\x9a\xff\x00\xff\xd3\x7b"
    comment = b"\xff\xfe\x00\x0c" + b"Li Wei 2nd"
    cleaned = strip_metadata(write(tmp_path, first_scan + comment + second_scan + b"\xff\xd9"), Kind.JPEG)
    assert cleaned == first_scan + second_scan + b"\xff\xd9"


def test_gif_comment_and_xmp_are_removed_but_animation_loop_kept(tmp_path):
    cleaned = strip_metadata(write(tmp_path, samples.gif() + b"trailing"), Kind.GIF)
    assert cleaned == samples.gif(metadata=False)
    assert b"NETSCAPE2.0" in cleaned and AUTHOR not in cleaned


def test_webp_exif_and_xmp_chunks_and_flags_are_removed(tmp_path):
    cleaned = strip_metadata(write(tmp_path, samples.webp()), Kind.WEBP)
    assert cleaned == samples.webp(metadata=False)  # chunks gone, flags cleared, RIFF size recomputed
    assert detect(write(tmp_path, cleaned, "cleaned.webp")).kind is Kind.WEBP


@pytest.mark.parametrize("kind", [Kind.TEXT, Kind.CSV, Kind.ZIP, Kind.DOC])
def test_kinds_without_rewriting_are_passed_through(tmp_path, kind):
    path = write(tmp_path, b"a,b\n1,2\n")
    assert strip_metadata(path, kind) == path


def test_blind_safe_flags_the_kinds_that_keep_metadata():
    assert {kind for kind in Kind if not blind_safe(kind)} == {Kind.DOC, Kind.XLS, Kind.PPT, Kind.ZIP}


@pytest.mark.parametrize(("kind", "data"), [
    (Kind.PNG, samples.png()[:30]),
    (Kind.JPEG, samples.jpeg()[:40]),
    (Kind.GIF, samples.gif()[:20]),
    (Kind.PDF, b"%PDF-1.7 nothing"),
    (Kind.DOCX, b"PK\x03\x04 broken"),
])
def test_unparseable_files_fail_closed(tmp_path, kind, data):
    with pytest.raises(MetadataError):
        strip_metadata(write(tmp_path, data), kind)


@pytest.mark.parametrize(("kind", "index", "name"), [
    (Kind.PDF, 1, "attachment-1.pdf"),
    (Kind.JPEG, 2, "attachment-2.jpg"),
    (Kind.TEXT, 3, "attachment-3.txt"),
    ("docx", 4, "attachment-4.docx"),
])
def test_pseudonymous_name(kind, index, name):
    assert pseudonymous_name(kind, index) == name


def test_reviewer_copy_of_a_pdf_with_scripts_contains_no_script(tmp_path):
    original = samples.pdf_with_scripts()
    for name in samples.ACTIVE_PDF_NAMES:
        assert name in original
    assert detect(write(tmp_path, original)).kind is Kind.PDF  # accepted: authors and staff keep the original
    cleaned = strip_metadata(write(tmp_path, original), Kind.PDF)
    assert isinstance(cleaned, bytes)
    for name in samples.ACTIVE_PDF_NAMES:
        assert name not in cleaned, name
    reader = PdfReader(io.BytesIO(cleaned))
    assert len(reader.pages) == 1
    links = [a.get_object() for a in reader.pages[0].get("/Annots", [])]
    assert all("/A" not in link for link in links)  # the links lost their actions, the page stays
