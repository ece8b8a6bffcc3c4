"""Mail: the outbox, SMTP sending, retries and `flask mail flush`."""


def register(app, api) -> None:
    from flask import Blueprint

    from marketplace.mail import cli, services

    # A route-less blueprint, only so that mail/*.txt templates are found.
    app.register_blueprint(Blueprint("mail", __name__, template_folder="templates"))
    services.install(app)
    app.cli.add_command(cli.mail_cli)
