"""Mail through the outbox, delivered to a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import os
import socket
import threading
import uuid
from datetime import timedelta
from email import policy
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from flask_babel import force_locale
from flask_babel import gettext as _

from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.mail.services import queue_mail, send_mails
from tests.factories import TEST_PASSWORD
from tests.helpers import link_in_mail, outbox

# One Redis database per pytest-xdist worker (15, 14, ...), so parallel runs never share a queue.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = f"redis://127.0.0.1:6379/{15 - _WORKER}"
CONFIRM_SUBJECT = "Confirm your InnoBridge e-mail address"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self._lock:
            self.envelopes.append(envelope)
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server():
    """smtp_server(port=None) starts a real SMTP server on 127.0.0.1 and returns (port, inbox)."""
    controllers = []

    def start(port: int | None = None, **smtp_options) -> tuple[int, Inbox]:
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port or free_port(), **smtp_options)
        controller.start()
        controllers.append(controller)
        return controller.port, inbox

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def mail_to(app, monkeypatch):
    """Point the app's SMTP settings at a port."""

    def configure(port: int) -> None:
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", port)
        monkeypatch.setitem(app.config, "MAIL_TIMEOUT_SECONDS", 5)

    return configure


def register(client, email_address="ada@example.org", locale="en"):
    response = client.post("/api/v1/auth/register", json={
        "email": email_address, "password": TEST_PASSWORD, "display_name": "Ada Lovelace",
        "country": "GB", "locale": locale})
    assert response.status_code == 201, response.data
    return response


def translated(app, locale: str, message: str) -> str:
    with app.test_request_context(), force_locale(locale):
        return _(message)


def test_registration_mail_is_delivered_right_after_the_request(client, app, smtp_server, mail_to):
    port, inbox = smtp_server()
    mail_to(port)
    register(client)
    [message] = inbox.messages  # sent before the response came back: no worker, no flush
    assert message["To"] == "ada@example.org"
    assert message["Subject"] == CONFIRM_SUBJECT
    assert message["From"] == app.config["MAIL_DEFAULT_SENDER"]
    body = message.get_content()
    assert "Ada Lovelace" in body
    link = link_in_mail(body)
    assert link.startswith("http://localhost/auth/confirm/")
    assert client.get(link.replace("http://localhost", "")).status_code == 200  # the delivered link works
    [row] = outbox(app)
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None and row.last_error is None


@pytest.mark.parametrize("locale", ["de", "zh_Hans", "ar"])
def test_mail_is_written_in_the_recipients_language(client, app, smtp_server, mail_to, locale):
    port, inbox = smtp_server()
    mail_to(port)
    register(client, locale=locale)
    [message] = inbox.messages
    # Subject and body come from the recipient's catalog, not from the requester's interface.
    assert message["Subject"] == translated(app, locale, CONFIRM_SUBJECT) != CONFIRM_SUBJECT
    body = message.get_content()
    assert translated(app, locale, "Hello %(name)s,") % {"name": "Ada Lovelace"} in body
    assert link_in_mail(body).startswith("http://localhost/auth/confirm/")
    assert outbox(app)[0].locale == locale


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")  # a local test relay
def test_smtp_login_with_mail_username_and_password(client, app, smtp_server, mail_to, monkeypatch):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data == (b"mailer", b"s3cret-relay-password")
        return AuthResult(success=ok, handled=False)

    port, inbox = smtp_server(authenticator=authenticator, auth_require_tls=False, auth_required=True)
    mail_to(port)
    monkeypatch.setitem(app.config, "MAIL_USERNAME", "mailer")
    monkeypatch.setitem(app.config, "MAIL_PASSWORD", "wrong")
    register(client, "first@example.org")
    assert inbox.messages == [] and "Authentication" in outbox(app)[0].last_error
    monkeypatch.setitem(app.config, "MAIL_PASSWORD", "s3cret-relay-password")
    register(client, "second@example.org")
    assert [message["To"] for message in inbox.messages] == ["second@example.org"]


def test_when_smtp_is_down_the_mail_stays_pending_with_a_back_off(client, app, mail_to):
    mail_to(free_port())  # nothing listens there
    before = utcnow()
    register(client)  # the request still succeeds
    [row] = outbox(app)
    assert row.status == "pending" and row.attempts == 1 and row.sent_at is None
    assert "ConnectionRefused" in row.last_error
    assert row.next_attempt_at >= before + timedelta(minutes=1)
    with app.app_context():  # not due yet: a regular retry leaves it alone
        assert send_mails() == (0, 0)


def test_mail_flush_sends_pending_mail_once_the_server_is_back(client, app, smtp_server, mail_to):
    port = free_port()
    mail_to(port)
    register(client)
    runner = app.test_cli_runner()
    down = runner.invoke(args=["mail", "flush"])
    assert down.exit_code == 1 and "Sent 0 mail(s); 1 failed" in down.output
    assert outbox(app)[0].attempts == 2

    _port, inbox = smtp_server(port)  # the server comes back
    result = runner.invoke(args=["mail", "flush"])
    assert result.exit_code == 0, result.output
    assert "Sent 1 mail(s); 0 failed" in result.output
    [message] = inbox.messages
    assert message["To"] == "ada@example.org"
    [row] = outbox(app)
    assert row.status == "sent" and row.attempts == 3 and row.last_error is None
    # Nothing is left to send: a second flush sends nothing twice.
    again = runner.invoke(args=["mail", "flush"])
    assert "Sent 0 mail(s); 0 failed" in again.output and len(inbox.messages) == 1


def test_mail_flush_without_mail_server_fails_clearly(app):
    result = app.test_cli_runner().invoke(args=["mail", "flush"])
    assert result.exit_code != 0
    assert "MAIL_SERVER is not set" in result.output


def test_concurrent_flushes_never_send_a_mail_twice(app, smtp_server, mail_to):
    with app.test_request_context():
        for i in range(30):
            queue_mail(f"reader{i}@example.org", "confirm_email", locale="en",
                       user=SimpleNamespace(display_name=f"Reader {i}"), link=f"http://localhost/x/{i}")
        db.session.commit()
    port, inbox = smtp_server()
    mail_to(port)
    start = threading.Barrier(3)
    results, errors = [], []

    def flush():
        try:
            with app.app_context():
                start.wait()
                results.append(send_mails(due_only=False))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=flush) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(sent for sent, _failed in results) == 30
    recipients = [message["To"] for message in inbox.messages]
    assert sorted(recipients) == sorted(f"reader{i}@example.org" for i in range(30))
    rows = outbox(app)
    assert all(row.status == "sent" and row.attempts == 1 for row in rows)


@pytest.fixture
def redis_queue():
    """The RQ "mail" queue in Redis database 15, emptied before and after (only its own keys)."""
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except Exception as error:  # noqa: BLE001
        pytest.fail(f"Redis at {REDIS_URL} is needed for this test: {error}")
    queue = Queue("mail", connection=connection)
    queue.empty()
    yield queue
    for registry in (queue.finished_job_registry, queue.failed_job_registry):
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)
    queue.empty()


def test_with_redis_the_mail_goes_through_an_rq_worker(client, app, smtp_server, mail_to, redis_queue,
                                                       monkeypatch, request):
    from rq import SimpleWorker

    port, inbox = smtp_server()
    mail_to(port)
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    register(client)
    [row] = outbox(app)
    assert row.status == "pending" and inbox.messages == []  # handed to the queue, not sent inline
    [job] = redis_queue.jobs
    assert job.func_name == "marketplace.mail.jobs.send_mail_job" and job.args == ([row.id],)

    # The worker builds its app from the environment, as `rq worker mail` would in production.
    monkeypatch.setenv("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.setenv("INSTANCE_PATH", app.instance_path)
    monkeypatch.setenv("SECRET_KEY", app.config["SECRET_KEY"])
    monkeypatch.setenv("MAIL_SERVER", "127.0.0.1")
    monkeypatch.setenv("MAIL_PORT", str(port))
    monkeypatch.delenv("REDIS_URL", raising=False)
    # A worker process builds its app once; this test process may hold one built for an earlier test's
    # database and SMTP port, so build it again from the environment set above (and forget it after).
    from marketplace import jobs

    jobs.worker_app.cache_clear()
    request.addfinalizer(jobs.worker_app.cache_clear)
    worker = SimpleWorker([redis_queue], connection=redis_queue.connection, name=f"test-{uuid.uuid4().hex}")
    assert worker.work(burst=True)
    assert job.get_status(refresh=True) == "finished"
    [message] = inbox.messages
    assert message["To"] == "ada@example.org" and "/auth/confirm/" in message.get_content()
    assert outbox(app)[0].status == "sent"


def test_failed_rq_hand_off_keeps_the_mail_for_a_later_flush(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/15")  # no Redis there
    response = register(client)
    assert response.status_code == 201
    [row] = outbox(app)
    assert row.status == "pending" and row.attempts == 0


def test_back_off_grows_and_is_capped_even_after_many_attempts(app, mail_to):
    from marketplace.mail.services import MAX_BACKOFF

    with app.test_request_context():
        mail = queue_mail("ada@example.org", "confirm_email", locale="en",
                          user=SimpleNamespace(display_name="Ada"), link="http://localhost/x")
        mail.attempts = 60  # a mail that has failed for weeks
        db.session.commit()
    mail_to(free_port())
    result = app.test_cli_runner().invoke(args=["mail", "flush"])
    assert result.exit_code == 1 and "1 failed" in result.output
    [row] = outbox(app)
    assert row.attempts == 61 and row.status == "pending"
    assert timedelta(0) < row.next_attempt_at - utcnow() <= MAX_BACKOFF
    assert row.next_attempt_at - utcnow() > MAX_BACKOFF - timedelta(minutes=1)


def test_a_failed_mail_is_retried_by_the_next_request_that_sends_mail(client, app, smtp_server, mail_to):
    from marketplace.mail.models import OutboxMail

    port = free_port()
    mail_to(port)
    register(client)  # SMTP is down: the mail waits with a back-off
    _port, inbox = smtp_server(port)
    with app.app_context():  # its back-off is over
        db.session.execute(db.update(OutboxMail).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    register(client, "grace@example.org")  # the next mail carries the earlier one along
    assert sorted(m["To"] for m in inbox.messages) == ["ada@example.org", "grace@example.org"]
    assert {row.status for row in outbox(app)} == {"sent"}
