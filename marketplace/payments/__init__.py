"""Payments: escrow funding, the double-entry ledger, payees, award payouts and webhooks.

`providers.py` defines the provider interface and `provider_from_config`; `stripe_provider.py`
and `manual_provider.py` implement it. `ledger.py` keeps the books; `escrow.py` (funding,
allocation, refunds) and `payouts.py` (two-person release, exactly-once transfers) move money;
`events.py` applies webhooks; `reconcile.py` finishes what a crash left half-done.
"""


def register(app, api) -> None:
    from marketplace.payments import api as payments_api
    from marketplace.payments import cli, routes, webhooks

    app.register_blueprint(routes.bp)
    api.register_blueprint(payments_api.blp)
    api.register_blueprint(webhooks.blp)
    app.cli.add_command(cli.payments_cli)
