"""Solvers: the expert database (profiles, research history), interest alerts and notifications."""


def register(app, api) -> None:
    from flask_login import current_user
    from sqlalchemy.exc import SQLAlchemyError

    from marketplace.labels import profile_field_label, research_kind_label
    from marketplace.solvers import alerts, cli, notifications, orcid, profiles, routes, vocabulary  # noqa: F401
    from marketplace.solvers import api as solvers_api

    app.register_blueprint(routes.bp)
    api.register_blueprint(solvers_api.blp)
    app.cli.add_command(cli.notifications_cli)
    app.cli.add_command(cli.experts_cli)

    def unread_notifications() -> int:
        """For the nav badge: one COUNT per page view, only for signed-in users."""
        if not current_user.is_authenticated:
            return 0
        try:
            return notifications.unread_count(current_user)
        except SQLAlchemyError:  # an error page after a database failure must still render
            app.logger.warning("could not count unread notifications", exc_info=True)
            return 0

    app.jinja_env.globals.update(
        unread_notifications=unread_notifications,
        expertise_field_label=vocabulary.field_label,
        tag_label=vocabulary.tag_label,
        research_kind_label=research_kind_label,
        profile_field_label=profile_field_label,
        orcid_url=orcid.orcid_url,
    )


def register_notification_kinds() -> None:
    """The in-app notification kinds of this package (marketplace.wiring calls it)."""
    from marketplace.solvers import notifications

    notifications.register_notification_kinds()
