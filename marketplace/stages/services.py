"""Authoring stages and advancing from one stage to the next. Services flush, never commit.

    checked_stages(data, default_locale, currency) -> [stage dict]   (422 on deadlines out of order, ...)
    build_stages(challenge, stages)          stage rows and their criteria; stage 1 becomes current
    advance(challenge, stage, actor, finalists=[ids], awards=[{"proposal_id", "share_pct"}], override_reason=None)
        the stage is decided, its finalists are marked, its milestone pool is split among them (the same IP and
        payout flow as final awards), the next stage opens and every author is told in their language.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from marketplace.audit.services import record
from marketplace.challenges.models import Challenge, Criterion
from marketplace.challenges.states import move
from marketplace.db import lock_for_update, utcnow
from marketplace.errors import Conflict, Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.money import Money, parse_money
from marketplace.stages.models import ChallengeStage
from marketplace.stages.rules import advance_refusal, next_stage, stage_proposals_clause

MAX_STAGES = 5
MAX_NAME = 200
MAX_DESCRIPTION = 5000


def _fail(field: str, message) -> ValidationFailed:
    return ValidationFailed(message, errors={field: [message]})


# --- authoring ---------------------------------------------------------------------------------------------

def checked_stages(stages: list[dict], default_locale: str, currency: str, *, implicit: bool = False) -> list[dict]:
    """Validate the contract's `stages` (ordered, deadlines rising, `advance` on all but the last, a milestone
    `award` only before the last) and return them with aware deadlines and awards as Money. `implicit`: the one
    stage of a challenge created without `stages`, whose errors name the challenge's own fields."""
    from marketplace.challenges.authoring import check_criteria, check_deadline

    if not isinstance(stages, list) or not 1 <= len(stages) <= MAX_STAGES:
        raise _fail("stages", _l("A challenge has from 1 to %(n)d stages.", n=MAX_STAGES))
    checked, previous = [], None
    for index, stage in enumerate(stages):
        last = index == len(stages) - 1
        field = "" if implicit else f"stages.{index}."
        if not isinstance(stage.get("deadline"), datetime):
            raise _fail(f"{field}deadline", _l("Give the deadline with its time zone."))
        try:
            deadline = check_deadline(stage["deadline"])
        except ValidationFailed as error:
            raise _fail(f"{field}deadline", error.detail) from error
        if previous is not None and deadline <= previous:
            raise _fail(f"{field}deadline", _l("Each stage's deadline must come after the one before."))
        previous = deadline
        try:
            check_criteria(stage.get("criteria") or [], default_locale)
        except ValidationFailed as error:
            raise _fail(f"{field}criteria", error.detail) from error
        advance = stage.get("advance")
        if last and advance is not None:
            raise _fail(f"{field}advance", _l("The last stage decides the awards; nobody advances from it."))
        if not last and (isinstance(advance, bool) or not isinstance(advance, int) or advance < 1):
            raise _fail(f"{field}advance", _l("Say how many proposals advance from this stage (at least 1)."))
        award = _milestone_pool(stage.get("award"), currency, f"{field}award", last=last)
        checked.append({"name": _texts(stage.get("name"), MAX_NAME, f"{field}name"),
                        "description": _texts(stage.get("description"), MAX_DESCRIPTION, f"{field}description"),
                        "deadline": deadline, "criteria": stage["criteria"], "advance": advance, "award": award})
    return checked


def _texts(value, limit: int, field: str) -> dict[str, str]:
    texts = {str(k): str(v).strip() for k, v in (value or {}).items() if str(v).strip()}
    if any(len(text) > limit for text in texts.values()):
        raise _fail(field, _l("Use at most %(n)d characters.", n=limit))
    return texts


def _milestone_pool(value, currency: str, field: str, *, last: bool) -> Money | None:
    if value is None:
        return None
    if last:
        raise _fail(field, _l("The last stage's award is the challenge's final award, priced from the "
                              "benchmarks; give milestone awards on the earlier stages only."))
    money = value if isinstance(value, Money) else parse_money(value, field=field)
    if money.currency != currency:
        raise _fail(field, _l("Milestone awards are in the challenge's currency (%(currency)s).", currency=currency))
    if money.minor <= 0:
        raise _fail(field, _l("A milestone award is more than zero."))
    return money


def build_stages(challenge: Challenge, stages: list[dict]) -> None:
    """Write the (checked) stages of a new challenge with their criteria; stage 1 takes proposals first. The
    challenge's award grows by the milestone pools: escrow must hold them as well as the final award."""
    rows = []
    for position, stage in enumerate(stages, start=1):
        row = ChallengeStage(position=position, name=stage["name"], description=stage["description"],
                             deadline=stage["deadline"], advance=stage["advance"],
                             award_minor=stage["award"].minor if stage["award"] else None)
        challenge.stages.append(row)
        rows.append(row)
    db.session.flush()
    for row, stage in zip(rows, stages, strict=True):
        for position, item in enumerate(stage["criteria"]):
            challenge.all_criteria.append(Criterion(stage_id=row.id, position=position, weight=item["weight"],
                                                    name=item["name"]))
    challenge.current_stage_id = rows[0].id
    challenge.deadline = rows[0].deadline
    challenge.award_minor += challenge.milestone_pools_minor
    db.session.flush()


def replace_stages(challenge: Challenge, actor, stages: list[dict]) -> Challenge:
    """Re-plan the stages of a draft (or a cleared challenge, which goes back through clearance): the stage rows
    and their criteria are replaced, the award is priced again with the new milestone pools."""
    from marketplace.challenges.authoring import price
    from marketplace.challenges.services import screen_for_clearance
    from marketplace.challenges.states import require_state

    if not challenge.can_manage(actor):
        raise Forbidden(_l("Only center managers of this organization can edit its challenges."))
    require_state(challenge, "draft", "cleared")
    checked = checked_stages(stages, challenge.default_locale, challenge.award_currency)
    challenge.current_stage_id = None
    challenge.all_criteria.clear()
    db.session.flush()
    challenge.stages.clear()
    db.session.flush()
    price(challenge)  # the final award alone; build_stages adds the new milestone pools
    build_stages(challenge, checked)
    challenge.note_text_change(actor)
    record("challenge.stages_planned", "challenge", challenge.id, actor=actor, stages=len(checked),
           milestone_pools=challenge.milestone_pools_minor, award=challenge.award.as_dict())
    if challenge.status == "cleared":
        warnings = screen_for_clearance(challenge, actor)
        move(challenge, "in_clearance", actor=actor, action="challenge.clearance_revoked_by_edit",
             marker_warnings=warnings)
    return challenge


# --- advancing -------------------------------------------------------------------------------------------------

def advance(challenge: Challenge, stage: ChallengeStage, actor, *, finalists: list, awards: list | None = None,
            override_reason: str | None = None) -> dict:
    from marketplace.awards.decisions import outstanding_reviews

    if not challenge.can_manage(actor):
        raise Forbidden(_l("Only center managers of this organization can advance its stages."))
    lock_for_update(db.session, challenge)  # two managers at once: the second sees the first
    following = _check_advanceable(challenge, stage)
    chosen = _checked_finalists(challenge, stage, finalists)
    shares = _checked_split(stage, chosen, awards or [])
    outstanding = outstanding_reviews(challenge, chosen, stage_id=stage.id)
    if outstanding and not (override_reason or "").strip():
        message = _l("Some assigned reviews are outstanding. Wait for them, or give a written reason to advance "
                     "now.")
        raise Conflict(message, errors={"override_reason": [message]})
    now = utcnow()
    db.session.execute(update(_proposal_table()).where(_proposal_table().c.id.in_([p.id for p in chosen]))
                       .values(advanced_at=now))
    milestone_awards = _milestone_awards(challenge, stage, chosen, shares, actor)
    stage.decided_at, stage.decided_by_id = now, actor.id
    _open(challenge, following, actor)
    record("stage.advanced", "challenge", challenge.id, actor=actor, stage=stage.id, next_stage=following.id,
           finalists=[p.id for p in chosen], override_reason=(override_reason or "").strip() or None,
           outstanding_reviews=outstanding,
           awards=[{"award": a.id, "proposal": a.proposal_id, "amount": a.amount_minor} for a in milestone_awards])
    _notify(challenge, stage, following, {p.id for p in chosen})
    return {"stage": stage, "next_stage": following, "finalists": chosen, "awards": milestone_awards}


def _proposal_table():
    from marketplace.proposals.models import Proposal

    return Proposal.__table__


def _check_advanceable(challenge: Challenge, stage: ChallengeStage) -> ChallengeStage:
    refusal = advance_refusal(challenge, stage)
    if refusal:
        raise Conflict(refusal)
    following = next_stage(challenge, stage)
    appeals = challenge.appeal_refusal()  # the same rule as the award decision
    if appeals:
        raise Conflict(appeals)
    if following.deadline <= utcnow():
        raise Conflict(_l("The next stage's deadline has passed; amend it before advancing."))
    return following


def _checked_finalists(challenge: Challenge, stage: ChallengeStage, finalists) -> list:
    from marketplace.proposals.models import Proposal
    from marketplace.proposals.services import version_for_review

    if not isinstance(finalists, list) or not finalists:
        raise _fail("finalists", _l("Choose at least one finalist."))
    if any(isinstance(pid, bool) or not isinstance(pid, int) for pid in finalists) or len(set(finalists)) != len(
            finalists):
        raise _fail("finalists", _l("List each finalist's proposal once, by its number."))
    if len(finalists) > stage.advance:
        raise _fail("finalists", _l("At most %(n)d proposals advance from this stage.", n=stage.advance))
    rows = {p.id: p for p in db.session.scalars(select(Proposal).where(
        stage_proposals_clause(challenge, stage.id), Proposal.id.in_(finalists)))}
    chosen = []
    for index, pid in enumerate(finalists):
        proposal = rows.get(pid)
        field = f"finalists.{index}"
        if proposal is None:
            raise _fail(field, _l("Proposal %(id)d is not a proposal of this stage.", id=pid))
        if proposal.status != "submitted" or version_for_review(proposal) is None:
            raise _fail(field, _l("Proposal %(id)d was not submitted before the stage's deadline.", id=pid))
        conflict = proposal.author_conflict()
        if conflict:
            raise Conflict(conflict, errors={field: [conflict]})
        chosen.append(proposal)
    return chosen


def _checked_split(stage: ChallengeStage, chosen: list, awards: list) -> dict[int, Decimal]:
    """{proposal_id: share_pct}: empty, or an exact split of the stage's milestone pool among finalists."""
    from marketplace.awards.decisions import checked_share

    if not awards:
        return {}
    if not stage.award_minor:
        raise _fail("awards", _l("This stage has no milestone award to split."))
    if not isinstance(awards, list):
        raise _fail("awards", _l("List the milestone awards as proposal and share."))
    finalist_ids = {p.id for p in chosen}
    shares: dict[int, Decimal] = {}
    for index, entry in enumerate(awards):
        pid = entry.get("proposal_id") if isinstance(entry, dict) else None
        if pid not in finalist_ids or pid in shares:
            raise _fail(f"awards.{index}.proposal_id", _l("Milestone awards go to finalists, once each."))
        shares[pid] = checked_share(entry.get("share_pct"), index)
    total = sum(shares.values(), Decimal(0))
    if total != Decimal(100):
        raise _fail("awards", _l("The shares of the milestone award add up to %(total)s percent; they must add up "
                                 "to 100.", total=format(total.normalize(), "f")))
    return shares


def _milestone_awards(challenge: Challenge, stage: ChallengeStage, chosen: list, shares: dict, actor) -> list:
    from marketplace.awards.decisions import allocate_awards, recipients_for
    from marketplace.awards.models import Award
    from marketplace.awards.money_split import split_award

    if not shares:
        return []
    order = [p for p in chosen if p.id in shares]
    amounts = split_award(stage.award_minor, [shares[p.id] for p in order])
    created = []
    for proposal, amount in zip(order, amounts, strict=True):
        recipients = recipients_for(challenge, proposal, amount)
        award = Award(challenge_id=challenge.id, proposal_id=proposal.id, stage_id=stage.id,
                      share_pct=shares[proposal.id], amount_minor=sum(r.amount_minor for r in recipients),
                      currency=challenge.award_currency, status="awarded", recipients=recipients)
        db.session.add(award)
        created.append(award)
    db.session.flush()
    allocate_awards(created, actor)
    return created


def _open(challenge: Challenge, following: ChallengeStage, actor) -> None:
    from marketplace.challenges import indexing
    from marketplace.reviews.models import ScoreRelease

    # The released provisional scores belong to the stage just decided; the next stage releases its own.
    db.session.execute(ScoreRelease.__table__.delete().where(ScoreRelease.challenge_id == challenge.id))
    challenge.current_stage_id = following.id
    challenge.deadline = following.deadline
    challenge.closed_at = None
    move(challenge, "open", actor=actor, action="stage.opened", stage=following.id, position=following.position)
    indexing.schedule(challenge.id)


STAGE_ADVANCED, STAGE_NOT_ADVANCED = "stage_advanced", "stage_not_advanced"  # in-app notification kinds


def _notify(challenge: Challenge, stage: ChallengeStage, following: ChallengeStage, advanced: set[int]) -> None:
    """Finalists are invited to the next stage (its deadline, what is expected); everyone else is told they did
    not advance and where their feedback is. In the app and by mail, each in their own language; written in
    bulk, since a first stage may have thousands of proposals."""
    from marketplace.accounts.models import User
    from marketplace.bulk import insert_rows
    from marketplace.i18n import normalise_locale
    from marketplace.mail.services import queue_mails
    from marketplace.proposals.models import Proposal, ProposalMember
    from marketplace.reminders.services import local_time
    from marketplace.solvers.models import Notification

    base = current_app.config["PUBLIC_URL"].rstrip("/")
    rows = db.session.execute(
        select(Proposal.id, Proposal.title, User.id.label("user_id"), User.email, User.display_name, User.locale,
               User.timezone)
        .join(ProposalMember, ProposalMember.proposal_id == Proposal.id).join(User, User.id == ProposalMember.user_id)
        .where(stage_proposals_clause(challenge, stage.id), Proposal.status == "submitted",
               ProposalMember.status == "accepted", User.active.is_(True))).all()
    facts = {"challenge_id": challenge.id, "title": challenge.text_map("title"),
             "default_locale": challenge.default_locale, "stage": following.position,
             "deadline": following.deadline.isoformat()}
    now = utcnow()
    notes, mails = [], {STAGE_ADVANCED: [], STAGE_NOT_ADVANCED: []}
    for row in rows:
        kind = STAGE_ADVANCED if row.id in advanced else STAGE_NOT_ADVANCED
        notes.append({"user_id": row.user_id, "kind": kind, "payload": {**facts, "proposal_id": row.id},
                      "mailed": True, "created_at": now})
        locale = normalise_locale(row.locale) or "en"
        _shown, title = challenge.localized("title", locale)
        mails[kind].append((row.email, locale, {
            "name": row.display_name, "challenge_title": title, "proposal_title": row.title,
            "stage_name": following.display_name(locale, challenge.default_locale),
            "expectations": following.description.get(locale) or following.description.get(
                challenge.default_locale, ""),
            "deadline": local_time(following.deadline, row.timezone, locale), "link": f"{base}/proposals/{row.id}"}))
    insert_rows(Notification.__table__, notes)
    for kind, batch in mails.items():
        queue_mails(kind, batch)


def register_notifications() -> None:
    from marketplace.solvers.notifications import localized_title, register_kind

    def went_on(payload: dict, locale: str) -> str:
        return _("Your proposal advanced to stage %(n)d of “%(title)s”. Start from it before the stage's deadline.",
                 n=payload.get("stage", 2), title=localized_title(payload, locale))

    def stopped(payload: dict, locale: str) -> str:
        return _("Stage %(n)d of “%(title)s” was decided; your proposal did not advance. Your feedback is ready.",
                 n=max(1, payload.get("stage", 2) - 1), title=localized_title(payload, locale))

    link = lambda payload: f"/proposals/{payload['proposal_id']}"  # noqa: E731
    register_kind(STAGE_ADVANCED, text=went_on, link=link)
    register_kind(STAGE_NOT_ADVANCED, text=stopped, link=link)
