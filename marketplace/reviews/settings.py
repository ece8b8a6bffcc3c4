"""A challenge's review settings: the one place that reads defaults, validates a change and audits it.

The API (PUT review-settings) and the staff pool page both call `change_settings`, so a change is checked and
recorded the same way whichever way it came in.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from marketplace.audit.services import record
from marketplace.challenges.models import Challenge
from marketplace.db import utcnow
from marketplace.errors import Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.reviews.access import is_manager
from marketplace.reviews.models import ReviewSettings

# What a settings change may name; the assignment's own numbers are saved by the assignment itself.
CHANGEABLE = frozenset({"exclude_same_country", "planned_awards", "review_due_at"})


def settings_of(challenge: Challenge) -> ReviewSettings:
    """The challenge's review settings; defaults (added to the session) when none were saved yet."""
    settings = db.session.get(ReviewSettings, challenge.id)
    if settings is None:
        settings = ReviewSettings(challenge_id=challenge.id, per_proposal=3, max_per_reviewer=10, min_per_reviewer=0,
                                  one_per_institution=False, exclude_same_country=False, planned_awards=1,
                                  updated_at=utcnow())
        db.session.add(settings)
    return settings


def change_settings(challenge: Challenge, actor, changes: dict) -> ReviewSettings:
    """Apply some or all of the CHANGEABLE settings; only center managers may. Records one audit entry that names
    exactly the settings given."""
    if not is_manager(challenge, actor):
        raise Forbidden(_l("Only center managers of this organization can do this."))
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise ValueError(f"not a changeable review setting: {sorted(unknown)}")
    due = changes.get("review_due_at")
    if due is not None and due <= utcnow():
        message = _l("The review deadline must lie in the future.")
        raise ValidationFailed(message, errors={"review_due_at": [message]})
    settings = settings_of(challenge)
    for name, value in changes.items():
        setattr(settings, name, value)
    settings.updated_at = utcnow()
    record("review.settings_changed", "challenge", challenge.id, actor=actor,
           **{name: value.isoformat() if isinstance(value, datetime) else value for name, value in changes.items()})
    return settings
