"""Stages of a challenge: ordered rounds with their own deadline, criteria and milestone pool, and the
down-selection of finalists from one stage to the next (NASA's and DARPA's phased prizes)."""


def register(app, api) -> None:
    from marketplace.stages import api as stages_api
    from marketplace.stages import reminders, routes, services

    app.register_blueprint(routes.bp)
    api.register_blueprint(stages_api.blp)
    services.register_notifications()
    reminders.register()
