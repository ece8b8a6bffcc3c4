"""Challenges: authoring, clearance, funding, publishing, agreements, Q&A and public browsing."""


def register(app, api) -> None:
    from marketplace import search
    from marketplace.challenges import agreements, cli, indexing, questions, routes
    from marketplace.challenges import api as challenges_api

    app.register_blueprint(routes.bp)
    api.register_blueprint(challenges_api.blp)
    app.cli.add_command(cli.challenges_cli)
    search.add_source(indexing.KIND, indexing.reindex_source)
    indexing.install(app)
    agreements.register_notification()
    questions.register_notification()
