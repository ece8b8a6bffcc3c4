"""Peer review: conflict-aware reviewer assignment, blind scoring, calibrated ranking, awards."""


def register(app, api):
    pass
