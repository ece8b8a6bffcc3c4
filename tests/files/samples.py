"""Real small files built in memory for the file-storage tests."""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib

from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject

AUTHOR = "Dr. Li Wei"

XMP = f"""<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:creator><rdf:Seq><rdf:li>{AUTHOR}</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>""".encode()


def pdf(*, author: str = AUTHOR, user_password: str | None = None, owner_password: str | None = None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_metadata({"/Author": author, "/Title": f"Proposal by {author}", "/Creator": f"{author}'s Word",
                         "/Subject": "Catalyst", "/Keywords": author})
    writer.xmp_metadata = XMP
    note = DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"),
        NameObject("/Subtype"): NameObject("/Text"),
        NameObject("/Rect"): ArrayObject([NumberObject(10), NumberObject(10), NumberObject(30), NumberObject(30)]),
        NameObject("/T"): TextStringObject(author),
        NameObject("/Contents"): TextStringObject("Check the yield figure"),
    })
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(note)])
    if user_password is not None or owner_password is not None:
        writer.encrypt(user_password=user_password or "", owner_password=owner_password, algorithm="AES-128")
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml"
 ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
</Types>"""


def docx(*, author: str = AUTHOR, extra: dict[str, bytes] | None = None) -> bytes:
    parts = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": '<?xml version="1.0"?><Relationships '
                       'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>',
        "docProps/core.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/">'
            f"<dc:creator>{author}</dc:creator><cp:lastModifiedBy>{author}</cp:lastModifiedBy>"
            f"<dc:title>Proposal of {author}</dc:title>"
            "<dcterms:created>2026-03-01T08:00:00Z</dcterms:created></cp:coreProperties>"),
        "docProps/app.xml": (
            '<?xml version="1.0"?><Properties '
            'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            "<Company>Tsinghua Catalysis Lab</Company><Manager>Prof. Zhang</Manager><Pages>1</Pages></Properties>"),
        "word/document.xml": (
            f'<?xml version="1.0"?><w:document {W}><w:body><w:p>'
            f'<w:ins w:id="1" w:author="{author}" w:date="2026-03-01T08:00:00Z"><w:r><w:t>New catalyst</w:t></w:r>'
            "</w:ins></w:p></w:body></w:document>"),
        "word/comments.xml": (
            f'<?xml version="1.0"?><w:comments {W}><w:comment w:id="0" w:author="{author}" w:initials=\'LW\' '
            'w:date="2026-03-01T08:00:00Z"><w:p><w:r><w:t>Cite our 2024 paper</w:t></w:r></w:p></w:comment>'
            "</w:comments>"),
        "word/people.xml": (
            '<?xml version="1.0"?><w15:people xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml">'
            f'<w15:person w15:author="{author}"><w15:presenceInfo w15:providerId="AD" '
            'w15:userId="li.wei@tsinghua.example"/></w15:person></w15:people>'),
    }
    parts.update(extra or {})
    return zip_of(parts)


def zip_of(parts: dict[str, str | bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", compression) as archive:
        for name, data in parts.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 3, 1, 8, 0, 0)),
                             data.encode() if isinstance(data, str) else data, compress_type=compression)
    return output.getvalue()


def zip_bomb(uncompressed_bytes: int) -> bytes:
    """Highly compressible zeros: a few kilobytes that unpack to `uncompressed_bytes`."""
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("zeros.bin", "w", force_zip64=True) as member:
            block = bytes(1024 * 1024)
            for _ in range(uncompressed_bytes // len(block)):
                member.write(block)
    return output.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(*, text: bytes | None = None) -> bytes:
    """A real 2x2 RGB PNG, optionally with a tEXt chunk and trailing bytes after IEND."""
    header = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
    pixels = _png_chunk(b"IDAT", zlib.compress(b"\x00" + b"\xff\x00\x00" * 2 + b"\x00" + b"\x00\x00\xff" * 2))
    chunks = [header]
    if text is not None:
        chunks += [_png_chunk(b"tEXt", b"Author\x00" + text), _png_chunk(b"tIME", b"\x07\xea\x03\x01\x08\x00\x00")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks) + pixels + _png_chunk(b"IEND", b"")


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


JPEG_SCAN = b"\x12\x34\x56\xff\x00\x78" + b"\xff\xd9"  # entropy-coded bytes (with a stuffed FF 00) and EOI


def jpeg(*, metadata: bool = True) -> bytes:
    """A JPEG marker structure; with metadata: Exif, XMP, IPTC and a comment among the image segments."""
    author = AUTHOR.encode()
    hidden = [
        _jpeg_segment(0xE1, b"Exif\x00\x00MM\x00\x2a" + b"Artist=" + author),
        _jpeg_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>" + author + b"</x:xmpmeta>"),
        _jpeg_segment(0xED, b"Photoshop 3.0\x00" + author),
        _jpeg_segment(0xFE, b"Taken by " + author),
    ]
    return b"".join([
        b"\xff\xd8",
        _jpeg_segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
        *(hidden if metadata else []),
        _jpeg_segment(0xE2, b"ICC_PROFILE\x00\x01\x01colour"),
        _jpeg_segment(0xDB, bytes(65)),  # quantisation table
        _jpeg_segment(0xC0, b"\x08\x00\x02\x00\x02\x01\x01\x11\x00"),  # frame header
        _jpeg_segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),  # start of scan
        JPEG_SCAN,
    ])


def gif(*, metadata: bool = True) -> bytes:
    """A 1x1 GIF89a with a NETSCAPE loop; with metadata: a comment and an XMP application extension."""
    author = AUTHOR.encode()
    header = b"GIF89a" + struct.pack("<HH", 1, 1) + b"\x80\x00\x00" + b"\x00\x00\x00\xff\xff\xff"
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    xmp = b"\x21\xff\x0bXMP DataXMP" + bytes([len(author)]) + author + b"\x00"
    note = b"\x21\xfe" + bytes([len(author)]) + author + b"\x00"
    image = b"\x2c" + struct.pack("<HHHH", 0, 0, 1, 1) + b"\x00" + b"\x02\x02\x44\x01\x00"
    return header + loop + (xmp + note if metadata else b"") + image + b"\x3b"


def webp(*, metadata: bool = True) -> bytes:
    """A lossless WebP in the extended format; with metadata: EXIF and XMP chunks and their VP8X flags."""
    author = AUTHOR.encode()

    def chunk(fourcc: bytes, data: bytes) -> bytes:
        return fourcc + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")

    flags = 0x08 | 0x04 if metadata else 0
    vp8x = chunk(b"VP8X", bytes([flags]) + b"\x00\x00\x00" + b"\x00\x00\x00" + b"\x00\x00\x00")
    image = chunk(b"VP8L", b"\x2f\x00\x00\x00\x00\x88\x88\x08")
    hidden = chunk(b"EXIF", b"MM\x00\x2aArtist=" + author) + chunk(b"XMP ", author) if metadata else b""
    body = b"WEBP" + vp8x + image + hidden
    return b"RIFF" + struct.pack("<I", len(body)) + body


END_OF_CHAIN, FREE, FAT_SECTOR, NO_STREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def ole(*entries: tuple[str, int]) -> bytes:
    """A minimal valid OLE compound file (v3) whose root holds empty streams (2) or storages (1)."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 40, 0, 1, 1, 0, 4096, END_OF_CHAIN, 0, END_OF_CHAIN, 0)
    struct.pack_into("<I", header, 76, 0)  # the FAT lives in sector 0
    header[80:512] = b"\xff" * 432
    fat = struct.pack("<II", FAT_SECTOR, END_OF_CHAIN) + b"\xff" * (512 - 8)

    def entry(name: str, kind: int, right: int, child: int) -> bytes:
        encoded = (name + "\x00").encode("utf-16-le")
        return (encoded.ljust(64, b"\x00") + struct.pack("<HBB", len(encoded), kind, 1)
                + struct.pack("<III", NO_STREAM, right, child) + bytes(36)
                + struct.pack("<IQ", END_OF_CHAIN, 0))

    directory = [entry("Root Entry", 5, NO_STREAM, 1 if entries else NO_STREAM)]
    for index, (name, kind) in enumerate(entries, start=1):
        directory.append(entry(name, kind, index + 1 if index < len(entries) else NO_STREAM, NO_STREAM))
    while len(directory) % 4:
        directory.append(bytes(64) + struct.pack("<HBB", 0, 0, 0) + b"\xff" * 12 + bytes(36) + bytes(12))
    assert len(directory) == 4, "one directory sector is enough for these tests"
    return bytes(header) + fat + b"".join(directory)


@functools.cache
def lying_zip_bomb(uncompressed_bytes: int, *, claimed: int = 1000) -> bytes:
    """Zeros that inflate to `uncompressed_bytes`, with both headers claiming `claimed` bytes.

    The CRC is patched to that of the first `claimed` bytes, so a checker that stops at the
    declared size finds a perfectly valid entry; an unpacker that follows the stream gets it all.
    """
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("report.txt", "w") as member:
            block = bytes(1024 * 1024)
            for _ in range(uncompressed_bytes // len(block)):
                member.write(block)
    data = bytearray(output.getvalue())
    crc = zlib.crc32(bytes(claimed))
    struct.pack_into("<I", data, 14, crc)  # local header: CRC-32, then sizes at 18 and 22
    struct.pack_into("<I", data, 22, claimed)
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 16, crc)
    struct.pack_into("<I", data, central + 24, claimed)
    return bytes(data)


ACTIVE_PDF_NAMES = (b"/JavaScript", b"/JS", b"/OpenAction", b"/AA", b"/Launch")


def pdf_with_scripts() -> bytes:
    """A one-page PDF that runs JavaScript on opening, on page open, from a link and a name tree,
    and launches a program from a link: every way a reviewer's viewer could be made to run code."""
    writer = PdfWriter()
    writer.add_blank_page(200, 200)

    def js(code: str):
        return writer._add_object(DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                                                    NameObject("/JS"): TextStringObject(code)}))

    writer._root_object[NameObject("/OpenAction")] = js("app.alert('opened')")
    writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): DictionaryObject({
        NameObject("/Names"): ArrayObject([TextStringObject("init"), js("this.submitForm('https://x.example')")])})})
    page = writer.pages[0]
    page[NameObject("/AA")] = DictionaryObject({NameObject("/O"): js("app.launchURL('https://x.example')")})
    launch = DictionaryObject({NameObject("/S"): NameObject("/Launch"),
                               NameObject("/F"): TextStringObject("cmd.exe")})
    rect = ArrayObject([NumberObject(10), NumberObject(10), NumberObject(90), NumberObject(30)])
    links = [DictionaryObject({NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
                               NameObject("/Rect"): rect, NameObject("/A"): action})
             for action in (writer._add_object(launch), js("app.alert('clicked')"))]
    page[NameObject("/Annots")] = ArrayObject([writer._add_object(link) for link in links])
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()
