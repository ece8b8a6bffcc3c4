"""An S3-wire server for the tests that store attachments in a bucket: moto's server mode,
started here on a free port of 127.0.0.1 (no network, no credentials of anyone's)."""

from __future__ import annotations

import os
import socket
import uuid

import pytest

_FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",  # noqa: S105 - moto's
                     "AWS_DEFAULT_REGION": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """The URL of a running S3-compatible server, with dummy credentials in the environment."""
    from moto.server import ThreadedMotoServer

    saved = {name: os.environ.get(name) for name in _FAKE_CREDENTIALS}
    os.environ.update(_FAKE_CREDENTIALS)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def s3_bucket(s3_endpoint):
    """A fresh, empty bucket: (name, boto3 client)."""
    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint)
    name = f"attachments-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return name, client
