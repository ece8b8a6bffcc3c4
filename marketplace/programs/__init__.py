"""Programs: internal projects decomposed into unclassified challenges."""


def register(app, api) -> None:
    from marketplace.programs import api as programs_api
    from marketplace.programs import routes

    app.register_blueprint(routes.bp)
    api.register_blueprint(programs_api.blp)
