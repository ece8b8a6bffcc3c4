"""What finance sees: balances per challenge and per solver, awards by age, the chart (the journal: `journal`).

A finance officer sees the movements of their organizations' challenges; an admin sees all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.awards.models import Award
from marketplace.challenges.models import Challenge
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.money import Money
from marketplace.payments import ledger
from marketplace.permissions import Role

CHART_WIDTH = 400  # pixels for the longest bar


def visible_challenge_ids(user) -> list[int]:
    if not (user and user.is_authenticated):
        return []
    statement = select(Challenge.id)
    if not user.is_admin:
        statement = statement.where(Challenge.organization_id.in_(user.organization_ids(Role.FINANCE_OFFICER) or [-1]))
    return list(db.session.scalars(statement.order_by(Challenge.id)))


def challenge_rows(challenge_ids: list[int]) -> list[dict]:
    figures = ledger.challenge_figures(challenge_ids)
    rows = []
    for challenge in db.session.scalars(select(Challenge).where(Challenge.id.in_(challenge_ids or [-1]))
                                        .order_by(Challenge.id)):
        numbers = figures[challenge.id]
        if not any(numbers.values()):
            continue
        rows.append({"challenge": challenge, "currency": challenge.award_currency,
                     **{name: Money(value, challenge.award_currency) for name, value in numbers.items()}})
    return rows


def solver_rows(challenge_ids: list[int]) -> list[dict]:
    figures = ledger.solver_figures(challenge_ids)
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({k[0] for k in figures} or {-1})))}
    ordered = sorted(figures.items(), key=lambda item: (users[item[0][0]].display_name, item[0][1]))
    return [{"user": users[user_id], "currency": currency,
             **{name: Money(value, currency) for name, value in numbers.items()}}
            for (user_id, currency), numbers in ordered]


# --- awards by age -----------------------------------------------------------------------


@dataclass(frozen=True)
class AwardAge:
    award: Award
    challenge: object
    age_days: int
    overdue: bool
    days_left: int


def awards_by_age(challenge_ids: list[int], now: datetime | None = None) -> list[AwardAge]:
    """Unpaid awards first, oldest first; paid ones after them with the days they took."""
    target = int(current_app.config.get("PAYOUT_TARGET_DAYS") or 30)
    now = now or utcnow()
    awards = db.session.scalars(select(Award).where(Award.challenge_id.in_(challenge_ids or [-1]),
                                                    Award.status != "cancelled")).all()
    challenges = {c.id: c for c in db.session.scalars(
        select(Challenge).where(Challenge.id.in_({a.challenge_id for a in awards} or {-1})))}
    rows = []
    for award in awards:
        age = ((award.paid_at or now) - award.created_at).days
        unpaid = award.status != "paid"
        rows.append(AwardAge(award, challenges[award.challenge_id], age, unpaid and age > target, target - age))
    return sorted(rows, key=lambda r: (r.award.status == "paid", -r.age_days, r.award.id))


# --- the chart ---------------------------------------------------------------------------


def chart_series(rows: list[dict]) -> dict[str, list[dict]]:
    """Per currency: each challenge's escrow held and amount paid, with bar widths in whole pixels."""
    by_currency: dict[str, list[dict]] = {}
    for row in rows:
        by_currency.setdefault(row["currency"], []).append(row)
    charts = {}
    for currency, items in by_currency.items():
        largest = max(max(r["escrow"].minor, r["paid"].minor) for r in items) or 1
        charts[currency] = [{"challenge": r["challenge"], "escrow": r["escrow"], "paid": r["paid"],
                             "escrow_px": r["escrow"].minor * CHART_WIDTH // largest,
                             "paid_px": r["paid"].minor * CHART_WIDTH // largest} for r in items]
    return charts
