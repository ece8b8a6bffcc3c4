"""Payments: escrow funding, payout accounts and award transfers through a payment provider.

`providers.py` defines the provider interface and `provider_from_config`; `stripe_provider.py`
and `manual_provider.py` implement it. The ledger, award release and webhook routes build on it.
"""


def register(app, api) -> None:
    """Not wired into FEATURES yet: the ledger and routes come with the award flow."""
