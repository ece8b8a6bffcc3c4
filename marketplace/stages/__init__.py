"""Stages of a challenge: ordered rounds with their own deadline, criteria and milestone pool, and the
down-selection of finalists from one stage to the next (NASA's and DARPA's phased prizes)."""


def register(app, api) -> None:
    from marketplace import panels
    from marketplace.stages import api as stages_api
    from marketplace.stages import routes
    from marketplace.stages.presenters import stages_json
    from marketplace.stages.readers import carry_on_from, stage_note

    panels.add("challenge_json", "stages", lambda challenge, user, locale, staff: {
        "stages": stages_json(challenge, locale, staff=staff)})
    panels.add("challenge_page", "stages", lambda challenge, user, accepted: {
        "stage_note": stage_note(challenge), "carry_on": carry_on_from(challenge, user) if accepted else None})
    app.register_blueprint(routes.bp)
    api.register_blueprint(stages_api.blp)


def register_notification_kinds() -> None:
    """The in-app notification kinds of this package (marketplace.wiring calls it); the later stages' deadline
    reminders are the reminders package's (`reminders/stage_deadlines.py`)."""
    from marketplace.stages import services

    services.register_notifications()
