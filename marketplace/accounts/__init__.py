"""Accounts: users, organizations, roles, sign-in and API tokens."""


def register(app, api) -> None:
    from marketplace.accounts import api as accounts_api
    from marketplace.accounts import cli, routes, security_routes, throttle  # noqa: F401 - security pages join routes.bp

    app.register_blueprint(routes.bp)
    api.register_blueprint(accounts_api.blp)
    app.cli.add_command(cli.orgs_cli)
    app.cli.add_command(cli.users_cli)
    app.teardown_request(throttle.write_deferred_failures)  # failures SQLite could not write mid-request
