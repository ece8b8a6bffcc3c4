"""Proposals: drafts, submitted versions, teams, attachments and deadlines."""


def register(app, api) -> None:
    from marketplace.proposals import api as proposals_api
    from marketplace.proposals import routes

    app.register_blueprint(routes.bp)
    api.register_blueprint(proposals_api.blp)
