"""Exports: CSV and XLSX of proposals, rankings, payouts and analytics figures, streamed; a CLI for big ones."""


def register(app, api) -> None:
    from marketplace.exports import api as exports_api
    from marketplace.exports import cli, routes

    app.register_blueprint(routes.bp)
    api.register_blueprint(exports_api.blp)
    app.cli.add_command(cli.exports_cli)
