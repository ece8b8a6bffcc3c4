"""Open results: the public database of what came of awarded challenges, winners' consent, citations,
the Atom feed, and follow-on challenges started from a result."""


def register(app, api) -> None:
    from marketplace import panels
    from marketplace.results import api as results_api
    from marketplace.results import indexing, routes
    from marketplace.results.follow_ons import follow_on_origin
    from marketplace.search import add_source

    panels.add("challenge_json", "follow_on_of", lambda challenge, user, locale, staff: {
        "follow_on_of": follow_on_origin(challenge, user)})
    app.register_blueprint(routes.bp)
    api.register_blueprint(results_api.blp)
    indexing.install(app)
    add_source(indexing.KIND, indexing.source)  # `flask search reindex --kind results`


def register_search_kinds() -> None:
    """The "results" document kind and its facets (marketplace.wiring calls it)."""
    from marketplace.results import indexing

    indexing.register_search_kind()
