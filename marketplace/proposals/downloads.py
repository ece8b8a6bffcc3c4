"""Serving attachments: through the app only, with the content type we detected, never inline."""

from __future__ import annotations

from flask import current_app, send_file

from marketplace.files.kinds import Kind
from marketplace.files.storage import download_name, open_for_download, storage_for


def send_attachment(attachment, *, blind_name: str | None = None, content: bytes | None = None):
    import io

    stream = io.BytesIO(content) if content is not None else open_for_download(
        attachment.sha256, storage=storage_for(current_app.config))
    name = blind_name or download_name(attachment.filename, Kind(attachment.kind))
    response = send_file(stream, mimetype=attachment.content_type, as_attachment=True, download_name=name,
                         max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
