"""The award decision: the center manager awards one or more proposals with shares, or makes no award.

One transaction writes the AwardDecision, one Award per winning proposal and one AwardRecipient per author, moves
the challenge to `awarded` (or `no_award`), hands each award to the ledger (payments' `allocate_award`: escrow ->
each winner's payable) and schedules the refund of whatever escrow still holds, then mails every author. A refusal
anywhere (a share over the limit, a withdrawn or late proposal, money not in escrow) leaves nothing written.

Amounts are split exactly in the currency's minor units, twice, by the largest-remainder method: the challenge's
award across the winning proposals by their share of the award, then each proposal's amount across its team by the
shares the team agreed. When the challenge has an early-career bonus, each early-career winner's part grows by that
percentage of it (rounded down; escrow holds the largest bonus the challenge could owe).

    decide(challenge, actor, awards=[{"proposal_id", "share_pct"}], reason="", feedback_enabled=True,
           override_reason=None) -> AwardDecision
        (409 while assigned reviews are outstanding, unless a written override_reason is given: stored, audited)
    accepted_solutions(challenge_ids) -> {challenge_id: [{"proposal_id", "title", "share_pct", "award_id"}]}
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from sqlalchemy import func, select

from marketplace.audit.services import record
from marketplace.awards.models import Award, AwardDecision, AwardRecipient
from marketplace.awards.money_split import HUNDRED, split_award
from marketplace.challenges.models import Challenge
from marketplace.challenges.states import move
from marketplace.db import lock_for_update
from marketplace.errors import Conflict, Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.mail.services import queue_mail
from marketplace.money import Money
from marketplace.proposals.models import Proposal
from marketplace.proposals.services import version_for_review
from marketplace.proposals.teams import shares as team_shares

log = logging.getLogger(__name__)
MAX_REASON = 5000
CENT = Decimal("0.01")



def _payments():
    """The payments package's services, if it is installed in this build (it owns the ledger)."""
    try:
        from marketplace.payments import services
    except ImportError:  # pragma: no cover - payments ships with the application
        log.warning("marketplace.payments.services is missing: award decided without ledger allocation")
        return None
    return services


def _early_career():
    try:
        from marketplace.analytics import early_career
    except ImportError:  # pragma: no cover
        return None
    return early_career


def checked_share(value, index: int) -> Decimal | None:
    field = f"awards.{index}.share_pct"
    share = None
    if isinstance(value, float):
        share = Decimal(repr(value))  # JSON numbers arrive as floats; repr gives back exactly what was sent
    elif isinstance(value, int | str | Decimal) and not isinstance(value, bool):
        try:
            share = Decimal(str(value).strip())
        except InvalidOperation:
            share = None
    if share is None or not share.is_finite() or not Decimal(0) < share <= HUNDRED or share != share.quantize(CENT):
        message = _l("A share is a percentage above 0 and at most 100, with at most two decimals.")
        raise ValidationFailed(message, errors={field: [message]})
    return share


def _kind(shares: list[Decimal]) -> str:
    total = sum(shares, Decimal(0))
    if not shares:
        return "none"
    if total < HUNDRED:
        return "partial"
    return "full" if len(shares) == 1 else "split"


def _check_proposal(challenge: Challenge, proposal: Proposal | None, index: int) -> Proposal:
    field = f"awards.{index}.proposal_id"
    if proposal is None or proposal.challenge_id != challenge.id or proposal.stage_decided:
        raise ValidationFailed(_l("Not a proposal of this challenge."), errors={field: [
            _l("Not a proposal of this challenge.")]})
    if proposal.status == "withdrawn":
        raise ValidationFailed(_l("A withdrawn proposal cannot be awarded."), errors={field: [
            _l("This proposal was withdrawn.")]})
    if proposal.status != "submitted" or version_for_review(proposal) is None:
        raise ValidationFailed(_l("Only proposals submitted before the deadline can be awarded."), errors={field: [
            _l("No version of this proposal was submitted before the deadline.")]})
    conflict = proposal.author_conflict()  # staff of the center or a reviewer of the challenge among its authors
    if conflict:
        raise Conflict(conflict, errors={field: [conflict]})
    return proposal


def recipients_for(challenge: Challenge, proposal: Proposal, amount_minor: int) -> list[AwardRecipient]:
    shares = team_shares(proposal)
    if any(pct is None for pct in shares.values()) or sum(shares.values(), Decimal(0)) != HUNDRED:
        raise Conflict(_l("The team of proposal %(id)d has not agreed its award shares.", id=proposal.id))
    user_ids = sorted(shares)
    parts = split_award(amount_minor, [shares[uid] for uid in user_ids])
    bonus = _early_career()
    recipients = []
    for uid, part in zip(user_ids, parts, strict=True):
        extra = challenge.early_career_bonus_minor(part) if bonus and bonus.is_early_career(uid) else 0
        recipients.append(AwardRecipient(user_id=uid, share_pct=Decimal(shares[uid]), amount_minor=part + extra))
    return recipients


def decide(challenge: Challenge, actor, awards: list[dict], *, reason: str = "", feedback_enabled: bool = True,
           override_reason: str | None = None) -> AwardDecision:
    if not challenge.can_manage(actor):
        raise Forbidden(_l("Only center managers of this organization can decide awards."))
    lock_for_update(db.session, challenge)  # two managers deciding at once: the second sees the first
    existing = db.session.scalar(select(AwardDecision).where(AwardDecision.challenge_id == challenge.id))
    if existing is not None or challenge.status in ("awarded", "no_award"):
        raise Conflict(_l("The awards of this challenge were decided already."))
    appeals = challenge.appeal_refusal()  # the one home of the rule (also asked before advancing a stage)
    if appeals:
        raise Conflict(appeals)
    reason = _text(reason, "reason")
    override_reason = _text(override_reason, "override_reason")
    shares, kind = _checked_shares(awards, reason)
    allowed = ("judging",) if awards else ("closed", "judging")
    if challenge.status not in allowed:
        raise Conflict(_l("Awards are decided while judging runs (this challenge is %(state)s).",
                          state=challenge.status))
    ids = [entry.get("proposal_id") for entry in awards]
    proposals = [_check_proposal(challenge, db.session.get(Proposal, pid) if isinstance(pid, int) else None, i)
                 for i, pid in enumerate(ids)]
    outstanding = outstanding_reviews(challenge, proposals)
    if outstanding and not override_reason:
        message = _ln("%(num)d assigned review is outstanding. Wait for it, or give a written reason to decide now.",
                      "%(num)d assigned reviews are outstanding. Wait for them, or give a written reason to decide "
                      "now.", outstanding)
        raise Conflict(message, errors={"override_reason": [message]})

    decision = AwardDecision(challenge_id=challenge.id, decided_by_id=actor.id, kind=kind, reason=reason,
                             feedback_enabled=bool(feedback_enabled),
                             override_reason=override_reason if outstanding else None)
    db.session.add(decision)
    db.session.flush()
    created = _create_awards(challenge, decision, proposals, shares)
    move(challenge, "awarded" if created else "no_award", actor=actor, action="award.decided", kind=kind,
         reason=reason)
    record("award.decision", "challenge", challenge.id, actor=actor, decision=decision.id, kind=kind,
           feedback_enabled=decision.feedback_enabled, outstanding_reviews=outstanding,
           override_reason=decision.override_reason,
           awards=[{"award": a.id, "proposal": a.proposal_id, "share_pct": str(a.share_pct),
                    "amount": Money(a.amount_minor, a.currency).as_dict(),
                    "recipients": {str(r.user_id): r.amount_minor for r in a.recipients}} for a in created])
    _move_money(challenge, created, actor, reason or kind)
    _notify_authors(challenge, {a.proposal_id for a in created})
    return decision


def _text(value: str | None, field: str) -> str:
    value = (value or "").strip()
    if len(value) > MAX_REASON:
        raise ValidationFailed(_l("The reason is too long."), errors={field: [
            _l("Use at most %(n)d characters.", n=MAX_REASON)]})
    return value


def _checked_shares(awards: list[dict], reason: str) -> tuple[list[Decimal], str]:
    shares = [checked_share(entry.get("share_pct"), i) for i, entry in enumerate(awards)]
    ids = [entry.get("proposal_id") for entry in awards]
    if len(set(ids)) != len(ids):
        raise ValidationFailed(_l("Each proposal can be awarded once."), errors={"awards": [
            _l("Each proposal can be awarded once.")]})
    if sum(shares, Decimal(0)) > HUNDRED:
        message = _l("The shares add up to more than 100 percent.")
        raise ValidationFailed(message, errors={"awards": [message]})
    kind = _kind(shares)
    if kind in ("none", "partial") and not reason:
        message = _l("Say why the center makes a partial award or no award.")
        raise ValidationFailed(message, errors={"reason": [message]})
    return shares, kind


def outstanding_reviews(challenge: Challenge, winners: list[Proposal], *, stage_id: int | None = None) -> int:
    """What a decision (or a stage's advance) would skip: assigned reviews of the stage's active proposals not
    submitted yet, plus one for each winning proposal that has no submitted review at all. Zero means the decision
    may go ahead unexplained."""
    from marketplace.reviews.models import Review
    from marketplace.stages.rules import stage_proposals_clause

    rows = db.session.execute(
        select(Review.proposal_id, Review.status).join(Proposal, Proposal.id == Review.proposal_id)
        .where(Review.challenge_id == challenge.id, stage_proposals_clause(challenge, stage_id),
               Review.status != "released", Proposal.status != "withdrawn")
    ).all()
    pending = sum(1 for _pid, status in rows if status != "submitted")
    reviewed = {pid for pid, status in rows if status == "submitted"}
    return pending + sum(1 for proposal in winners if proposal.id not in reviewed)


def _create_awards(challenge: Challenge, decision: AwardDecision, proposals: list[Proposal],
                   shares: list[Decimal]) -> list[Award]:
    amounts = split_award(challenge.final_award_minor, shares)
    created = []
    for proposal, share, amount in zip(proposals, shares, amounts, strict=True):
        recipients = recipients_for(challenge, proposal, amount)
        award = Award(challenge_id=challenge.id, proposal_id=proposal.id, decision_id=decision.id, share_pct=share,
                      amount_minor=sum(r.amount_minor for r in recipients), currency=challenge.award_currency,
                      status="awarded", recipients=recipients)
        db.session.add(award)
        created.append(award)
    db.session.flush()
    return created


def allocate_awards(awards: list[Award], actor) -> None:
    """Each award (final or milestone) moves from escrow to its winners' payables."""
    payments = _payments()
    for award in awards if payments is not None else ():
        payments.allocate_award(award, actor=actor)  # refuses (409) when escrow does not hold the money


def _move_money(challenge: Challenge, awards: list[Award], actor, reason: str) -> None:
    payments = _payments()
    if payments is None:
        return
    allocate_awards(awards, actor)
    # What escrow still holds (no award, a partial award, an unused early-career reserve) goes back to the funder.
    payments.schedule_refunds(challenge, actor, reason=f"award decision: {reason}"[:500])


AWARD_WON, AWARD_NOT_WON = "award_won", "award_not_won"  # in-app notification kinds


def register_notifications() -> None:
    from marketplace.solvers.notifications import localized_title, register_kind

    def won(payload: dict, locale: str) -> str:
        return _("Your proposal won an award in “%(title)s”. Next: accept the IP assignment and give your payee "
                 "details.", title=localized_title(payload, locale))

    def not_won(payload: dict, locale: str) -> str:
        return _("The awards of “%(title)s” were decided; your proposal did not win this time.",
                 title=localized_title(payload, locale))

    link = lambda payload: f"/proposals/{payload['proposal_id']}"  # noqa: E731
    register_kind(AWARD_WON, text=won, link=link)
    register_kind(AWARD_NOT_WON, text=not_won, link=link)


def _notify_authors(challenge: Challenge, awarded: set[int]) -> None:
    """Every author of a submitted proposal is told, in the app and by mail in their language."""
    from marketplace.solvers import notifications
    from marketplace.stages.rules import stage_proposals_clause

    proposals = db.session.scalars(select(Proposal).where(stage_proposals_clause(challenge),
                                                          Proposal.status == "submitted")).all()
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    for proposal in proposals:
        payload = {"challenge_id": challenge.id, "proposal_id": proposal.id, "title": challenge.text_map("title"),
                   "default_locale": challenge.default_locale}
        for member in proposal.members:
            if member.status != "accepted" or member.user is None:
                continue
            notifications.add(member.user.id, AWARD_WON if proposal.id in awarded else AWARD_NOT_WON, payload,
                              mailed=True)
            _locale, title = challenge.localized("title", member.user.locale)
            queue_mail(member.email, "award_decided", locale=member.user.locale, user=member.user,
                       challenge_title=title, proposal_title=proposal.title, awarded=proposal.id in awarded,
                       link=f"{base}/proposals/{proposal.id}")


def decision_json(challenge: Challenge) -> dict | None:
    from marketplace.awards.presenters import pct

    decision = db.session.scalar(select(AwardDecision).where(AwardDecision.challenge_id == challenge.id))
    if decision is None:
        return None
    awards = db.session.scalars(select(Award).where(Award.decision_id == decision.id).order_by(Award.id)).all()
    return {"id": decision.id, "challenge_id": challenge.id, "kind": decision.kind, "reason": decision.reason,
            "override_reason": decision.override_reason,
            "feedback_enabled": decision.feedback_enabled, "decided_at": decision.created_at.isoformat(),
            "awards": [award_json(a) for a in awards], "status": challenge.status,
            "total": Money(sum(a.amount_minor for a in awards), challenge.award_currency).as_dict(),
            "share_total_pct": pct(sum((a.share_pct for a in awards), Decimal(0)))}


def award_json(award: Award) -> dict:
    from marketplace.awards.presenters import pct

    return {"id": award.id, "proposal_id": award.proposal_id, "share_pct": pct(award.share_pct),
            "amount": Money(award.amount_minor, award.currency).as_dict(), "status": award.status,
            "recipients": [{"user_id": r.user_id, "share_pct": pct(r.share_pct),
                            "amount": Money(r.amount_minor, award.currency).as_dict()} for r in award.recipients]}


def accepted_solutions(challenge_ids: list[int]) -> dict[int, list[dict]]:
    """Proposals that won a final award, per challenge, for the program's composition view (one query); milestone
    awards of earlier stages are steps, not accepted solutions. Titles are those of the submitted version."""
    from marketplace.awards.presenters import pct
    from marketplace.proposals.models import ProposalVersion

    if not challenge_ids:
        return {}
    rows = db.session.execute(
        select(Award, func.coalesce(ProposalVersion.title, Proposal.title))
        .join(Proposal, Proposal.id == Award.proposal_id)
        .outerjoin(ProposalVersion, (ProposalVersion.proposal_id == Proposal.id)
                   & (ProposalVersion.number == Proposal.version))
        .where(Award.challenge_id.in_(challenge_ids), Award.status != "cancelled", Award.decision_id.is_not(None))
        .order_by(Award.challenge_id, Award.id)).all()
    found: dict[int, list[dict]] = {}
    for award, title in rows:
        found.setdefault(award.challenge_id, []).append(
            {"proposal_id": award.proposal_id, "title": title, "share_pct": pct(award.share_pct),
             "award_id": award.id})
    return found
