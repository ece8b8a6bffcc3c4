"""Storing uploads: limits, content addressing, and nothing partial left on disk."""

from __future__ import annotations

import hashlib
import io
import os
import time

import pytest

from marketplace.files.kinds import Kind, UnsafeArchive, UnsupportedFileType
from marketplace.files.storage import (
    EmptyFile,
    FileTooLarge,
    LocalStorage,
    StoredFileMissing,
    display_name,
    download_name,
    open_for_download,
    purge_stale_uploads,
    store_upload,
    upload_root,
)
from tests.files import samples

LIMIT = 25 * 1024 * 1024


def store(root, data: bytes, name: str = "file.bin", max_bytes: int = LIMIT):
    return store_upload(io.BytesIO(data), original_name=name, max_bytes=max_bytes, root=root)


def blobs(root) -> list:
    """Every stored blob (the tmp folder aside)."""
    return sorted(path for path in root.rglob("*") if path.is_file() and path.parent.name != "tmp")


def temporary_files(root) -> list:
    return list((root / "tmp").iterdir()) if (root / "tmp").exists() else []


def test_pdf_is_stored_under_its_sha256_and_reads_back(tmp_path):
    data = samples.pdf()
    stored = store(tmp_path, data, "Proposal final.pdf")
    sha = hashlib.sha256(data).hexdigest()
    assert (stored.sha256, stored.size, stored.kind) == (sha, len(data), Kind.PDF)
    assert stored.content_type == "application/pdf"
    assert stored.original_name == "Proposal final.pdf"
    assert stored.path == tmp_path / sha[:2] / sha
    assert blobs(tmp_path) == [stored.path]
    assert temporary_files(tmp_path) == []
    with open_for_download(sha, root=tmp_path) as handle:
        assert handle.read() == data
    assert stored.path.stat().st_mode & 0o077 == 0  # readable by the application user only


def test_identical_content_is_stored_once(tmp_path):
    first = store(tmp_path, samples.png(), "a.png")
    second = store(tmp_path, samples.png(), "copy of a.png")
    assert first.path == second.path
    assert (first.original_name, second.original_name) == ("a.png", "copy of a.png")
    assert len(blobs(tmp_path)) == 1
    assert temporary_files(tmp_path) == []


def test_path_traversal_name_is_only_metadata(tmp_path):
    stored = store(tmp_path, b"root:x:0:0:root:/root:/bin/bash\n", "../../etc/passwd")
    assert stored.original_name == "passwd"
    assert stored.path.parent.parent == tmp_path
    assert stored.path.name == stored.sha256
    assert not (tmp_path.parent / "etc").exists()
    assert [path.name for path in blobs(tmp_path)] == [stored.sha256]


def test_empty_file_is_refused_and_leaves_nothing(tmp_path):
    with pytest.raises(EmptyFile) as refused:
        store(tmp_path, b"", "empty.pdf")
    assert refused.value.status == 422
    assert blobs(tmp_path) == [] and temporary_files(tmp_path) == []


def test_limit_is_inclusive_and_one_byte_more_is_refused_with_413(tmp_path):
    text = b"x" * 1023 + b"\n"
    assert store(tmp_path, text, "notes.txt", max_bytes=1024).size == 1024
    with pytest.raises(FileTooLarge) as refused:
        store(tmp_path, text + b"y", "notes.txt", max_bytes=1024)
    assert refused.value.status == 413
    assert len(blobs(tmp_path)) == 1 and temporary_files(tmp_path) == []


class EndlessStream:
    """A client that never stops sending; counts what was read."""

    def __init__(self):
        self.read_bytes = 0

    def read(self, size: int) -> bytes:
        self.read_bytes += size
        return b"a" * size


def test_huge_upload_is_cut_right_after_the_limit(tmp_path):
    stream = EndlessStream()
    with pytest.raises(FileTooLarge):
        store_upload(stream, original_name="huge.txt", max_bytes=3 * 1024 * 1024, root=tmp_path)
    assert stream.read_bytes == 3 * 1024 * 1024 + 1
    assert blobs(tmp_path) == [] and temporary_files(tmp_path) == []


class BrokenStream:
    def __init__(self):
        self.calls = 0

    def read(self, size: int) -> bytes:
        self.calls += 1
        if self.calls > 2:
            raise OSError("client disconnected")
        return b"partial text\n"


def test_interrupted_upload_leaves_nothing(tmp_path):
    with pytest.raises(OSError, match="disconnected"):
        store_upload(BrokenStream(), original_name="a.txt", max_bytes=LIMIT, root=tmp_path)
    assert blobs(tmp_path) == [] and temporary_files(tmp_path) == []


@pytest.mark.parametrize(("data", "name", "detected"), [
    (b"\x7fELF\x02\x01\x01" + bytes(200), "results.pdf", "ELF executable"),
    (b"MZ\x90\x00\x03" + bytes(200), "thesis.pdf", "Windows executable (PE/MZ)"),
    (b"#!/bin/sh\nrm -rf ~\n", "readme.txt", "script (#!)"),
])
def test_disguised_executables_are_refused_and_leave_nothing(tmp_path, data, name, detected):
    with pytest.raises(UnsupportedFileType) as refused:
        store(tmp_path, data, name)
    assert refused.value.detected == detected
    assert refused.value.status == 422
    assert blobs(tmp_path) == [] and temporary_files(tmp_path) == []


def test_zip_bomb_is_refused_and_leaves_nothing(tmp_path):
    with pytest.raises(UnsafeArchive):
        store(tmp_path, samples.zip_bomb(20 * 1024 * 1024), "data.zip")
    assert blobs(tmp_path) == [] and temporary_files(tmp_path) == []


def test_open_for_download_refuses_unknown_and_malformed_hashes(tmp_path):
    with pytest.raises(StoredFileMissing):
        open_for_download("0" * 64, root=tmp_path)
    with pytest.raises(StoredFileMissing):
        open_for_download("../../etc/passwd", root=tmp_path)
    with pytest.raises(StoredFileMissing):
        open_for_download("A" * 64, root=tmp_path)  # only lowercase hex is a stored name


def test_local_storage_exists_and_delete(tmp_path):
    stored = store(tmp_path, samples.png(), "a.png")
    storage = LocalStorage(tmp_path)
    assert storage.exists(stored.sha256)
    assert not storage.exists("../" + stored.sha256)
    storage.delete(stored.sha256)
    assert not storage.exists(stored.sha256)
    with pytest.raises(StoredFileMissing):
        storage.open(stored.sha256)


def test_purge_removes_only_stale_temporary_files(tmp_path):
    store(tmp_path, samples.png(), "a.png")
    stale = tmp_path / "tmp" / "upload-crashed"
    fresh = tmp_path / "tmp" / "upload-running"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    assert purge_stale_uploads(tmp_path) == 1
    assert not stale.exists() and fresh.exists()
    assert len(blobs(tmp_path)) == 1


@pytest.mark.parametrize(("raw", "shown"), [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\liwei\\Desktop\\report.pdf", "report.pdf"),
    ("report\u202egpj.exe", "reportgpj.exe"),  # right-to-left override removed
    ("line\nbreak.txt", "linebreak.txt"),
    ("..", "file"),
    ("", "file"),
    (None, "file"),
    ("Kat\u0061\u0301lysator.pdf", "Katálysator.pdf"),  # NFC
])
def test_display_name(raw, shown):
    assert display_name(raw) == shown


def test_display_name_is_bounded_and_keeps_its_extension():
    name = display_name("a" * 500 + ".pdf")
    assert len(name) == 200 and name.endswith("a.pdf")


@pytest.mark.parametrize(("raw", "kind", "name"), [
    ("report.pdf", Kind.PDF, "report.pdf"),
    ("photo.JPEG", Kind.JPEG, "photo.JPEG"),
    ("run.bat", Kind.TEXT, "run.bat.txt"),
    ("exploit.rtf", Kind.TEXT, "exploit.rtf.txt"),
    ("notes.md", Kind.TEXT, "notes.md"),
    ("scan", Kind.PNG, "scan.png"),
    ("../../etc/passwd", Kind.TEXT, "passwd.txt"),
    ("invoice.pdf.exe", Kind.PDF, "invoice.pdf.exe.pdf"),
])
def test_download_name_extension_follows_the_content(raw, kind, name):
    assert download_name(raw, kind) == name


def test_upload_root_defaults_to_the_instance_folder(tmp_path):
    assert upload_root({"INSTANCE_PATH": str(tmp_path)}) == tmp_path / "uploads"
    assert upload_root({"INSTANCE_PATH": str(tmp_path), "UPLOAD_ROOT": "/srv/blobs"}).as_posix() == "/srv/blobs"


# -- an S3-compatible bucket (moto's server, see tests/factories.py) -------------------------------------------


@pytest.fixture
def bucket_storage(s3_bucket, s3_endpoint):
    from marketplace.files.storage import S3Storage

    name, _ = s3_bucket
    return S3Storage(name, "/proposals/", endpoint_url=s3_endpoint)


def bucket_keys(s3_bucket) -> list[str]:
    name, client = s3_bucket
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=name).get("Contents", []))


def test_an_upload_goes_to_the_bucket_and_streams_back(tmp_path, s3_bucket, bucket_storage):
    data = samples.pdf()
    stored = store_upload(io.BytesIO(data), original_name="p.pdf", max_bytes=LIMIT, root=tmp_path,
                          storage=bucket_storage)
    sha = hashlib.sha256(data).hexdigest()
    assert (stored.sha256, stored.path) == (sha, None)
    assert bucket_keys(s3_bucket) == [f"proposals/{sha[:2]}/{sha}"]
    assert blobs(tmp_path) == [] and temporary_files(tmp_path) == []  # nothing kept on this machine
    with open_for_download(sha, storage=bucket_storage) as handle:
        assert handle.read() == data
    again = store_upload(io.BytesIO(data), original_name="copy.pdf", max_bytes=LIMIT, root=tmp_path,
                         storage=bucket_storage)
    assert again.sha256 == sha and len(bucket_keys(s3_bucket)) == 1  # identical content stored once


def test_a_large_upload_is_sent_in_parts_and_read_back_in_chunks(tmp_path, s3_bucket, bucket_storage):
    chunk_sizes = []

    class Client:
        """A client sending 20 MB of text, recording how much the store asks for at a time."""

        def __init__(self):
            self.left = 20 * 1024 * 1024

        def read(self, size):
            chunk_sizes.append(size)
            size = min(size, self.left)
            self.left -= size
            return (b"0123456789abcde\n" * (size // 16 + 1))[:size]

    stored = store_upload(Client(), original_name="big.txt", max_bytes=LIMIT, root=tmp_path, storage=bucket_storage)
    assert max(chunk_sizes) <= 64 * 1024
    name, client = s3_bucket
    head = client.head_object(Bucket=name, Key=bucket_storage.key(stored.sha256))
    assert head["ContentLength"] == 20 * 1024 * 1024
    assert "-" in head["ETag"]  # a multipart upload: sent from disk in parts, never as one body in memory
    digest = hashlib.sha256()
    with bucket_storage.open(stored.sha256) as body:
        while piece := body.read(64 * 1024):
            assert len(piece) <= 64 * 1024
            digest.update(piece)
    assert digest.hexdigest() == stored.sha256


def test_a_refused_upload_leaves_nothing_in_the_bucket(tmp_path, s3_bucket, bucket_storage):
    with pytest.raises(UnsupportedFileType):
        store_upload(io.BytesIO(b"MZ\x90\x00\x03" + bytes(200)), original_name="a.pdf", max_bytes=LIMIT,
                     root=tmp_path, storage=bucket_storage)
    with pytest.raises(FileTooLarge):
        store_upload(io.BytesIO(b"x" * 2048), original_name="a.txt", max_bytes=1024, root=tmp_path,
                     storage=bucket_storage)
    assert bucket_keys(s3_bucket) == [] and temporary_files(tmp_path) == []


def test_bucket_exists_delete_and_missing_blobs(tmp_path, s3_bucket, bucket_storage):
    from marketplace.files.storage import local_copy

    stored = store_upload(io.BytesIO(samples.png()), original_name="a.png", max_bytes=LIMIT, root=tmp_path,
                          storage=bucket_storage)
    assert bucket_storage.exists(stored.sha256) and not bucket_storage.exists("../" + stored.sha256)
    with local_copy(bucket_storage, stored.sha256, staging=tmp_path / "tmp") as path:
        assert path.read_bytes() == samples.png()
    assert not path.exists()
    bucket_storage.delete(stored.sha256)
    assert not bucket_storage.exists(stored.sha256) and bucket_keys(s3_bucket) == []
    for missing in ("0" * 64, "../../etc/passwd", "A" * 64):
        with pytest.raises(StoredFileMissing):
            bucket_storage.open(missing)


def test_storage_for_reads_the_configuration(tmp_path, s3_endpoint):
    from marketplace.files.storage import S3Storage, parse_storage_url, storage_for

    local = storage_for({"INSTANCE_PATH": str(tmp_path)})
    assert isinstance(local, LocalStorage) and local.root == tmp_path / "uploads"
    remote = storage_for({"INSTANCE_PATH": str(tmp_path), "STORAGE_URL": "s3://blobs/innobridge/prod",
                          "S3_ENDPOINT_URL": s3_endpoint})
    assert isinstance(remote, S3Storage) and (remote.bucket, remote.prefix) == ("blobs", "innobridge/prod")
    assert remote.local_path("0" * 64) is None
    for bad in ("https://blobs/x", "s3:///x", "/srv/blobs", "s3://blobs/x?versionId=1"):
        with pytest.raises(ValueError, match="s3://bucket/prefix"):
            parse_storage_url(bad)


def test_a_malformed_storage_url_stops_the_start(tmp_path, monkeypatch):
    from marketplace import config

    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("STORAGE_URL", "https://blobs.example/attachments")
    with pytest.raises(ValueError, match="STORAGE_URL must look like s3://bucket/prefix"):
        config.from_environment()
    monkeypatch.setenv("STORAGE_URL", "s3://blobs/attachments")
    assert config.from_environment()["STORAGE_URL"] == "s3://blobs/attachments"
