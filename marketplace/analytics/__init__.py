"""Seeker analytics (per challenge, per program, platform-wide), the daily view counter, early-career
figures and bonus, and the public statistics page."""


def register(app, api) -> None:
    from marketplace.analytics import api as analytics_api
    from marketplace.analytics import cli, routes

    app.register_blueprint(routes.bp)
    api.register_blueprint(analytics_api.blp)
    app.cli.add_command(cli.analytics_cli)
