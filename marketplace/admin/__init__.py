"""Platform administration pages (staff only)."""


def register(app, api) -> None:
    from marketplace.admin import routes

    app.register_blueprint(routes.bp)
