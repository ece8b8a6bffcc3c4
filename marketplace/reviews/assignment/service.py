"""Assigning reviewers: the database turned into an `AssignmentProblem`, the optimum turned into Review rows.

One action of the manager assigns every eligible proposal (submitted, with a version in time) k conflict-free
reviewers from the pool, maximising affinity within the load bounds (`assignment.py`, a min-cost flow). Reviews
already assigned stay and count (a second run only fills gaps); a reviewer once released from a proposal is never
assigned to it again. When no valid assignment exists the manager gets 409 with the constraint that cannot be
met, and nothing is written. A conflict a reviewer declares later releases that one review and assigns the best
conflict-free replacement with capacity left.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.audit.services import record
from marketplace.challenges.models import Challenge
from marketplace.challenges.states import move
from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.mail.services import queue_mail
from marketplace.proposals.models import Proposal, ProposalVersion
from marketplace.reviews.access import REVIEWABLE_STATES, is_manager
from marketplace.reviews.blind import new_pseudonym
from marketplace.reviews.conflicts.identities import Directory, institution_of, load_directory, reviewer_documents
from marketplace.reviews.conflicts.rules import DECLARED_BY_REVIEWER
from marketplace.reviews.conflicts.service import author_ids, challenge_conflicts
from marketplace.reviews.models import ChallengeReviewer, ConflictOfInterest, Review
from marketplace.reviews.settings import settings_of
from marketplace.stages.rules import stage_proposals_clause

if TYPE_CHECKING:  # NumPy, SciPy and OR-Tools load where the assignment runs, not when the app starts
    from marketplace.reviews.assignment.problem import AssignmentProblem, AssignmentResult


MAX_PER_PROPOSAL = 10
MAX_LOAD = 500
DEFAULT_REVIEW_DAYS = 21


@dataclass(frozen=True)
class AssignmentRequest:
    per_proposal: int = 3
    max_per_reviewer: int = 10
    min_per_reviewer: int = 0
    one_per_institution: bool = False
    due_at: datetime | None = None

    def check(self) -> None:
        errors = {}
        if not 1 <= self.per_proposal <= MAX_PER_PROPOSAL:
            errors["per_proposal"] = [_l("Between 1 and %(n)d reviewers per proposal.", n=MAX_PER_PROPOSAL)]
        if not 1 <= self.max_per_reviewer <= MAX_LOAD:
            errors["max_per_reviewer"] = [_l("Between 1 and %(n)d proposals per reviewer.", n=MAX_LOAD)]
        if not 0 <= self.min_per_reviewer <= self.max_per_reviewer:
            errors["min_per_reviewer"] = [_l("The minimum lies between 0 and the maximum per reviewer.")]
        if self.due_at is not None and self.due_at <= utcnow():
            errors["due_at"] = [_l("The review deadline must lie in the future.")]
        if errors:
            raise ValidationFailed(_l("Some assignment settings are not valid."), errors=errors)


@dataclass
class Eligible:
    proposal: Proposal
    version: ProposalVersion


@dataclass
class AssignmentOutcome:
    reviews: list[Review]  # every active review of the challenge after the run
    created: list[Review]
    result: AssignmentResult
    kept: int = 0
    stats: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        spread = self.result.load_spread
        return {
            "assignments": [{"review_id": r.id, "proposal_id": r.proposal_id, "reviewer_id": r.reviewer_id}
                            for r in self.reviews],
            "total_affinity": round(self.result.total_affinity, 4),
            "load_spread": {"min": spread.min, "max": spread.max, "std": round(spread.std, 3)},
            "worst_proposal_affinity": round(self.result.worst_proposal_affinity, 4),
            "worst_proposal_id": self.result.worst_proposal_id,
            "created": len(self.created),
            "kept": self.kept,
            "solve_seconds": round(self.result.solve_seconds, 4),
        }


def eligible_proposals(challenge: Challenge) -> list[Eligible]:
    """Submitted proposals with a version submitted in time, each with that (latest in-time) version."""
    latest = (select(ProposalVersion.proposal_id, func.max(ProposalVersion.number).label("number"))
              .join(Proposal, Proposal.id == ProposalVersion.proposal_id)
              .where(stage_proposals_clause(challenge), Proposal.status == "submitted",
                     ProposalVersion.submitted_at <= challenge.deadline)
              .group_by(ProposalVersion.proposal_id).subquery())
    rows = db.session.execute(
        select(Proposal, ProposalVersion)
        .join(latest, latest.c.proposal_id == Proposal.id)
        .join(ProposalVersion, (ProposalVersion.proposal_id == Proposal.id)
              & (ProposalVersion.number == latest.c.number))
        .order_by(Proposal.id)).all()
    return [Eligible(p, v) for p, v in rows]


def proposal_text(version: ProposalVersion) -> str:
    return "\n".join(part for part in (version.title, version.abstract, version.body) if part)


def text_analyzer():
    """The search index's analysis (same Chinese segmentation and Latin stemming as search)."""
    from marketplace.search import analysis

    analysis.configure(Path(current_app.instance_path) / "search")
    from marketplace.reviews.assignment import affinity

    return affinity.search_index_terms


def active_reviews(challenge: Challenge) -> list[Review]:
    return list(db.session.scalars(select(Review).where(Review.challenge_id == challenge.id,
                                                        Review.status != "released").order_by(Review.id)))


def _loads(challenge: Challenge) -> dict[int, int]:
    return dict(db.session.execute(select(Review.reviewer_id, func.count(Review.id)).where(
        Review.challenge_id == challenge.id, Review.status != "released").group_by(Review.reviewer_id)).all())


def _taken_pseudonyms(reviewer_ids: set[int]) -> dict[int, set[str]]:
    taken: dict[int, set[str]] = {rid: set() for rid in reviewer_ids}
    for rid, code in db.session.execute(select(Review.reviewer_id, Review.pseudonym)
                                        .where(Review.reviewer_id.in_(reviewer_ids))):
        taken[rid].add(code)
    return taken


def _due(request_due: datetime | None, settings) -> datetime:
    return request_due or settings.review_due_at or utcnow() + timedelta(days=DEFAULT_REVIEW_DAYS)


def run_assignment(challenge: Challenge, actor, request: AssignmentRequest) -> AssignmentOutcome:
    """Assign reviewers to every eligible proposal; raises Conflict (409) with the reason when infeasible."""
    eligible, members = _assignable(challenge, actor, request)
    proposal_ids = [e.proposal.id for e in eligible]
    reviewer_ids = sorted(members)
    existing = list(db.session.scalars(select(Review).where(Review.challenge_id == challenge.id)))
    kept = [r for r in existing if r.status != "released" and r.proposal_id in set(proposal_ids)]
    directory = load_directory(set(reviewer_ids).union(*(author_ids(e.proposal) for e in eligible)))
    conflicts = challenge_conflicts(challenge, reviewer_ids, proposal_ids=proposal_ids, directory=directory)
    # A released review is never assigned again: whatever released it (a conflict) still holds.
    barred = set(conflicts) | {(r.proposal_id, r.reviewer_id) for r in existing if r.status == "released"}

    max_load = [min(request.max_per_reviewer, members[rid].max_load or request.max_per_reviewer)
                for rid in reviewer_ids]
    problem = _problem(eligible, reviewer_ids, directory, barred, kept, request, max_load,
                       k=request.per_proposal, min_load=[min(request.min_per_reviewer, m) for m in max_load])
    from marketplace.reviews.assignment.flow import assign_reviewers
    from marketplace.reviews.assignment.problem import AssignmentInfeasible

    try:
        result = assign_reviewers(problem)
    except AssignmentInfeasible as error:
        raise Conflict(_l("No valid assignment exists: %(reason)s", reason=error.reason),
                       errors={"assignment": list(error.reasons), "code": [error.code]}) from error

    due = _remember_request(settings_of(challenge), request)
    created = _create_reviews(challenge, eligible, kept, result, due)
    if challenge.status == "closed":
        move(challenge, "judging", actor=actor, action="challenge.judging_started")
    spread = result.load_spread
    record("review.assigned", "challenge", challenge.id, actor=actor, created=len(created), kept=len(kept),
           per_proposal=request.per_proposal, max_per_reviewer=request.max_per_reviewer,
           min_per_reviewer=request.min_per_reviewer, one_per_institution=request.one_per_institution,
           total_affinity=round(result.total_affinity, 4), load_min=spread.min, load_max=spread.max,
           due_at=due.isoformat())
    _notify_reviewers(challenge, created, directory)
    return AssignmentOutcome(reviews=active_reviews(challenge), created=created, result=result, kept=len(kept),
                             stats=result.stats)


def _assignable(challenge: Challenge, actor, request: AssignmentRequest) -> tuple[list[Eligible], dict]:
    """The eligible proposals and the pool {user_id: member}, once the actor, the request and the state allow it."""
    if not is_manager(challenge, actor):
        raise Forbidden(_l("Only center managers of this organization can do this."))
    request.check()
    if challenge.status not in REVIEWABLE_STATES:
        raise Conflict(_l("Reviewers are assigned once the challenge is closed (it is %(state)s).",
                          state=challenge.status))
    eligible = eligible_proposals(challenge)
    if not eligible:
        raise Conflict(_l("There is no submitted proposal to review."), errors={"assignment": [
            _l("There is no submitted proposal to review.")]})
    members = {m.user_id: m for m in db.session.scalars(
        select(ChallengeReviewer).where(ChallengeReviewer.challenge_id == challenge.id))}
    if not members:
        raise Conflict(_l("The reviewer pool is empty; add reviewers first."), errors={"assignment": [
            _l("The reviewer pool is empty; add reviewers first.")]})
    return eligible, members


def _remember_request(settings, request: AssignmentRequest) -> datetime:
    """The request's numbers become the challenge's settings (the next page shows them); returns the due date."""
    settings.per_proposal, settings.max_per_reviewer = request.per_proposal, request.max_per_reviewer
    settings.min_per_reviewer, settings.one_per_institution = request.min_per_reviewer, request.one_per_institution
    due = _due(request.due_at, settings)
    settings.review_due_at, settings.updated_at = due, utcnow()
    return due


def _create_reviews(challenge: Challenge, eligible: list[Eligible], kept: list[Review], result: AssignmentResult,
                    due: datetime) -> list[Review]:
    """A review, with a fresh pseudonym for its reviewer, for every chosen pair that is not kept already."""
    version_of = {e.proposal.id: e.version.number for e in eligible}
    kept_pairs = {(r.proposal_id, r.reviewer_id) for r in kept}
    new_pairs = [(pair, a) for pair, a in zip(result.pairs, result.pair_affinity, strict=True)
                 if pair not in kept_pairs]
    taken = _taken_pseudonyms({rid for (_pid, rid), _a in new_pairs})
    created = []
    for (pid, rid), value in new_pairs:
        code = new_pseudonym(taken[rid])
        taken[rid].add(code)
        created.append(Review(challenge_id=challenge.id, proposal_id=pid, reviewer_id=rid, status="assigned",
                              pseudonym=code, proposal_version=version_of[pid], affinity=float(value), due_at=due))
    db.session.add_all(created)
    db.session.flush()
    return created


def _problem(eligible: list[Eligible], reviewer_ids: list[int], directory: Directory, barred: set[tuple[int, int]],
             kept: list[Review], request: AssignmentRequest, max_load: list[int], *, k: int,
             min_load: list[int] | int) -> AssignmentProblem:
    import numpy as np

    from marketplace.reviews.assignment import affinity
    from marketplace.reviews.assignment.problem import AssignmentProblem

    proposal_ids = [e.proposal.id for e in eligible]
    p_pos = {pid: i for i, pid in enumerate(proposal_ids)}
    r_pos = {rid: j for j, rid in enumerate(reviewer_ids)}
    exclude = [(p_pos[pid], r_pos[rid]) for pid, rid in barred if pid in p_pos and rid in r_pos]
    candidates = affinity.tfidf_affinity(
        [proposal_text(e.version) for e in eligible],
        [reviewer_documents(directory.profile(rid)) for rid in reviewer_ids],
        analyzer=text_analyzer(), exclude=exclude)
    pairs_p = candidates.proposal_index.tolist()
    pairs_r = candidates.reviewer_index.tolist()
    values = candidates.affinity.tolist()
    fixed = [False] * len(pairs_p)
    # Kept reviews are part of the problem whether or not they made the top-N candidates.
    for review in kept:
        pairs_p.append(p_pos[review.proposal_id])
        pairs_r.append(r_pos[review.reviewer_id])
        values.append(float(review.affinity or 0.0))
        fixed.append(True)
    institutions = ([institution_of(directory.users[rid], directory.profile(rid)) for rid in reviewer_ids]
                    if request.one_per_institution else None)
    return AssignmentProblem(
        proposal_ids=proposal_ids, reviewer_ids=reviewer_ids, pair_proposal=np.array(pairs_p, dtype=np.int64),
        pair_reviewer=np.array(pairs_r, dtype=np.int64), pair_affinity=np.array(values, dtype=np.float64), k=k,
        max_load=max_load, min_load=min_load, reviewer_institution=institutions,
        conflicts=barred, pair_fixed=np.array(fixed, dtype=bool))


def _notify_reviewers(challenge: Challenge, created: list[Review], directory: Directory) -> None:
    counts: dict[int, int] = {}
    for review in created:
        counts[review.reviewer_id] = counts.get(review.reviewer_id, 0) + 1
    link = current_app.config["PUBLIC_URL"].rstrip("/") + "/reviews"
    for rid, count in counts.items():
        user = directory.users.get(rid) or db.session.get(User, rid)
        _locale, title = challenge.localized("title", user.locale)
        due = min(r.due_at for r in created if r.reviewer_id == rid)
        queue_mail(user.email, "reviews_assigned", locale=user.locale, user=user, challenge_title=title,
                   count=count, due_at=due, link=link)


# --- a conflict declared after assignment -----------------------------------------------------------

@dataclass
class ConflictOutcome:
    conflict: ConflictOfInterest
    released: Review
    replacement: Review | None
    reason: str | None  # why no replacement was found


def declare_conflict(review: Review, reviewer, *, note: str = "") -> ConflictOutcome:
    """The reviewer declares a conflict: the review is released and the best free reviewer takes it over."""
    if review.reviewer_id != getattr(reviewer, "id", None) or review.status == "released":
        raise NotFound(_l("No such review."))
    challenge = db.session.get(Challenge, review.challenge_id)
    if challenge.status != "judging":
        raise Conflict(_l("Judging is over; conflicts can no longer change the assignment."))
    conflict = ConflictOfInterest(challenge_id=challenge.id, reviewer_id=reviewer.id, proposal_id=review.proposal_id,
                                  reason_code=DECLARED_BY_REVIEWER, declared_by="reviewer",
                                  note=(note or "").strip()[:2000])
    db.session.add(conflict)
    was = review.status
    review.status, review.released_reason = "released", "conflict"
    db.session.flush()
    record("review.conflict_declared", "review", review.id, actor=reviewer, proposal=review.proposal_id,
           previous_status=was)
    replacement, reason = _replace(challenge, review)
    if replacement is None:
        record("review.reassignment_failed", "review", review.id, proposal=review.proposal_id, reason=reason)
    else:
        record("review.reassigned", "review", replacement.id, replaces=review.id, proposal=review.proposal_id,
               reviewer=replacement.reviewer_id)
    return ConflictOutcome(conflict, review, replacement, reason)


def _replace(challenge: Challenge, released: Review) -> tuple[Review | None, str | None]:
    """One more conflict-free reviewer with capacity for the released review's proposal (the best by affinity)."""
    settings = settings_of(challenge)
    eligible = [e for e in eligible_proposals(challenge) if e.proposal.id == released.proposal_id]
    if not eligible:
        return None, "the proposal is no longer eligible for review"
    members = {m.user_id: m for m in db.session.scalars(
        select(ChallengeReviewer).where(ChallengeReviewer.challenge_id == challenge.id))}
    on_proposal = list(db.session.scalars(select(Review).where(Review.proposal_id == released.proposal_id)))
    kept = [r for r in on_proposal if r.status != "released"]
    loads = _loads(challenge)
    reviewer_ids = sorted(set(members) | {r.reviewer_id for r in kept})
    kept_ids = {r.reviewer_id for r in kept}
    # Capacity on this one proposal: kept reviewers hold their seat, others need a free slot of their maximum.
    max_load = []
    for rid in reviewer_ids:
        limit = min(settings.max_per_reviewer, (members[rid].max_load if rid in members else None)
                    or settings.max_per_reviewer)
        max_load.append(1 if rid in kept_ids or loads.get(rid, 0) < limit else 0)
    directory = load_directory(set(reviewer_ids) | author_ids(eligible[0].proposal))
    conflicts = challenge_conflicts(challenge, reviewer_ids, proposal_ids=[released.proposal_id], directory=directory)
    barred = set(conflicts) | {(r.proposal_id, r.reviewer_id) for r in on_proposal if r.status == "released"}
    request = AssignmentRequest(per_proposal=len(kept) + 1, max_per_reviewer=settings.max_per_reviewer,
                                one_per_institution=settings.one_per_institution)
    problem = _problem(eligible, reviewer_ids, directory, barred, kept, request, max_load, k=len(kept) + 1,
                       min_load=0)
    from marketplace.reviews.assignment.flow import assign_reviewers
    from marketplace.reviews.assignment.problem import AssignmentInfeasible

    try:
        result = assign_reviewers(problem)
    except AssignmentInfeasible as error:
        return None, error.reason
    new = [(pair, a) for pair, a in zip(result.pairs, result.pair_affinity, strict=True) if pair[1] not in kept_ids]
    (pid, rid), value = new[0]
    taken = _taken_pseudonyms({rid})[rid]
    replacement = Review(challenge_id=challenge.id, proposal_id=pid, reviewer_id=rid, status="assigned",
                         pseudonym=new_pseudonym(taken), proposal_version=eligible[0].version.number,
                         affinity=float(value), due_at=max(released.due_at or utcnow(), utcnow() + timedelta(days=7)))
    db.session.add(replacement)
    db.session.flush()
    _notify_reviewers(challenge, [replacement], directory)
    return replacement, None
