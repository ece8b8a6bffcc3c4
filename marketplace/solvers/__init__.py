"""Solvers: the expert database (profiles, research history), interest alerts and notifications."""


def register(app, api) -> None:
    pass
