"""Proposals: drafts, submitted versions, teams, attachments and deadlines."""


def register(app, api) -> None:
    from flask import Blueprint

    from marketplace.proposals import api as proposals_api

    app.register_blueprint(Blueprint("proposals_mail", __name__, template_folder="templates"))
    api.register_blueprint(proposals_api.blp)
