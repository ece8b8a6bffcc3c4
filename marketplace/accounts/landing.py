"""Where a user lands after signing in without a `next`: the one home of that rule.

Each role lands on its own work; a user with several roles gets the first of a fixed priority
(center manager, security officer, finance officer, reviewer, solver). Everyone is a solver, so
the solver's dashboard is the fallback.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import url_for

from marketplace.permissions import Role

# (does the user hold the role in a way the page accepts?, the page's endpoint), in priority order.
# Each test asks what the page itself asks, so nobody is sent to a page that answers 404.
LANDING_PRIORITY: tuple[tuple[Callable[..., bool], str], ...] = (
    (lambda user: bool(user.organization_ids(Role.CENTER_MANAGER)), "challenge_staff.staff_list"),
    (lambda user: bool(user.organization_ids(Role.SECURITY_OFFICER)), "challenge_staff.clearance_queue"),
    (lambda user: user.has_role(Role.FINANCE_OFFICER), "payments.finance_overview"),
    (lambda user: user.has_role(Role.REVIEWER), "reviews.dashboard"),
)
SOLVER_LANDING = "proposals.dashboard"


def landing_endpoint(user) -> str:
    """The endpoint of `user`'s own work (see the module docstring)."""
    for holds, endpoint in LANDING_PRIORITY:
        if holds(user):
            return endpoint
    return SOLVER_LANDING


def landing_url(user, next_path: str | None = None) -> str:
    """`next_path` (already checked by `pages.valid_next`) always wins; else the user's own work."""
    return next_path or url_for(landing_endpoint(user))
