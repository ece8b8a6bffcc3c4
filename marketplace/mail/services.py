"""Mail through an outbox: queue in the request's transaction, send after it commits.

Without REDIS_URL the mails queued by a request are sent right after it commits
(in the request's after_request hook); with REDIS_URL an RQ worker sends them.
Either way a failed send stays pending with a back-off and `flask mail flush`
(or the next request that sends mail) retries it. Without MAIL_SERVER nothing is
sent: mails wait in the outbox and staff read them on /admin/outbox.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, render_template
from flask_babel import force_locale, get_translations
from sqlalchemy import select

from marketplace import after_commit
from marketplace.bulk import insert_rows
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.mail.models import OutboxMail
from marketplace.mail.subjects import SUBJECTS

MAIL_QUEUE = "mail"

MAX_BACKOFF = timedelta(hours=6)

def queue_mail(recipient: str, template: str, *, locale: str = "en", **context) -> OutboxMail:
    """Render mail `template` in the recipient's locale and put it in the outbox."""
    with force_locale(locale):
        subject = SUBJECTS[template]()
        body = render_template(f"mail/{template}.txt", **context)
    mail = OutboxMail(recipient=recipient, subject=subject, body_text=body, template=template, locale=locale)
    db.session.add(mail)
    db.session.flush()
    after_commit.add(MAIL_QUEUE, mail.id)
    return mail


def queue_mails(template: str, mails: list[tuple[str, str, dict]]) -> int:
    """Many mails of one template at once: `mails` is [(recipient, locale, context)], rendered per locale
    and inserted in one statement. They are sent by `flask mail flush` (or the next request that sends mail)."""
    by_locale: dict[str, list[tuple[str, dict]]] = {}
    for recipient, locale, context in mails:
        by_locale.setdefault(locale, []).append((recipient, context))
    now = utcnow()
    rows = []
    for locale, items in by_locale.items():
        with force_locale(locale):
            subject = SUBJECTS[template]()
            page = current_app.jinja_env.get_template(f"mail/{template}.txt")
            # The globals merged once per locale, not once per mail (Template.render copies them every time).
            base = {**page.globals, "config": current_app.config, **_gettext_callables(get_translations())}
            for recipient, context in items:
                state = page.new_context({**base, **context}, shared=True)
                body = page.environment.concat(page.root_render_func(state))
                rows.append({"recipient": recipient, "subject": subject, "template": template, "locale": locale,
                             "body_text": body, "status": "pending", "attempts": 0,
                             "next_attempt_at": now, "created_at": now})
    return insert_rows(OutboxMail.__table__, rows)


def _gettext_callables(translations) -> dict:
    """Jinja's new-style gettext bound to one catalog: the same output, without a context lookup per string."""
    def gettext(string, **variables):
        return translations.ugettext(string) % variables

    def ngettext(singular, plural, num, **variables):
        variables.setdefault("num", num)
        return translations.ungettext(singular, plural, num) % variables

    return {"gettext": gettext, "_": gettext, "ngettext": ngettext}


def _build_message(mail: OutboxMail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Message-ID"] = make_msgid(idstring=f"outbox{mail.id}")
    message.set_content(mail.body_text)
    return message


def _smtp_send(messages: list[EmailMessage]) -> None:
    cfg = current_app.config
    with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT_SECONDS"]) as smtp:
        if cfg["MAIL_USE_TLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if cfg["MAIL_USERNAME"]:
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        for message in messages:
            smtp.send_message(message)


def _backoff(attempts: int) -> timedelta:
    """2, 4, 8 ... minutes, at most MAX_BACKOFF (the exponent is capped: timedelta overflows near 2**40)."""
    return min(timedelta(minutes=2 ** min(attempts, 12)), MAX_BACKOFF)


def mail_configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def send_mails(ids: list[int] | None = None, *, due_only: bool = True) -> tuple[int, int]:
    """Send pending mails (the given ids, or every one that is due, or all). Returns (sent, failed).

    Each mail is claimed with a conditional UPDATE, so two senders never send one twice.
    """
    if not mail_configured():
        return 0, 0
    query = select(OutboxMail.id).where(OutboxMail.status == "pending")
    if ids is not None:
        query = query.where(OutboxMail.id.in_(ids))
    elif due_only:
        query = query.where(OutboxMail.next_attempt_at <= utcnow())
    sent = failed = 0
    for mail_id in db.session.scalars(query.order_by(OutboxMail.id)).all():
        claimed = db.session.execute(
            db.update(OutboxMail).where(OutboxMail.id == mail_id, OutboxMail.status == "pending")
            .values(status="sending", attempts=OutboxMail.attempts + 1, next_attempt_at=utcnow())
        ).rowcount
        db.session.commit()
        if not claimed:
            continue
        mail = db.session.get(OutboxMail, mail_id)
        try:
            _smtp_send([_build_message(mail)])
        except (OSError, smtplib.SMTPException) as error:
            mail.status = "pending"
            mail.last_error = f"{type(error).__name__}: {error}"[:2000]
            mail.next_attempt_at = utcnow() + _backoff(mail.attempts)
            failed += 1
        else:
            mail.status, mail.sent_at, mail.last_error = "sent", utcnow(), None
            sent += 1
        db.session.commit()
    return sent, failed


def release_stuck_sends(older_than: timedelta = timedelta(minutes=15)) -> None:
    """A process that died mid-send leaves 'sending': give those back to the queue."""
    db.session.execute(
        db.update(OutboxMail).where(OutboxMail.status == "sending", OutboxMail.next_attempt_at < utcnow() - older_than)
        .values(status="pending")
    )


def _enqueue_or_send(ids: list[int]) -> None:
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        from redis import Redis
        from rq import Queue

        Queue("mail", connection=Redis.from_url(redis_url)).enqueue("marketplace.mail.jobs.send_mail_job", ids)
    else:
        send_and_retry(ids)


def send_and_retry(ids: list[int]) -> None:
    """Send these new mails, then any earlier failed ones whose back-off is over."""
    send_mails(ids)
    send_mails()


def install(app) -> None:
    """Mails committed by a request are sent once the response is ready (see marketplace.after_commit)."""
    after_commit.register_queue(MAIL_QUEUE, _enqueue_or_send, "mails to send")
    after_commit.install(app)
