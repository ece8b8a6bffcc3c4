"""Figures per stage of a challenge: how many proposals each stage had, how many went on, and the milestone money.

`stage_figures(challenge)` is the one home of these numbers; the analytics page, the manager's pages and the API
(GET /api/v1/challenges/{id}/stages/analytics) all show what it returns.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.money import Money


def stage_figures(challenge) -> list[dict]:
    """One row per stage, in order: proposals (submitted), advanced (decided stages only), advance_rate (percent,
    one decimal; None until decided), milestone_pool, milestone_awarded and milestone_paid (Money; the last stage
    has no milestone, its award is the final one)."""
    proposals = _submitted_per_stage(challenge)
    advanced = _advanced_per_stage(challenge)
    awarded, paid = _milestone_money_per_stage(challenge)
    currency = challenge.award_currency
    rows = []
    for stage in challenge.stages:
        count = proposals.get(stage.id, 0)
        went_on = advanced.get(stage.id, 0) if stage.decided_at else None
        rows.append({
            "stage": stage, "position": stage.position, "status": challenge.stage_status(stage),
            "proposals": count, "advanced": went_on, "advance_rate": _rate(went_on, count),
            "milestone_pool": Money(stage.award_minor, currency) if stage.award_minor else None,
            "milestone_awarded": Money(awarded.get(stage.id, 0), currency),
            "milestone_paid": Money(paid.get(stage.id, 0), currency),
        })
    return rows


def _rate(part: int | None, whole: int) -> Decimal | None:
    if part is None or not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _submitted_per_stage(challenge) -> dict[int, int]:
    from marketplace.proposals.models import Proposal

    rows = db.session.execute(select(Proposal.stage_id, func.count()).where(
        Proposal.challenge_id == challenge.id, Proposal.status == "submitted").group_by(Proposal.stage_id))
    return dict(rows.all())


def _advanced_per_stage(challenge) -> dict[int, int]:
    from marketplace.stages.presenters import finalist_counts

    return finalist_counts(challenge)


def _milestone_money_per_stage(challenge) -> tuple[dict[int, int], dict[int, int]]:
    """({stage_id: minor units awarded}, {stage_id: minor units paid out}) of the milestone awards (an award with a
    stage and no decision); cancelled awards count for neither."""
    from marketplace.awards.models import Award, AwardRecipient
    from marketplace.payments.models import Payout

    milestone = (Award.challenge_id == challenge.id) & Award.stage_id.is_not(None) & Award.decision_id.is_(None) & (
        Award.status != "cancelled")
    awarded = dict(db.session.execute(select(Award.stage_id, func.sum(Award.amount_minor)).where(milestone)
                                      .group_by(Award.stage_id)).all())
    paid: dict[int, int] = defaultdict(int)
    for stage_id, amount in db.session.execute(
            select(Award.stage_id, Payout.amount_minor)
            .join(AwardRecipient, AwardRecipient.award_id == Award.id)
            .join(Payout, Payout.award_recipient_id == AwardRecipient.id)
            .where(milestone, Payout.status == "paid")):
        paid[stage_id] += int(amount)
    return {k: int(v or 0) for k, v in awarded.items()}, dict(paid)


def stage_figures_json(challenge, locale: str | None) -> dict:
    """What the API returns: the figures with the stage names in the reader's language and exact strings."""
    return {"challenge_id": challenge.id, "currency": challenge.award_currency, "items": [
        {"stage_id": row["stage"].id, "position": row["position"],
         "name": row["stage"].display_name(locale, challenge.default_locale), "status": row["status"],
         "proposals": row["proposals"], "advanced": row["advanced"],
         "advance_rate": format(row["advance_rate"], "f") if row["advance_rate"] is not None else None,
         "milestone_pool": row["milestone_pool"].as_dict() if row["milestone_pool"] else None,
         "milestone_awarded": row["milestone_awarded"].as_dict(), "milestone_paid": row["milestone_paid"].as_dict()}
        for row in stage_figures(challenge)]}


def chart_rows(challenge, figures: list[dict], locale: str | None) -> list[tuple[str, int, str]]:
    """The proposals per stage as bar-chart rows (label, value, text shown): the funnel of the down-selection."""
    from flask_babel import gettext as _
    from flask_babel import ngettext

    from marketplace.analytics.charts import number, percent

    rows = []
    for row in figures:
        shown = ngettext("%(num)d proposal", "%(num)d proposals", row["proposals"])
        if row["advanced"] is not None:
            shown = _("%(proposals)s, %(advanced)s advanced (%(rate)s)", proposals=shown,
                      advanced=number(row["advanced"]), rate=percent(row["advance_rate"]))
        rows.append((row["stage"].display_name(locale, challenge.default_locale), row["proposals"], shown))
    return rows
