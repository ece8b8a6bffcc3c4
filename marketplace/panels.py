"""What packages higher up add to the pages and JSON of a package below them, without it importing them.

Packages are layered (challenges < stages < proposals < reviews < awards < payments < results < reminders, checked
by tests/core/test_import_cycles.py): a page of `challenges` that shows funding must not import `payments`.
Instead the higher package registers a builder once, from its `register(app, api)` (the app factory calls it);
the page asks `values(kind, ...)` and merges what comes back. Registering a name again replaces it (tests build
many apps). The kinds, what their builders take and what they give:

    "challenge_manage": (challenge, user) -> the staff manage page's values           (payments: funding)
    "challenge_page":   (challenge, user, accepted) -> the public page's values       (proposals, stages)
    "challenge_json":   (challenge, user, locale, staff) -> fields of the JSON        (stages; results: follow-on)
    "proposal_page":    (proposal, user, locale) -> the proposal page's values        (awards: the next step)
"""

from __future__ import annotations

from collections.abc import Callable

KINDS = ("challenge_manage", "challenge_page", "challenge_json", "proposal_page")
_BUILDERS: dict[str, dict[str, Callable[..., dict]]] = {kind: {} for kind in KINDS}


def add(kind: str, name: str, build: Callable[..., dict]) -> None:
    _BUILDERS[kind][name] = build


def values(kind: str, *args, **kwargs) -> dict:
    merged: dict = {}
    for build in _BUILDERS[kind].values():
        merged.update(build(*args, **kwargs))
    return merged
