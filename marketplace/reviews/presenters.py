"""Reviews as each kind of reader sees them.

A reviewer's view is built only from the review, the frozen version it is about (masked, see blind.py) and the
challenge's criteria: no author list, no file names, no reviewer names. Staff views name the reviewers.
"""

from __future__ import annotations

from marketplace.challenges.models import Challenge
from marketplace.content_locales import pick
from marketplace.extensions import db
from marketplace.proposals.models import Proposal
from marketplace.reviews import blind, clarifications
from marketplace.reviews.models import ChallengeReviewer, Review
from marketplace.reviews.pool import has_accepted, membership
from marketplace.reviews.scoring import SCORE_ANCHORS, other_reviews
from marketplace.stages.readers import earlier_stage_for_reviewer


def criteria_json(challenge: Challenge, locale: str | None) -> list[dict]:
    return [{"id": c.id, "name": pick(c.name, locale, challenge.default_locale)[1], "weight": c.weight,
             "position": c.position} for c in challenge.criteria]


def review_summary(review: Review, challenge: Challenge, user, locale: str | None) -> dict:
    """A /me/reviews item: the contract's fields plus pseudonym, deadline and whether the agreement is accepted."""
    accepted = has_accepted(membership(challenge, user))
    body = {"id": review.id, "challenge_id": review.challenge_id, "proposal_id": review.proposal_id,
            "status": review.status, "pseudonym": review.pseudonym,
            "challenge_title": challenge.localized("title", locale)[1],
            "due_at": review.due_at.isoformat() if review.due_at else None,
            "submitted_at": review.submitted_at.isoformat() if review.submitted_at else None,
            "agreement_accepted": accepted, "proposal": None}
    if accepted:
        version = blind.review_version(review)
        proposal = db.session.get(Proposal, review.proposal_id)
        body["proposal"] = blind.blind_text(proposal, version) if version else None
    return body


def review_detail(review: Review, challenge: Challenge, user, locale: str | None) -> dict:
    """Everything the reviewer works with on one review (the agreement is checked by the caller)."""
    body = review_summary(review, challenge, user, locale)
    version = blind.review_version(review)
    body.update({
        "locale": version.locale if version else None,
        "attachments": blind.attachment_listing(version) if version else [],
        "criteria": criteria_json(challenge, locale),
        "anchors": {str(score): str(text) for score, text in SCORE_ANCHORS.items()},
        "scores": {str(s.criterion_id): s.score for s in review.scores},
        "comment": review.comment,
        "recommendation": review.recommendation,
        "other_reviews": other_reviews(review),
        "clarifications": clarifications.for_reviewer(review),
        # A finalist's later-stage proposal: the earlier one and its scores, as blind as this one.
        "earlier_stage": (earlier_stage_for_reviewer(db.session.get(Proposal, review.proposal_id), locale)
                          if body["proposal"] is not None else None),
    })
    return body


def pool_json(members: list[ChallengeReviewer], loads: dict[int, int], conflicts: dict) -> list[dict]:
    by_reviewer: dict[int, dict[str, list[str]]] = {}
    for (pid, rid), codes in conflicts.items():
        by_reviewer.setdefault(rid, {})[str(pid)] = list(codes)
    return [{"user_id": m.user_id, "display_name": m.user.display_name, "email": m.user.email,
             "country": m.user.country, "internal": m.internal, "agreement_accepted": has_accepted(m),
             "agreement_accepted_at": m.agreement_accepted_at.isoformat() if m.agreement_accepted_at else None,
             "max_load": m.max_load, "load": loads.get(m.user_id, 0),
             "conflicts": by_reviewer.get(m.user_id, {})} for m in members]


def staff_review_json(review: Review, reviewer_name: str) -> dict:
    return {"review_id": review.id, "proposal_id": review.proposal_id, "reviewer_id": review.reviewer_id,
            "reviewer": reviewer_name, "status": review.status, "affinity": review.affinity,
            "due_at": review.due_at.isoformat() if review.due_at else None,
            "submitted_at": review.submitted_at.isoformat() if review.submitted_at else None,
            "released_reason": review.released_reason}


def settings_json(settings) -> dict:
    return {"per_proposal": settings.per_proposal, "max_per_reviewer": settings.max_per_reviewer,
            "min_per_reviewer": settings.min_per_reviewer, "one_per_institution": settings.one_per_institution,
            "exclude_same_country": settings.exclude_same_country, "planned_awards": settings.planned_awards,
            "review_due_at": settings.review_due_at.isoformat() if settings.review_due_at else None}
