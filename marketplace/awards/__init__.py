"""Awards: the center's decision, winners' shares, IP assignment (payouts live in payments)."""


def register(app, api) -> None:
    pass
