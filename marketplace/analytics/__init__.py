"""Seeker analytics (per challenge, per program, platform-wide), the daily view counter, early-career
figures and bonus, and the public statistics page."""


def register(app, api) -> None:
    from marketplace.analytics import api as analytics_api
    from marketplace.analytics import cli, routes

    app.register_blueprint(routes.bp)
    api.register_blueprint(analytics_api.blp)
    app.cli.add_command(cli.analytics_cli)
    _flush_views_at_exit(app)


def _flush_views_at_exit(app) -> None:
    """A worker that stops writes the views it still holds (see analytics.views)."""
    import atexit

    from marketplace.analytics.views import flush_views

    def flush() -> None:
        with app.app_context():
            flush_views()

    atexit.register(flush)
