"""The review section of the proposal page (a template include): feedback, reviewers' questions, exclusions.

Registered as the template global `proposal_review_panel(proposal)`, so the proposals package only includes
"reviews/_proposal_panel.html" and passes nothing.
"""

from __future__ import annotations

from flask_login import current_user

from marketplace.accounts.models import User
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.reviews import clarifications, forms
from marketplace.reviews.conflicts import exclusions
from marketplace.reviews.conflicts.rules import MAX_SOLVER_EXCLUSIONS
from marketplace.reviews.ranking import feedback


def proposal_review_panel(proposal) -> dict | None:
    """What the proposal's authors see of its review; None for anyone else (staff see the staff pages)."""
    if not proposal.is_author(current_user):
        return None
    available, why_not = feedback.availability(proposal)
    body = None
    if available:
        try:
            body = feedback.feedback_for(proposal, current_user)
        except DomainError as error:  # decided a moment ago by another request: show the reason instead
            available, why_not = False, str(error.detail)
    excluded = exclusions.exclusions_of(proposal, current_user)
    names = {u.id: u.display_name for u in db.session.scalars(
        db.select(User).where(User.id.in_([e.excluded_user_id for e in excluded])))} if excluded else {}
    return {
        "feedback": body, "feedback_note": why_not,
        "clarifications": clarifications.for_authors(proposal),
        "answer_form": forms.AnswerForm(formdata=None),
        "exclusions": [(e, names.get(e.excluded_user_id, "")) for e in excluded],
        "exclusions_open": proposal.status != "withdrawn" and proposal.challenge.status in exclusions.EXCLUSION_STATES,
        "max_exclusions": MAX_SOLVER_EXCLUSIONS,
        "exclusion_form": forms.ExclusionForm(formdata=None),
        "action_form": forms.ActionForm(formdata=None),
        "answering_open": proposal.challenge.status == "judging",
    }
