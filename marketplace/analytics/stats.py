"""Public platform statistics: challenges posted, awards paid, countries of solvers, open results.

Only aggregates of public facts: no figure here identifies a solver or an unpublished challenge.
"""

from __future__ import annotations

from sqlalchemy import distinct, func, select

from marketplace.analytics.figures import Scope, share, solvers, winners
from marketplace.analytics.sqlbits import month_of
from marketplace.awards.models import Award
from marketplace.challenges.models import PUBLIC_STATES, Challenge
from marketplace.extensions import db
from marketplace.money import Money
from marketplace.payments.models import Payout


def public_stats() -> dict:
    posted = (Challenge.published_at.is_not(None) & Challenge.status.in_(PUBLIC_STATES)
              & Challenge.invite_only.is_(False))
    month = month_of(Challenge.published_at)
    per_month = db.session.execute(select(month, func.count()).where(posted).group_by(month).order_by(month)).all()
    organizations = db.session.scalar(select(func.count(distinct(Challenge.organization_id))).where(posted)) or 0
    paid_awards = db.session.scalar(select(func.count()).select_from(Award).where(Award.status == "paid")) or 0
    paid_money = db.session.execute(select(Payout.currency, func.sum(Payout.amount_minor)).where(
        Payout.status == "paid").group_by(Payout.currency).order_by(Payout.currency)).all()
    from marketplace.results.models import ResultRecord

    open_results = db.session.scalar(select(func.count()).select_from(ResultRecord).where(
        ResultRecord.status == "published")) or 0
    platform = Scope.platform()
    people = solvers(platform)
    won = winners(platform)
    return {
        "challenges_posted": sum(n for _, n in per_month),
        "challenges_per_month": [(str(m), int(n)) for m, n in per_month],
        "organizations": int(organizations),
        "awards_paid": int(paid_awards),
        "paid": [Money(int(amount), currency) for currency, amount in paid_money],
        "solvers": people["total"],
        "countries": len(people["countries"]),
        "solvers_by_country": people["countries"],
        "early_career_share": people["early_career_share"],
        "winners": won["total"],
        "early_career_winners_share": share(won["early_career"], won["total"]),
        "open_results": int(open_results),
    }
