"""Award policy: benchmark rates, FX rates and the award quote (benchmark x (1 + premium))."""


def register(app, api) -> None:
    from marketplace.pricing import api as pricing_api
    from marketplace.pricing import routes

    app.register_blueprint(routes.bp)
    api.register_blueprint(pricing_api.blp)
