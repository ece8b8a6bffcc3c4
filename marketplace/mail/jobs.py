"""RQ jobs (run by `rq worker mail` when REDIS_URL is set)."""


def send_mail_job(ids: list[int]) -> None:
    from marketplace import create_app
    from marketplace.mail.services import send_mails

    with create_app().app_context():
        send_mails(ids)
