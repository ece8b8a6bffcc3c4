"""Who may see what of a challenge's review, and its settings.

Review staff are the center's managers and officers (`permissions.SEEKER_STAFF_ROLES`, the same people as
`Challenge.is_staff`). A user whose only role in the organization is `reviewer` is not staff: reviewers never see
author identities, the ranking or other reviewers.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from marketplace.challenges.models import Challenge
from marketplace.db import utcnow
from marketplace.errors import Forbidden, NotFound
from marketplace.extensions import db
from marketplace.reviews.models import ReviewSettings

REVIEWABLE_STATES = ("closed", "judging")


def is_review_staff(challenge: Challenge, user) -> bool:
    return challenge.is_staff(user)


def is_manager(challenge: Challenge, user) -> bool:
    return challenge.can_manage(user)


def staff_challenge(challenge_id: int, user) -> Challenge:
    """The challenge for its review staff; 404 for everyone else (existence is not leaked)."""
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or not is_review_staff(challenge, user):
        raise NotFound(_l("No such challenge."))
    return challenge


def managed_challenge(challenge_id: int, user) -> Challenge:
    """The challenge for its center managers; 404 for outsiders, 403 for other staff."""
    challenge = staff_challenge(challenge_id, user)
    if not is_manager(challenge, user):
        raise Forbidden(_l("Only center managers of this organization can do this."))
    return challenge


def settings_of(challenge: Challenge) -> ReviewSettings:
    """The challenge's review settings; defaults (added to the session) when none were saved yet."""
    settings = db.session.get(ReviewSettings, challenge.id)
    if settings is None:
        settings = ReviewSettings(challenge_id=challenge.id, per_proposal=3, max_per_reviewer=10, min_per_reviewer=0,
                                  one_per_institution=False, exclude_same_country=False, planned_awards=1,
                                  updated_at=utcnow())
        db.session.add(settings)
    return settings
