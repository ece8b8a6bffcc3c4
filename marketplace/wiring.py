"""The app's registries of kinds, filled in one visible place when the app is made.

Which in-app notification kinds exist (how each reads and links), which reminder kinds the reminder run sends
and which search document kinds there are: each package registers its own with one function, and the lists
below call them all. Nothing registers on import, so what exists never depends on which modules happened to be
imported first. Every registry is a dict keyed by kind, so registering again (each test makes many apps)
replaces an entry with its equal.
"""

from __future__ import annotations


def register_kinds() -> None:
    from marketplace import awards, challenges, reminders, results, reviews, solvers, stages

    for package in (solvers, challenges, reviews, awards, stages, reminders):
        package.register_notification_kinds()
    reminders.register_reminder_kinds()
    results.register_search_kinds()
