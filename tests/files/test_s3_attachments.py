"""Proposal attachments through the API with STORAGE_URL pointing at a bucket (moto's S3 server)."""

from __future__ import annotations

import hashlib
import io

import pytest

from tests.proposals.test_api_proposals import PDF, accept, create


@pytest.fixture
def bucket_app(app, s3_bucket, s3_endpoint):
    name, client = s3_bucket
    app.config.update(STORAGE_URL=f"s3://{name}/blobs", S3_ENDPOINT_URL=s3_endpoint)
    yield app, name, client
    app.config.update(STORAGE_URL=None, S3_ENDPOINT_URL=None)


def test_an_attachment_is_kept_in_the_bucket_and_downloaded_from_it(bucket_app, client, center, make_user,
                                                                     api_token):
    app, bucket, s3 = bucket_app
    challenge_id = center.open_challenge()
    solver = api_token(make_user(country="DE"))
    accept(client, challenge_id, solver)
    proposal_id = create(client, challenge_id, solver).get_json()["id"]
    uploaded = client.post(f"/api/v1/proposals/{proposal_id}/attachments", headers=solver,
                           data={"file": (io.BytesIO(PDF), "design.pdf")}, content_type="multipart/form-data")
    assert uploaded.status_code == 201, uploaded.get_json()
    sha = hashlib.sha256(PDF).hexdigest()
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [f"blobs/{sha[:2]}/{sha}"]
    download = client.get(f"/api/v1/attachments/{uploaded.get_json()['id']}", headers=solver)
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    s3.delete_object(Bucket=bucket, Key=keys[0])  # the store lost it: a 404 problem, not a 500
    missing = client.get(f"/api/v1/attachments/{uploaded.get_json()['id']}", headers=solver)
    assert missing.status_code == 404
