"""Who may see what of a challenge's review.

Review staff are the center's managers and officers (`permissions.SEEKER_STAFF_ROLES`, the same people as
`Challenge.is_staff`). A user whose only role in the organization is `reviewer` is not staff: reviewers never see
author identities, the ranking or other reviewers.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from marketplace.challenges.models import Challenge
from marketplace.errors import NotFound
from marketplace.proposals.services import get_visible

REVIEWABLE_STATES = ("closed", "judging")


def is_review_staff(challenge: Challenge, user) -> bool:
    return challenge.is_staff(user)


def is_manager(challenge: Challenge, user) -> bool:
    return challenge.can_manage(user)


def authored_proposal(proposal_id: int, user):
    """A proposal for one of its authors; 404 for anyone else, staff included (author pages and endpoints)."""
    proposal = get_visible(proposal_id, user)
    if not proposal.is_author(user):
        raise NotFound(_l("No such proposal."))
    return proposal
