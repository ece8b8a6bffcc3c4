"""What the proposal tests share: an open challenge of the API center (`center`, tests/factories.py) and a solver."""

from __future__ import annotations

import pytest


@pytest.fixture
def challenge_id(center):
    return center.open_challenge()


@pytest.fixture
def solver_user(make_user):
    return make_user(country="DE")


@pytest.fixture
def solver(api_token, solver_user):
    return api_token(solver_user)
