"""Who belongs to which stage: the one home of "finalist" and of "this stage's proposals"."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.extensions import db


def previous_stage(challenge, stage):
    return challenge.stage_at(stage.position - 1)


def next_stage(challenge, stage):
    return challenge.stage_at(stage.position + 1)


ADVANCEABLE_STATES = ("closed", "judging")  # the stage's proposals are in; its judging may run


def advance_refusal(challenge, stage):
    """Why `stage` cannot advance now by its place in the challenge, or None: it must be the current, undecided,
    not-last stage of a closed (or judging) challenge. The one home: the advance service refuses with it (and then
    checks appeals and the next deadline), the pages offer the advance by it."""
    from flask_babel import lazy_gettext as _l

    if stage.challenge_id != challenge.id:
        return _l("This stage is not a stage of this challenge.")
    if stage.id != challenge.current_stage_id or stage.decided_at is not None:
        return _l("Only the current stage can advance, once.")
    if next_stage(challenge, stage) is None:
        return _l("The last stage ends with the award decision, not with an advance.")
    if challenge.status not in ADVANCEABLE_STATES:
        return _l("A stage advances once it is closed and judged.")
    return None


def finalist_proposals_clause(stage_id: int):
    """The proposals of a stage chosen to go on (the finalists), as a SQL condition."""
    from marketplace.proposals.models import Proposal

    return (Proposal.stage_id == stage_id) & Proposal.advanced_at.is_not(None)


def finalist_user_ids(challenge, stage) -> set[int]:
    """Everyone who may take part in `stage`: the authors (lead and accepted co-authors) of the proposals that
    advanced from the stage before it. Empty for stage 1 (everyone eligible may take part there)."""
    from marketplace.proposals.models import Proposal, ProposalMember

    before = previous_stage(challenge, stage)
    if before is None:
        return set()
    rows = db.session.execute(
        select(ProposalMember.user_id).join(Proposal, Proposal.id == ProposalMember.proposal_id)
        .where(finalist_proposals_clause(before.id), ProposalMember.status == "accepted",
               ProposalMember.user_id.is_not(None))).scalars()
    return set(rows)


def stage_proposals_clause(challenge, stage_id: int | None = None):
    """The proposals of one stage of `challenge` (default: the current one), as a SQL condition: what
    assignment, ranking, decisions and the staff lists work on."""
    from marketplace.proposals.models import Proposal

    return (Proposal.challenge_id == challenge.id) & (Proposal.stage_id == (stage_id or challenge.current_stage_id))


def stage_of(challenge, stage_id: int | None):
    """The stage `stage_id` of `challenge` (default: the current one), or None when it is not one of its stages."""
    wanted = stage_id or challenge.current_stage_id
    return next((s for s in challenge.stages if s.id == wanted), None)


def may_enter_clause(user_id, challenge_id):
    """`Challenge.stage_refusal` as SQL over (user, challenge) columns, for queries over many people (reminders):
    the challenge's current stage is its first, or the user is an accepted author of a proposal that advanced
    from the stage before it."""
    from sqlalchemy import exists, or_
    from sqlalchemy.orm import aliased

    from marketplace.challenges.models import Challenge
    from marketplace.proposals.models import Proposal, ProposalMember
    from marketplace.stages.models import ChallengeStage

    current, before = aliased(ChallengeStage), aliased(ChallengeStage)
    first = exists().where(Challenge.id == challenge_id, current.id == Challenge.current_stage_id,
                           current.position == 1)
    finalist = exists().where(
        Challenge.id == challenge_id, current.id == Challenge.current_stage_id, before.challenge_id == challenge_id,
        before.position == current.position - 1, Proposal.stage_id == before.id, Proposal.advanced_at.is_not(None),
        ProposalMember.proposal_id == Proposal.id, ProposalMember.status == "accepted",
        ProposalMember.user_id == user_id)
    return or_(first, finalist)
