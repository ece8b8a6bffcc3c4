"""What solvers, reviewers and the public see of a challenge's stages, each in one function.

    stage_note(challenge) -> str | None                  "Stage 2 of 3: only the finalists of stage 1 can take part"
    carry_on_from(challenge, user) -> Proposal | None     the finalist's proposal to start the current stage from
    proposal_stage(proposal) -> dict | None               which stage a proposal belongs to, and whether it advanced
    earlier_stage_for_reviewer(proposal, locale) -> dict | None   the blind earlier-stage proposal and its scores
    stages_reached(results) -> {result_id: dict | None}   how far each open result's winners went
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from marketplace.extensions import db
from marketplace.stages.models import ChallengeStage
from marketplace.stages.rules import previous_stage


def stage_note(challenge) -> str | None:
    """The note beside the primary action once the challenge is past its first stage."""
    current = challenge.current_stage
    if current is None or not challenge.is_multi_stage or current.position == 1:
        return None
    return _("Stage %(k)d of %(n)d: only the finalists of stage %(before)d can take part.",
             k=current.position, n=len(challenge.stages), before=current.position - 1)


def carry_on_from(challenge, user):
    """The user's proposal that advanced from the stage before the current one, when they may start the current
    stage's proposal from it now (the stage is open, they may take part and have no proposal in it yet)."""
    from marketplace.proposals.guards import active_proposal_of
    from marketplace.proposals.models import Proposal, ProposalMember

    current = challenge.current_stage
    if (not getattr(user, "is_authenticated", False) or current is None or current.position == 1
            or challenge.shown_status != "open" or challenge.participation_refusal(user)
            or active_proposal_of(challenge.id, user.id)):
        return None
    before = previous_stage(challenge, current)
    return db.session.scalar(
        select(Proposal).join(ProposalMember, ProposalMember.proposal_id == Proposal.id)
        .where(Proposal.stage_id == before.id, Proposal.advanced_at.is_not(None),
               ProposalMember.user_id == user.id, ProposalMember.status == "accepted")
        .order_by(Proposal.id).limit(1))


def proposal_stage(proposal) -> dict | None:
    """{"position", "of", "name", "advanced", "next_position", "previous_id"} for a proposal of a multi-stage
    challenge (`previous_id`: the earlier-stage proposal it started from, if any)."""
    challenge = proposal.challenge
    if not challenge.is_multi_stage or proposal.stage is None:
        return None
    stage = proposal.stage
    return {"position": stage.position, "of": len(challenge.stages),
            "name": stage.display_name(_current_locale(), challenge.default_locale),
            "advanced": proposal.advanced_at is not None,
            "next_position": stage.position + 1 if proposal.advanced_at is not None else None,
            "previous_id": proposal.previous_proposal_id}


def _current_locale() -> str:
    from marketplace.i18n import current_locale_id

    return current_locale_id()


# --- reviewers -------------------------------------------------------------------------------------

def earlier_stage_for_reviewer(proposal, locale: str | None) -> dict | None:
    """What a reviewer of a later-stage proposal sees of the finalist's earlier proposal: the text of its reviewed
    version (masked like every blind text) and the mean score per criterion of its submitted reviews. Never
    names, e-mail addresses, file names or who reviewed it. None when the proposal started afresh."""
    from marketplace.content_locales import pick
    from marketplace.proposals.models import Proposal
    from marketplace.proposals.services import version_for_review
    from marketplace.reviews import blind
    from marketplace.reviews.models import Review, ReviewScore

    earlier = db.session.get(Proposal, proposal.previous_proposal_id) if proposal.previous_proposal_id else None
    if earlier is None:
        return None
    challenge = earlier.challenge
    version = version_for_review(earlier)
    means = dict(db.session.execute(
        select(ReviewScore.criterion_id, func.avg(ReviewScore.score))
        .join(Review, Review.id == ReviewScore.review_id)
        .where(Review.proposal_id == earlier.id, Review.status == "submitted")
        .group_by(ReviewScore.criterion_id)).all())
    reviews = db.session.scalar(select(func.count()).select_from(Review).where(
        Review.proposal_id == earlier.id, Review.status == "submitted"))
    criteria = [{"id": c.id, "name": pick(c.name, locale, challenge.default_locale)[1], "weight": c.weight,
                 "mean": round(float(means[c.id]), 2) if c.id in means else None}
                for c in challenge.criteria_for(earlier.stage_id)]
    weighted = [(c["mean"], c["weight"]) for c in criteria if c["mean"] is not None]
    return {
        "stage": {"position": earlier.stage.position,
                  "name": earlier.stage.display_name(locale, challenge.default_locale)},
        "locale": version.locale if version else None,
        "proposal": blind.blind_text(earlier, version) if version else None,
        "reviews": reviews,
        "criteria": criteria,
        "score": (round(sum(m * w for m, w in weighted) / sum(w for _m, w in weighted), 2)
                  if weighted and sum(w for _m, w in weighted) else None),
    }


# --- open results ----------------------------------------------------------------------------------

def stages_reached(results: Iterable) -> dict[int, dict | None]:
    """How far each result's winners went, for results of multi-stage challenges (None for one-stage ones):
    {"position": k, "of": n, "final": bool, "label": "Final award" | "Reached stage k of n"}.
    A fixed number of queries for any number of results (the listing asks for a page at once)."""
    from marketplace.awards.models import Award, AwardRecipient
    from marketplace.proposals.models import Proposal, ProposalMember
    from marketplace.results.models import WinnerConsent

    results = list(results)
    by_challenge = {r.id: r.challenge_id for r in results}
    counts = dict(db.session.execute(
        select(ChallengeStage.challenge_id, func.count()).where(
            ChallengeStage.challenge_id.in_(set(by_challenge.values()) or [-1]))
        .group_by(ChallengeStage.challenge_id)).all())
    multi = {cid for cid, n in counts.items() if n > 1}
    wanted = [r.id for r in results if r.challenge_id in multi]
    if not wanted:
        return {r.id: None for r in results}
    winners: dict[int, set[int]] = {}
    for result_id, user_id in db.session.execute(select(WinnerConsent.result_id, WinnerConsent.user_id)
                                                 .where(WinnerConsent.result_id.in_(wanted))):
        winners.setdefault(result_id, set()).add(user_id)
    final = set(db.session.execute(
        select(Award.challenge_id, AwardRecipient.user_id).join(AwardRecipient, AwardRecipient.award_id == Award.id)
        .where(Award.challenge_id.in_(multi), Award.decision_id.is_not(None), Award.status != "cancelled")).all())
    reached: dict[tuple[int, int], int] = {}
    rows = db.session.execute(
        select(Proposal.challenge_id, ProposalMember.user_id, func.max(ChallengeStage.position))
        .join(ProposalMember, ProposalMember.proposal_id == Proposal.id)
        .join(ChallengeStage, ChallengeStage.id == Proposal.stage_id)
        .where(Proposal.challenge_id.in_(multi), ProposalMember.status == "accepted",
               or_(Proposal.submitted_at.is_not(None), Proposal.advanced_at.is_not(None)))
        .group_by(Proposal.challenge_id, ProposalMember.user_id))
    for challenge_id, user_id, position in rows:
        reached[(challenge_id, user_id)] = position
    answer: dict[int, dict | None] = {r.id: None for r in results}
    for result_id in wanted:
        challenge_id, total = by_challenge[result_id], counts[by_challenge[result_id]]
        users = winners.get(result_id, set())
        if any((challenge_id, u) in final for u in users):
            answer[result_id] = _reached(total, total, final=True)
        else:
            position = max((reached.get((challenge_id, u), 1) for u in users), default=1)
            answer[result_id] = _reached(position, total, final=False)
    return answer


def _reached(position: int, total: int, *, final: bool) -> dict:
    label = _("Final award") if final else _("Reached stage %(k)d of %(n)d", k=position, n=total)
    return {"position": position, "of": total, "final": final, "label": label}
