"""Open results: the public database of what came of awarded challenges, winners' consent, citations,
the Atom feed, and follow-on challenges started from a result."""


def register(app, api) -> None:
    from marketplace.results import api as results_api
    from marketplace.results import indexing, routes
    from marketplace.search import add_source

    app.register_blueprint(routes.bp)
    api.register_blueprint(results_api.blp)
    indexing.register_search_kind()
    indexing.install(app)
    add_source(indexing.KIND, indexing.source)  # `flask search reindex --kind results`
