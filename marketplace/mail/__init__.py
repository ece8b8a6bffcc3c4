"""Mail: the outbox, SMTP sending, retries and `flask mail flush`.

Layout: subjects.py (every mail's subject, the one registry), services.py (queue, render, send; mails
queued in a transaction are sent after it commits, through marketplace.after_commit), jobs.py (the RQ
worker's job), cli.py, models.py (the outbox).
"""


def register(app, api) -> None:
    from flask import Blueprint

    from marketplace.mail import cli, services

    # A route-less blueprint, only so that mail/*.txt templates are found.
    app.register_blueprint(Blueprint("mail", __name__, template_folder="templates"))
    services.install(app)
    app.cli.add_command(cli.mail_cli)
