"""Feedback for every solver after the decision: their own scores per criterion, rank band, anonymised comments.

Nothing before the decision (reviews may still change the outcome), nothing when the center turned feedback off
for the challenge, and never a reviewer's identity: reviewers are "Reviewer 1, 2, ..." in an order that says
nothing about them.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.errors import Conflict, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.labels import rank_band_label, recommendation_label
from marketplace.proposals.models import Proposal
from marketplace.reviews.models import Review
from marketplace.reviews.ranking.service import challenge_ranking
from marketplace.reviews.scoring import weighted_score


def _refusal(proposal: Proposal):
    """(status, why) when the proposal's feedback is not available yet, else None: after the award decision
    (unless the center turned feedback off), or once the proposal's stage was decided by an advance."""
    if proposal.stage is not None and proposal.stage.decided_at is not None:
        return None
    decision = proposal.challenge.award_decision
    if decision is None:
        return 409, _l("Feedback from the reviewers is shown here once the center has decided the awards.")
    if not decision.feedback_enabled:
        return 403, _l("The center does not share reviewer feedback for this challenge.")
    return None


def availability(proposal: Proposal) -> tuple[bool, str | None]:
    """(available, why not) for the proposal page."""
    refusal = _refusal(proposal)
    return (True, None) if refusal is None else (False, str(refusal[1]))


def feedback_for(proposal: Proposal, user) -> dict:
    if not proposal.is_author(user):
        raise NotFound(_l("No such proposal."))
    refusal = _refusal(proposal)
    if refusal is not None:
        raise (Conflict if refusal[0] == 409 else Forbidden)(refusal[1])
    challenge = proposal.challenge
    reviews = db.session.scalars(select(Review).where(Review.proposal_id == proposal.id, Review.status == "submitted")
                                 .order_by(Review.pseudonym)).all()
    criteria = challenge.criteria_for(proposal.stage_id)
    per_criterion = []
    for criterion in criteria:
        scores = [s.score for r in reviews for s in r.scores if s.criterion_id == criterion.id]
        per_criterion.append({
            "criterion_id": criterion.id, "name": criterion.name, "weight": criterion.weight, "scores": scores,
            "mean": round(sum(scores) / len(scores), 2) if scores else None})
    overall = [w for w in (weighted_score(r, criteria) for r in reviews) if w is not None]
    band = None
    if reviews:
        # The rank alone needs no intervals; ranked among the proposal's own stage.
        ranking = challenge_ranking(challenge, bootstrap=0, stage_id=proposal.stage_id)
        mine = next((item for item in ranking["items"] if item["proposal_id"] == proposal.id), None)
        band = mine["rank_band"] if mine else None
    return {
        "proposal_id": proposal.id,
        "challenge_id": challenge.id,
        "awarded": proposal.award is not None,
        "reviews": len(reviews),
        "score": round(sum(overall) / len(overall), 2) if overall else None,
        "criteria": per_criterion,
        "rank_band": band,
        "rank_band_label": rank_band_label(band) if band else None,
        "ranked_proposals": None if band is None else len(ranking["items"]),
        "comments": [{"label": _("Reviewer %(n)d", n=n), "comment": r.comment, "recommendation": r.recommendation,
                      "recommendation_label": recommendation_label(r.recommendation)}
                     for n, r in enumerate(reviews, start=1)],
    }
