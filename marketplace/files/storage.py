"""Content-addressed attachment storage.

An upload is streamed into `<root>/tmp/` while it is hashed and counted, refused beyond the
size limit or when empty, checked for its type from its bytes (`filetypes.detect`), and only
then moved into the store under its sha256: `<root>/<sha[:2]>/<sha>`. Identical content is
stored once. The original name is never used on disk: it is cleaned for display and kept by
the caller as metadata. Whatever goes wrong, the temporary file is removed, so a refused or
interrupted upload leaves nothing behind.

Because content is shared, deleting a blob is the caller's decision: delete only when no
attachment row references the sha256 any more.

`Storage` is the protocol of the two backends: `LocalStorage` (the default, a folder) and
`S3Storage` (an S3-compatible bucket through boto3, with `STORAGE_URL=s3://bucket/prefix`; several
app instances then share the blobs). `storage_for(config)` picks one; every caller asks it. Uploads
are always staged and checked in the local `<root>/tmp/` folder first; `save` then moves the file
or sends it to the bucket from disk (multipart, in chunks), and `open` streams it back, so no file
is ever held in memory whole.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

from marketplace.errors import NotFound, PayloadTooLarge, ValidationFailed
from marketplace.files.filetypes import detect
from marketplace.files.kinds import KINDS, ArchiveLimits, Kind

CHUNK = 64 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_DISPLAY_NAME = 200


class FileTooLarge(PayloadTooLarge):
    def __init__(self, max_bytes: int):
        message = _l("The file is larger than the limit of %(size)s MB.", size=f"{max_bytes / 1_000_000:g}")
        super().__init__(message, errors={"file": [message]})
        self.max_bytes = max_bytes


class EmptyFile(ValidationFailed):
    def __init__(self):
        message = _l("The file is empty.")
        super().__init__(message, errors={"file": [message]})


class StoredFileMissing(NotFound):
    def __init__(self, sha256: str):
        super().__init__(_l("This file is not available."))
        self.sha256 = sha256


class Storage(Protocol):
    def save(self, sha256: str, source: Path) -> None:
        """Take ownership of the checked temporary file `source` (move or upload, then remove it)."""

    def open(self, sha256: str) -> BinaryIO:
        """A binary file object for reading; raises StoredFileMissing."""

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> None:
        """Remove the blob if present; the caller checks that nothing references it."""

    def local_path(self, sha256: str) -> Path | None:
        """The blob's path on this machine, or None for a remote store."""


class LocalStorage:
    """Blobs under `root/<sha[:2]>/<sha>`, readable by the application user only."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def local_path(self, sha256: str) -> Path:
        if not _SHA256.fullmatch(sha256):
            raise StoredFileMissing(sha256)  # never turn arbitrary input into a path
        return self.root / sha256[:2] / sha256

    def save(self, sha256: str, source: Path) -> None:
        target = self.local_path(sha256)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if target.exists():
            source.unlink()  # same content already stored
            return
        os.replace(source, target)  # atomic: readers see the whole file or nothing
        _fsync_directory(target.parent)

    def open(self, sha256: str) -> BinaryIO:
        try:
            return self.local_path(sha256).open("rb")
        except FileNotFoundError as error:
            raise StoredFileMissing(sha256) from error

    def exists(self, sha256: str) -> bool:
        return _SHA256.fullmatch(sha256) is not None and self.local_path(sha256).is_file()

    def delete(self, sha256: str) -> None:
        self.local_path(sha256).unlink(missing_ok=True)


class S3Storage:
    """Blobs in an S3-compatible bucket under `<prefix>/<sha[:2]>/<sha>`.

    Credentials come from the environment as boto3 reads them (AWS_ACCESS_KEY_ID, ...);
    `endpoint_url` points at a store other than AWS (also AWS_ENDPOINT_URL_S3).
    """

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None, client=None):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client or _s3_client(endpoint_url)

    def key(self, sha256: str) -> str:
        if not _SHA256.fullmatch(sha256):
            raise StoredFileMissing(sha256)  # never turn arbitrary input into a key
        return "/".join(filter(None, (self.prefix, sha256[:2], sha256)))

    def local_path(self, sha256: str) -> None:
        return None

    def save(self, sha256: str, source: Path) -> None:
        if not self.exists(sha256):
            # upload_file reads the file in chunks (multipart for large files).
            self.client.upload_file(str(source), self.bucket, self.key(sha256))
        source.unlink(missing_ok=True)

    def open(self, sha256: str) -> BinaryIO:
        """The object's body, streamed from the store as it is read."""
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))["Body"]
        except self.client.exceptions.NoSuchKey as error:
            raise StoredFileMissing(sha256) from error

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        if not _SHA256.fullmatch(sha256):
            return False
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, sha256: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(sha256))


@functools.lru_cache(maxsize=8)
def _s3_client(endpoint_url: str | None):
    """One client per endpoint and process (boto3 clients are thread-safe and slow to create)."""
    import boto3

    return boto3.client("s3", endpoint_url=endpoint_url)


def parse_storage_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of `s3://bucket/prefix`; ValueError for anything else."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"STORAGE_URL must look like s3://bucket/prefix, got {url!r}")
    return parts.netloc, parts.path.strip("/")


def storage_for(config: Mapping) -> Storage:
    """The attachment store the configuration names: `STORAGE_URL` (s3://...) or the local folder."""
    url = config.get("STORAGE_URL")
    if not url:
        return LocalStorage(upload_root(config))
    bucket, prefix = parse_storage_url(url)
    return S3Storage(bucket, prefix, endpoint_url=config.get("S3_ENDPOINT_URL"))


@contextmanager
def local_copy(storage: Storage, sha256: str, *, staging: Path) -> Iterator[Path]:
    """A path to the blob on this machine: its own for a local store, else a temporary copy
    (streamed into `staging`, removed afterwards)."""
    path = storage.local_path(sha256)
    if path is not None:
        yield path
        return
    staging.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(dir=staging, prefix="download-")
    try:
        with os.fdopen(descriptor, "wb") as handle, closing(storage.open(sha256)) as source:
            shutil.copyfileobj(source, handle, CHUNK)
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    content_type: str
    kind: Kind
    original_name: str  # cleaned, for display only
    path: Path | None  # None when the store is remote

    @property
    def extension(self) -> str:
        return KINDS[self.kind].extension


def upload_root(config: Mapping) -> Path:
    """`UPLOAD_ROOT` if configured, else `<instance>/uploads` (outside the web root)."""
    configured = config.get("UPLOAD_ROOT")
    return Path(configured) if configured else Path(config["INSTANCE_PATH"]) / "uploads"


def store_upload(stream, *, original_name: str | None, max_bytes: int, root: Path,
                 storage: Storage | None = None, limits: ArchiveLimits | None = None) -> StoredFile:
    """Check and store one upload; raise FileTooLarge (413), EmptyFile or UnsupportedFileType (422).

    `stream` is anything with `read(n)` (a werkzeug FileStorage, an open file). `root` holds the
    temporary folder, and the blobs too unless another `storage` is given.
    """
    root = Path(root)
    storage = storage or LocalStorage(root)
    staging = root / "tmp"
    staging.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary_name = tempfile.mkstemp(dir=staging, prefix="upload-")
    temporary = Path(temporary_name)
    try:
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(descriptor, "wb") as handle:
            # Read at most one byte beyond the limit: enough to know it is too large.
            while chunk := stream.read(min(CHUNK, max_bytes + 1 - size)):
                size += len(chunk)
                if size > max_bytes:
                    raise FileTooLarge(max_bytes)
                digest.update(chunk)
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        if size == 0:
            raise EmptyFile()
        detected = detect(temporary, limits=limits)
        sha256 = digest.hexdigest()
        storage.save(sha256, temporary)
        return StoredFile(sha256=sha256, size=size, content_type=detected.content_type, kind=detected.kind,
                          original_name=display_name(original_name), path=storage.local_path(sha256))
    finally:
        temporary.unlink(missing_ok=True)


def open_for_download(sha256: str, *, root: Path | None = None, storage: Storage | None = None) -> BinaryIO:
    """Open a stored blob by its sha256 (the caller has checked the user may download it)."""
    if storage is None:
        if root is None:
            raise TypeError("open_for_download needs root or storage")
        storage = LocalStorage(root)
    return storage.open(sha256)


def purge_stale_uploads(root: Path, *, older_than_seconds: float = 3600) -> int:
    """Remove temporary files a crashed process left in `<root>/tmp/`; return how many."""
    staging = Path(root) / "tmp"
    if not staging.is_dir():
        return 0
    cutoff = time.time() - older_than_seconds
    removed = 0
    for leftover in [*staging.glob("upload-*"), *staging.glob("download-*")]:
        if leftover.is_file() and leftover.stat().st_mtime < cutoff:
            leftover.unlink(missing_ok=True)
            removed += 1
    return removed


def display_name(name: str | None) -> str:
    """The last path component of a client-sent name, without control or direction-override characters.

    `../../etc/passwd` becomes `passwd`; `C:\\Users\\x\\report.pdf` becomes `report.pdf`. The result is
    only ever shown (escaped) or used in a Content-Disposition header, never as a path.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    # Categories Cc/Cf/Cs/Co/Cn: controls, bidi overrides (U+202E "gnp.exe" tricks), surrogates.
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C").strip().strip(".").strip()
    if not name:
        return "file"
    if len(name) > MAX_DISPLAY_NAME:
        stem, dot, extension = name.rpartition(".")
        keep = extension if dot and 0 < len(extension) <= 10 else ""
        name = name[: MAX_DISPLAY_NAME - len(keep) - 1].rstrip() + ("." + keep if keep else "")
    return name


def download_name(original_name: str | None, kind: Kind) -> str:
    """A name for Content-Disposition whose extension matches the content.

    A file keeps its extension only when it is one the detected kind may have; otherwise the kind's
    extension is appended, so a text file sent as `run.bat` downloads as `run.bat.txt` and no
    operating system executes it by double-click.
    """
    name = display_name(original_name)
    stem, dot, extension = name.rpartition(".")
    if dot and stem and "." + extension.lower() in KINDS[kind].aliases:
        return name
    return name + KINDS[kind].extension


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; some platforms cannot open directories, which is harmless."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
