"""The ranking of a challenge from its submitted reviews (`ranking.py` does the statistics).

The contract's shape ({"items": [...], "reliability": {"krippendorff_alpha": ...}}) with more: expected rank, grey
zone, flags, reviewer biases, Krippendorff's alpha per criterion with a plain-language explanation in the reader's
language, and the rank band each proposal falls in (what its authors see in their feedback).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import select, true

from marketplace.accounts.models import User
from marketplace.challenges.models import Challenge
from marketplace.extensions import db
from marketplace.labels import alpha_explanation, alpha_level_label, ranking_flag_label
from marketplace.proposals.models import Proposal, ProposalVersion
from marketplace.reviews.models import Review, ReviewScore
from marketplace.reviews.settings import settings_of

if TYPE_CHECKING:  # the algorithms (SciPy) are imported where they run, not when the app starts
    from marketplace.reviews.ranking.statistics import ScoreRow

DEFAULT_BOOTSTRAP = 200

RANK_BANDS = (  # (code, share of the field), best first
    ("top_10", 0.10), ("top_25", 0.25), ("top_50", 0.50), ("lower_50", 1.0),
)


def rank_band(rank: int, total: int) -> str:
    for code, share in RANK_BANDS:
        if rank <= max(1, math.ceil(share * total)):
            return code
    return RANK_BANDS[-1][0]


def _of_stage(stage_id: int | None):
    """Reviews of one stage's proposals (None: every stage)."""
    return true() if stage_id is None else Review.proposal_id.in_(select(Proposal.id).where(
        Proposal.stage_id == stage_id))


def score_rows(challenge_id: int, *, proposal_ids: Iterable[int] | None = None,
               stage_id: int | None = None) -> list[ScoreRow]:
    from marketplace.reviews.ranking.statistics import ScoreRow

    statement = (select(Review.proposal_id, Review.reviewer_id, ReviewScore.criterion_id, ReviewScore.score)
                 .join(ReviewScore, ReviewScore.review_id == Review.id)
                 .where(Review.challenge_id == challenge_id, Review.status == "submitted", _of_stage(stage_id)))
    if proposal_ids is not None:
        statement = statement.where(Review.proposal_id.in_(list(proposal_ids)))
    return [ScoreRow(*row) for row in db.session.execute(statement)]


def _alpha_dict(report, name: dict | None = None) -> dict:
    body = report.as_dict()
    body["explanation"] = alpha_explanation(report.level)
    body["level_label"] = alpha_level_label(report.level)
    if name is not None:
        body["name"] = name
    return body


def challenge_ranking(challenge: Challenge, *, awards: int | None = None,
                      bootstrap: int = DEFAULT_BOOTSTRAP, stage_id: int | None = None) -> dict:
    """The ranking of one stage's proposals (default: the current stage) as the API and the staff page show it."""
    from marketplace.reviews.ranking.reliability import ALPHA_WARNING
    from marketplace.reviews.ranking.statistics import rank_proposals

    stage_id = stage_id or challenge.current_stage_id
    planned = awards if awards is not None else settings_of(challenge).planned_awards
    rows = score_rows(challenge.id, stage_id=stage_id)
    reviewed_ids = {r.proposal_id for r in rows}
    assigned_ids = set(db.session.scalars(select(Review.proposal_id).where(
        Review.challenge_id == challenge.id, Review.status != "released", _of_stage(stage_id))))
    base = {"stage_id": stage_id, "planned_awards": planned, "reviews": 0,
            "unreviewed": sorted(assigned_ids - reviewed_ids),
            "alpha_warning_below": ALPHA_WARNING}
    if not rows:
        return {"items": [], "reliability": {"krippendorff_alpha": None, **_alpha_dict(_no_data())},
                "reviewer_biases": [], "award_cut": None, **base}
    weights = {c.id: c.weight for c in challenge.criteria_for(stage_id)}
    # The challenge id seeds the bootstrap: the same reviews always give the same intervals.
    ranking = rank_proposals(rows, weights, awards=planned, bootstrap=bootstrap, seed=challenge.id)
    body = ranking.as_dict()
    titles = _titles(reviewed_ids)
    total = len(ranking.items)
    for item in body["items"]:
        item["title"] = titles.get(item["proposal_id"], "")
        item["rank_band"] = rank_band(item["rank"], total)
        item["flag_labels"] = [ranking_flag_label(code) for code in item["flags"]]
    names = {c.id: c.name for c in challenge.criteria_for(stage_id)}
    overall = ranking.reliability.overall
    body["reliability"] = {"krippendorff_alpha": body["reliability"]["krippendorff_alpha"], **_alpha_dict(overall),
                           "per_criterion": {str(cid): _alpha_dict(report, names.get(cid))
                                             for cid, report in ranking.reliability.per_criterion.items()}}
    users = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_([b.reviewer_id for b in ranking.reviewer_biases])))}
    body["reviewer_biases"] = [{"reviewer_id": b.reviewer_id, "display_name": users[b.reviewer_id].display_name,
                                "bias": round(b.bias, 3), "reviews": b.reviews, "strongly_biased": b.strongly_biased}
                               for b in sorted(ranking.reviewer_biases, key=lambda b: -abs(b.bias))]
    body.update(base, reviews=len({(r.proposal_id, r.reviewer_id) for r in rows}),
                bootstrap_samples=ranking.bootstrap_samples, interval_level=ranking.interval_level)
    return body


def _no_data():
    from marketplace.reviews.ranking.reliability import describe_alpha

    return describe_alpha(None)


def _titles(proposal_ids: set[int]) -> dict[int, str]:
    """The title of each proposal's latest version (staff see titles; reviewers never see this ranking)."""
    rows = db.session.execute(select(ProposalVersion.proposal_id, ProposalVersion.number, ProposalVersion.title)
                              .where(ProposalVersion.proposal_id.in_(proposal_ids))).all()
    best: dict[int, tuple[int, str]] = {}
    for pid, number, title in rows:
        if pid not in best or number > best[pid][0]:
            best[pid] = (number, title)
    return {pid: title for pid, (_n, title) in best.items()}
