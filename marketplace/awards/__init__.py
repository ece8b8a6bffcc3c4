"""Awards: the center's decision, winners' shares, IP assignment (payouts live in payments)."""


def register(app, api) -> None:
    from marketplace.awards import api as awards_api
    from marketplace.awards import decisions, routes

    app.register_blueprint(routes.bp)
    api.register_blueprint(awards_api.blp)
    decisions.register_notifications()
