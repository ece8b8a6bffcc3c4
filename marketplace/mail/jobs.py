"""RQ jobs (run by `rq worker mail` when REDIS_URL is set)."""

from marketplace.jobs import worker_app


def send_mail_job(ids: list[int]) -> None:
    from marketplace.mail.services import send_and_retry

    with worker_app().app_context():
        send_and_retry(ids)
