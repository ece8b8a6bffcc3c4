"""Deadline reminders (mail and in-app, each sent once) and calendars (a secret feed per user, public .ics).

Layout: services.py (the reminder kinds' registry, the challenge-deadline and review-due reminders, sending),
stage_deadlines.py (later stages' deadlines, for their finalists), calendar.py, routes.py, api.py, cli.py
(`flask reminders send`, scheduled), models.py (each reminder sent once).
"""


def register(app, api) -> None:
    from marketplace.reminders import api as reminders_api
    from marketplace.reminders import cli, routes, services

    app.config.setdefault("REMINDER_DAYS", services.DEFAULT_REMINDER_DAYS)
    app.register_blueprint(routes.bp)
    api.register_blueprint(reminders_api.blp)
    app.cli.add_command(cli.reminders_cli)
    app.jinja_env.globals.update(calendar_feed_url=routes.current_feed_url)


def register_notification_kinds() -> None:
    """The in-app notification kinds of this package (marketplace.wiring calls it)."""
    from marketplace.reminders import services, stage_deadlines

    services.register_notification_kinds()
    stage_deadlines.register_notification_kind()


def register_reminder_kinds() -> None:
    """The challenge-deadline, later-stage-deadline and review-due reminders (marketplace.wiring calls it)."""
    from marketplace.reminders import services, stage_deadlines

    services.register_kinds()
    stage_deadlines.register_reminder_kind()
