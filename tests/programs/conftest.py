"""The challenge builders serve the program tests too (a program is composed of challenges)."""

from tests.challenges.conftest import browser, challenge_factory, pricing_rates  # noqa: F401 - fixtures
