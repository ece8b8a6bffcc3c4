"""Reviewer suggestions from the expert database, by affinity to what is to be reviewed.

The text to match is the proposals' versions for review once there are any, else the challenge itself. The expert
database's term index (ExpertTerm, the same analysis as search) narrows thousands of profiles to a few hundred
that share words with it; TF-IDF affinity (the maximum over each expert's documents, as in the assignment) ranks
those. Each suggestion carries its conflicts with the challenge's proposals, so a manager sees at once who could
not review what, and why.

Only what the experts made public is matched, ranked and shown (the public term weights, `reviewer_documents`
with `public_only`, `profiles.public_view`): a suggestion must not reveal a private field to the center's staff.
Conflicts of interest still read every field, as the conflict rules do everywhere.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.challenges.models import Challenge
from marketplace.extensions import db
from marketplace.reviews.assignment.service import eligible_proposals, proposal_text, text_analyzer
from marketplace.reviews.conflicts.identities import load_directory, reviewer_documents
from marketplace.reviews.conflicts.service import challenge_conflicts, solver_ids
from marketplace.reviews.models import ChallengeReviewer
from marketplace.reviews.pool import is_internal, reviewer_role_holders
from marketplace.solvers.models import ExpertProfile, ExpertTerm
from marketplace.solvers.profiles import public_view

MAX_QUERY_TERMS = 300
CANDIDATE_PROFILES = 400
RELEVANT = 0.05  # an affinity above this counts a proposal as "covered" by the expert


def _texts(challenge: Challenge) -> list[str]:
    eligible = eligible_proposals(challenge)
    if eligible:
        return [proposal_text(e.version) for e in eligible]
    return ["\n".join(part for part in (t.title, t.summary, t.description) if part) for t in challenge.texts]


def _candidate_user_ids(challenge: Challenge, texts: list[str]) -> list[int]:
    analyze = text_analyzer()
    counts = Counter(term for text in texts for term in analyze(text) if len(term) > 1)
    terms = [term for term, _n in counts.most_common(MAX_QUERY_TERMS)]
    matched: list[int] = []
    if terms:
        matched = list(db.session.scalars(
            select(ExpertProfile.user_id).join(ExpertTerm, ExpertTerm.profile_id == ExpertProfile.id)
            .join(User, User.id == ExpertProfile.user_id)
            .where(ExpertTerm.term.in_(terms), ExpertTerm.public_weight > 0, User.active.is_(True))
            .group_by(ExpertProfile.user_id).order_by(func.sum(ExpertTerm.public_weight).desc(),
                                                      ExpertProfile.user_id)
            .limit(CANDIDATE_PROFILES)))
    internal = [u.id for u in reviewer_role_holders(challenge)]
    return list(dict.fromkeys(internal + matched))


def suggest_reviewers(challenge: Challenge, *, limit: int = 20) -> list[dict]:
    import numpy as np  # loaded when suggestions are asked for, not when the app starts

    from marketplace.reviews.assignment import affinity

    texts = [t for t in _texts(challenge) if t.strip()]
    solvers = solver_ids(challenge.id)
    user_ids = [uid for uid in _candidate_user_ids(challenge, texts) if uid not in solvers]
    if not user_ids or not texts:
        return []
    in_pool = set(db.session.scalars(select(ChallengeReviewer.user_id).where(
        ChallengeReviewer.challenge_id == challenge.id)))
    directory = load_directory(user_ids)
    documents = [reviewer_documents(directory.profile(uid), public_only=True) for uid in user_ids]
    candidates = affinity.tfidf_affinity(texts, documents,
                                         top_n=max(len(texts), len(user_ids)), analyzer=text_analyzer())
    best = np.zeros(len(user_ids))
    np.maximum.at(best, candidates.reviewer_index, candidates.affinity)
    covered = np.bincount(candidates.reviewer_index[candidates.affinity >= RELEVANT], minlength=len(user_ids))
    total = np.bincount(candidates.reviewer_index, weights=candidates.affinity, minlength=len(user_ids))
    # Conflicts with the proposals for review only, as the pool pages count them (never a draft's authors).
    eligible = [e.proposal.id for e in eligible_proposals(challenge)]
    conflicts = challenge_conflicts(challenge, user_ids, proposal_ids=eligible) if eligible else {}
    reasons: dict[int, Counter] = defaultdict(Counter)
    for (_pid, rid), codes in conflicts.items():
        reasons[rid].update(codes)
    order = sorted(range(len(user_ids)), key=lambda j: (-total[j], -best[j], user_ids[j]))
    rows = []
    for j in order[:limit]:
        uid = user_ids[j]
        user, profile = directory.users[uid], directory.profile(uid)
        shown = public_view(profile, user, with_awards=False) if profile else {}
        rows.append({
            "user_id": uid, "display_name": user.display_name, "country": user.country,
            "headline": shown.get("headline", ""), "affiliation": shown.get("affiliation", ""),
            "expertise": list(shown.get("expertise") or []),
            "internal": is_internal(challenge, user),
            "affinity": round(float(best[j]), 4), "relevance": round(float(total[j]), 4),
            "covers": int(covered[j]), "of": len(texts), "in_pool": uid in in_pool,
            "conflicts": dict(sorted(reasons[uid].items())),
        })
    return rows
