"""Conflicts of interest of a challenge, from the database: who the authors are, and every conflicting pair.

The rules themselves live in `rules` (pure); this module is the one place that says who a proposal's authors and
a challenge's solvers are (`author_ids`, `solver_ids`), gathers the people (`identities`), the declared conflicts
and the solvers' exclusions, and returns every conflicting (proposal_id, reviewer_id) pair with its reasons.
Every conflict is a hard constraint of the assignment; staff see the reason codes on the pool page.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select

from marketplace.challenges.models import Challenge
from marketplace.extensions import db
from marketplace.proposals.models import Proposal, ProposalMember
from marketplace.reviews.conflicts import rules
from marketplace.reviews.conflicts.identities import Directory, load_directory
from marketplace.reviews.models import ConflictOfInterest, SolverExclusion
from marketplace.reviews.settings import settings_of

# Invited members count as authors too: a conflict missed costs a review's fairness, a false one costs a reviewer.
AUTHOR_MEMBER_STATES = ("accepted", "invited")

def author_ids(proposal: Proposal) -> set[int]:
    """Everyone on the proposal: the lead, members who accepted, and members still invited (to be safe)."""
    return {proposal.lead_id} | {m.user_id for m in proposal.members
                                 if m.user_id is not None and m.status in AUTHOR_MEMBER_STATES}


def solver_ids(challenge_id: int) -> set[int]:
    """Everyone on a proposal of the challenge, whatever its state (drafts and withdrawn ones included)."""
    leads = select(Proposal.lead_id).where(Proposal.challenge_id == challenge_id)
    members = (select(ProposalMember.user_id).join(Proposal, Proposal.id == ProposalMember.proposal_id)
               .where(Proposal.challenge_id == challenge_id, ProposalMember.user_id.is_not(None),
                      ProposalMember.status.in_(AUTHOR_MEMBER_STATES)))
    return set(db.session.scalars(leads)) | set(db.session.scalars(members))


def challenge_conflicts(challenge: Challenge, reviewer_ids: Iterable[int], *,
                        proposal_ids: Iterable[int] | None = None,
                        directory: Directory | None = None) -> dict[tuple[int, int], tuple[str, ...]]:
    """{(proposal_id, reviewer_id): sorted reason codes} for the challenge's proposals (or those given)."""
    reviewer_ids = sorted(set(reviewer_ids))
    proposals = list(db.session.scalars(select(Proposal).where(Proposal.challenge_id == challenge.id)
                                        .order_by(Proposal.id)))
    wanted = set(proposal_ids) if proposal_ids is not None else {p.id for p in proposals}
    if not reviewer_ids or not wanted:
        return {}
    authors = {p.id: author_ids(p) for p in proposals}
    needed = set(reviewer_ids).union(*authors.values())
    if directory is None:
        directory = load_directory(needed)
    elif missing := needed - directory.users.keys():  # e.g. authors of drafts and withdrawn proposals
        extra = load_directory(missing)
        directory = Directory({**directory.users, **extra.users}, {**directory.profiles, **extra.profiles})
    teams: dict[int, set[str]] = defaultdict(set)
    for pid, uids in authors.items():
        for uid in uids:
            teams[uid].add(f"proposal:{pid}")

    exclusions: dict[int, set[str]] = defaultdict(set)
    for row in db.session.scalars(select(SolverExclusion).join(Proposal, Proposal.id == SolverExclusion.proposal_id)
                                  .where(Proposal.challenge_id == challenge.id)):
        exclusions[row.proposal_id].add(f"user:{row.excluded_user_id}")

    # Every proposal goes in, drafts and withdrawn ones too: their solvers may review none of the challenge.
    parties = [rules.ProposalParties(
        proposal_id=p.id, team=f"proposal:{p.id}", excluded_by_solver=frozenset(exclusions[p.id]),
        authors=tuple(directory.person(uid, teams=teams[uid]) for uid in sorted(authors[p.id])
                      if uid in directory.users)) for p in proposals]
    reviewers = [(rid, directory.person(rid, teams=teams.get(rid, ()))) for rid in reviewer_ids
                 if rid in directory.users]
    policy = rules.ConflictPolicy(today=dt.date.today(), same_country=settings_of(challenge).exclude_same_country)
    found = rules.find_conflicts(parties, reviewers, policy, declared_by_reviewers=declared_pairs(
        challenge, [p.id for p in proposals]))
    return {pair: reasons for pair, reasons in found.items() if pair[0] in wanted}


def declared_pairs(challenge: Challenge, proposal_ids: list[int]) -> set[tuple[int, int]]:
    """(proposal_id, reviewer_id) of every conflict a reviewer declared; a whole-challenge one covers all."""
    pairs: set[tuple[int, int]] = set()
    for row in db.session.scalars(select(ConflictOfInterest).where(
            ConflictOfInterest.challenge_id == challenge.id, ConflictOfInterest.declared_by == "reviewer")):
        if row.proposal_id is None:
            pairs.update((pid, row.reviewer_id) for pid in proposal_ids)
        else:
            pairs.add((row.proposal_id, row.reviewer_id))
    return pairs
