"""Fixtures for the solver tests: the challenge builders, and solvers with profiles made through the service.

    profile_factory(user, **fields) -> saves `user`'s expert profile (API-shaped fields) and returns the user
"""

from __future__ import annotations

import pytest

from tests.challenges.conftest import challenge_factory, pricing_rates  # noqa: F401 - fixtures shared with challenges

VALID_ORCID = "0000-0002-1825-0097"  # ORCID's own example iD: its check digit is right


@pytest.fixture
def profile_factory(app):
    from marketplace.accounts.models import User
    from marketplace.extensions import db
    from marketplace.solvers import profiles

    def make(user, **fields):
        with app.test_request_context():
            row = db.session.get(User, user.id)
            profiles.save_profile(row, fields, actor=row)
            db.session.commit()
        return user

    return make


@pytest.fixture
def staff(make_org, make_user):
    """A reviewer of a center: the least powerful staff role."""
    return make_user(roles=[("reviewer", make_org())], country="CN")
