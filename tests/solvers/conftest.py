"""Fixtures for the solver tests (the challenge builders and profile_factory come from tests/factories.py)."""

from __future__ import annotations

import pytest

VALID_ORCID = "0000-0002-1825-0097"  # ORCID's own example iD: its check digit is right


@pytest.fixture
def staff(make_org, make_user):
    """A reviewer of a center: the least powerful staff role."""
    return make_user(roles=[("reviewer", make_org())], country="CN")
