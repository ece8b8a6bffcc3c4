"""Open results: the public database of what came of awarded challenges, winners' consent, citations,
the Atom feed, and follow-on challenges started from a result."""


def register(app, api) -> None:
    from flask_babel import gettext as _

    from marketplace.mail.services import register_subject
    from marketplace.results import api as results_api
    from marketplace.results import indexing, routes
    from marketplace.search import add_source

    app.register_blueprint(routes.bp)
    api.register_blueprint(results_api.blp)
    indexing.install(app)
    add_source(indexing.KIND, indexing.source)  # `flask search reindex --kind results`
    register_subject("result_consent_request", lambda: _("May we name you on an open result?"))
