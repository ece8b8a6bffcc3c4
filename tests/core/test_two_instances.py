"""Two app instances (gunicorn, separate instance folders) on one PostgreSQL, one Redis and one
S3-compatible store: what one writes, the other finds and serves.

Search goes through the PostgreSQL backend, indexing through an RQ worker (REDIS_URL is set), and
attachments through the bucket. The Redis database number is this test's own (9) and is emptied
afterwards; the PostgreSQL database `<test database>_two` is created and dropped here.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from marketplace.config import normalise_database_url
from tests.conftest import _postgres_url
from tests.factories import FX, RATES, TEST_PASSWORD, Center
from tests.files import samples

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/9"
BIN = Path(sys.executable).parent


def pytest_generate_tests(metafunc):
    if "shared_database" in metafunc.fixturenames:  # PostgreSQL only: the postgres search backend needs it
        metafunc.parametrize("shared_database", ["postgresql"] if _postgres_url() else [], indirect=True)


@pytest.fixture
def shared_database(request):
    server = sa.engine.make_url(normalise_database_url(_postgres_url()))
    name = f"{server.database}_two"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Http:
    """Just enough of Flask's test client, over HTTP, for the API builders."""

    def __init__(self, base: str):
        import requests

        self.base = base
        self.session = requests.Session()

    def request(self, method, path, *, json=None, headers=None, query_string=None, data=None, content_type=None):
        files = {key: (name, stream) for key, (stream, name) in (data or {}).items()} or None
        response = self.session.request(method, self.base + path, json=json, headers=headers, params=query_string,
                                        files=files, timeout=30)
        response.get_json = response.json
        response.data = response.content
        return response

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def put(self, path, **kwargs):
        return self.request("PUT", path, **kwargs)


@pytest.fixture
def deployment(shared_database, request, tmp_path):
    """Migrate the shared database, then start instances A and B and one search worker."""
    from flask_migrate import upgrade

    from marketplace import create_app

    bucket, _ = request.getfixturevalue("s3_bucket")
    endpoint = request.getfixturevalue("s3_endpoint")
    env = {**os.environ, "DATABASE_URL": shared_database, "REDIS_URL": REDIS_URL, "SEARCH_BACKEND": "postgres",
           "STORAGE_URL": f"s3://{bucket}/attachments", "S3_ENDPOINT_URL": endpoint,
           "SECRET_KEY": uuid.uuid4().hex, "PUBLIC_URL": "http://127.0.0.1", "PYTHONPATH": str(ROOT)}
    setup = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "setup"),
                        "SQLALCHEMY_DATABASE_URI": normalise_database_url(shared_database),
                        "SECRET_KEY": env["SECRET_KEY"], "SEARCH_BACKEND": "postgres",
                        "RATELIMIT_STORAGE_URI": "memory://", "PASSWORD_HASH_FAST": True})
    with setup.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
    processes, urls = [], {}
    try:
        for name in ("a", "b"):
            port = _free_port()
            processes.append(subprocess.Popen(
                [str(BIN / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                cwd=ROOT, env={**env, "INSTANCE_PATH": str(tmp_path / name)},
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            urls[name] = f"http://127.0.0.1:{port}"
        processes.append(subprocess.Popen(
            [str(BIN / "rq"), "worker", "search", "--url", REDIS_URL, "--worker-class", "rq.worker.SimpleWorker"],
            cwd=ROOT, env={**env, "INSTANCE_PATH": str(tmp_path / "worker")},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        for url in urls.values():
            _wait_until_up(url, processes)
        yield setup, Http(urls["a"]), Http(urls["b"]), tmp_path
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        from redis import Redis

        Redis.from_url(REDIS_URL).flushdb()
        with setup.app_context():
            from marketplace.extensions import db

            db.engine.dispose()


def _wait_until_up(url: str, processes) -> None:
    import requests

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise AssertionError(process.stderr.read().decode())
        try:
            if requests.get(url + "/api/v1/challenges", timeout=30).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not start")


def _factories(setup):
    """make_org / make_user / api_token, writing straight into the shared database."""
    from marketplace.accounts import services
    from marketplace.accounts.models import User
    from marketplace.extensions import db

    counter = iter(range(1, 1000))

    def make_org(slug):
        with setup.test_request_context():
            org = services.create_organization(slug=slug, name="Shanghai IC Center", country="CN")
            db.session.commit()
            return db.session.get(type(org), org.id)

    def make_user(*, roles=(), country="DE"):
        with setup.test_request_context():
            user = services.register_user(email=f"two{next(counter)}@example.org", password=TEST_PASSWORD,
                                          display_name="Two Instances", country=country, locale="en",
                                          confirmed=True)
            for role, org in roles:
                services.grant_role(user, role, db.session.merge(org) if org is not None else None)
            db.session.commit()
            return db.session.get(User, user.id)

    def api_token(user):
        with setup.test_request_context():
            token, _ = services.issue_api_token(db.session.get(User, user.id))
            db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return make_org, make_user, api_token


def _found_within(client, query: str, challenge_id: int, seconds: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        body = client.get("/api/v1/challenges", query_string={"q": query}).json()
        if challenge_id in [item["id"] for item in body["items"]]:
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"challenge {challenge_id} not found by {query!r} within {seconds} s")


def test_what_one_instance_writes_the_other_finds_and_serves(deployment):
    setup, a, b, folders = deployment
    make_org, make_user, api_token = _factories(setup)
    admin = api_token(make_user(roles=[("admin", None)]))
    assert a.put("/api/v1/benchmark-rates", json=RATES, headers=admin).status_code == 200
    assert a.put("/api/v1/fx-rates", json=FX, headers=admin).status_code == 200
    center = Center(a, make_org, make_user, api_token, "sh-icc")

    warm = center.open_challenge()  # the worker's first job loads the app and jieba
    _found_within(b, "读出电路", warm, 30)
    humidity = center.open_challenge(
        title={"en": "Self-calibrating humidity sensors", "zh_Hans": "自校准湿度传感器"},
        summary={"en": "Drift below 0.5 %RH per year.", "zh_Hans": "年漂移低于 0.5 %RH。"})
    assert _found_within(b, "湿度传感器", humidity, 2.0) < 2.0
    assert _found_within(b, "humidity sensors", humidity, 2.0) < 2.0
    assert b.get("/api/v1/challenges", query_string={"q": "sensors"}).json()["total"] == 2

    solver = api_token(make_user(country="DE"))
    version = a.get(f"/api/v1/challenges/{humidity}/agreement").json()["version"]
    assert a.post(f"/api/v1/challenges/{humidity}/agreement", headers=solver,
                  json={"version": version, "accept": True}).status_code == 201
    proposal = a.post(f"/api/v1/challenges/{humidity}/proposals", headers=solver,
                      json={"title": "Capacitive drift model", "abstract": "A model.", "body": "Details.",
                            "locale": "en"}).json()["id"]
    pdf = samples.pdf()
    uploaded = a.post(f"/api/v1/proposals/{proposal}/attachments", headers=solver,
                      data={"file": (io.BytesIO(pdf), "drift.pdf")})
    assert uploaded.status_code == 201, uploaded.text
    download = b.get(f"/api/v1/attachments/{uploaded.json()['id']}", headers=solver)
    assert download.status_code == 200 and download.content == pdf
    for name in ("a", "b"):  # the blob lives in the bucket, on neither machine
        assert not [p for p in (folders / name / "uploads").rglob("*") if p.is_file() and p.parent.name != "tmp"]
