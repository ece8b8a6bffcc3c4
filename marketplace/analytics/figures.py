"""Seeker analytics from SQL aggregates: one scope (a challenge, a program, the platform), a fixed set of
GROUP BY queries, whatever the number of challenges or proposals behind it.

    figures_for(scope) -> dict     scope = Scope.challenge(c) | Scope.program(p) | Scope.platform()

Every query filters by `scope.where(column)` (one challenge, the program's challenges, or all), so the
same code serves the three pages. Money is summed per currency and never converted: the premium paid is
compared with the benchmark of the same challenges, in their own currency.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import case, distinct, func, literal, select

from marketplace.accounts.models import User
from marketplace.analytics.models import ChallengeView
from marketplace.analytics.sqlbits import day_of, month_of, year_of
from marketplace.awards.models import Award, AwardRecipient
from marketplace.challenges.agreement_models import AgreementAcceptance
from marketplace.challenges.models import Challenge
from marketplace.extensions import db
from marketplace.money import Money
from marketplace.payments.models import Payout
from marketplace.proposals.models import Proposal, ProposalMember
from marketplace.reviews.models import Review
from marketplace.solvers.models import ExpertProfile

ONE_DAY = 86_400
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Scope:
    kind: str  # challenge | program | platform
    id: int | None
    bucket: type = day_of  # the time series' granularity

    @classmethod
    def challenge(cls, challenge) -> Scope:
        return cls("challenge", challenge.id, day_of)

    @classmethod
    def program(cls, program) -> Scope:
        return cls("program", program.id, day_of)

    @classmethod
    def platform(cls) -> Scope:
        return cls("platform", None, month_of)

    def where(self, column):
        """A filter on a challenge-id column (always true for the platform)."""
        if self.kind == "challenge":
            return column == self.id
        if self.kind == "program":
            return column.in_(select(Challenge.id).where(Challenge.program_id == self.id))
        return literal(True)


def share(part: int, whole: int) -> Decimal | None:
    """part/whole as a percentage with one decimal, or None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _days(seconds: float | None) -> Decimal | None:
    if seconds is None:
        return None
    return (Decimal(str(seconds)) / ONE_DAY).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _bucket_key(value) -> str:
    """Views are stored per date; other series come back as 'YYYY-MM-DD' / 'YYYY-MM' strings."""
    return value.isoformat() if isinstance(value, date) else str(value)


# --- the queries ---------------------------------------------------------------------------------

def views(scope: Scope) -> dict:
    bucket = ChallengeView.day if scope.bucket is day_of else month_of(ChallengeView.day)
    rows = db.session.execute(select(bucket, func.sum(ChallengeView.views)).where(
        scope.where(ChallengeView.challenge_id)).group_by(bucket).order_by(bucket)).all()
    series = [(_bucket_key(b), int(v)) for b, v in rows]
    return {"total": sum(v for _, v in series), "series": series}


def acceptances(scope: Scope) -> dict:
    """People who accepted a challenge's agreement (any version), on the day they first did."""
    first = (select(AgreementAcceptance.challenge_id, AgreementAcceptance.user_id,
                    func.min(AgreementAcceptance.accepted_at).label("first_at"))
             .where(scope.where(AgreementAcceptance.challenge_id))
             .group_by(AgreementAcceptance.challenge_id, AgreementAcceptance.user_id).subquery())
    bucket = scope.bucket(first.c.first_at)
    rows = db.session.execute(select(bucket, func.count()).select_from(first).group_by(bucket).order_by(bucket)).all()
    series = [(str(b), int(n)) for b, n in rows]
    return {"total": sum(n for _, n in series), "series": series}


def proposals(scope: Scope) -> dict:
    """Proposals by status, and submitted ones over time (by the day they were first submitted).

    Only proposals shared with the staff count (`Proposal.shared_with_staff`): a draft is its authors' alone."""
    bucket = scope.bucket(Proposal.submitted_at)
    rows = db.session.execute(select(Proposal.status, bucket, func.count())
                              .where(scope.where(Proposal.challenge_id), Proposal.shared_with_staff_clause())
                              .group_by(Proposal.status, bucket).order_by(bucket)).all()
    by_status: dict[str, int] = defaultdict(int)
    over_time: dict[str, int] = defaultdict(int)
    for status, when, count in rows:
        by_status[status] += count
        if status == "submitted" and when is not None:
            over_time[str(when)] += count
    series = sorted(over_time.items())
    running, cumulative = 0, []
    for key, count in series:
        running += count
        cumulative.append((key, running))
    return {"by_status": dict(by_status), "submitted": by_status.get("submitted", 0), "series": series,
            "cumulative": cumulative}


def _took_part(scope: Scope):
    """Team members (lead included) of submitted proposals in the scope."""
    return (select(ProposalMember.user_id).join(Proposal, Proposal.id == ProposalMember.proposal_id)
            .where(scope.where(Proposal.challenge_id), Proposal.status == "submitted",
                   ProposalMember.status == "accepted"))


def solvers(scope: Scope) -> dict:
    """Distinct people on submitted proposals, by country, with how many are early-career.

    For one challenge or a program the few people are collected first (DISTINCT); for the platform,
    where most users took part somewhere, each user is probed once through an index (EXISTS).
    """
    early = func.sum(case((ExpertProfile.early_career.is_(True), 1), else_=0))
    if scope.kind == "platform":
        took_part = _took_part(scope).where(ProposalMember.user_id == User.id).exists()
        statement = (select(User.country, func.count(), early).select_from(User)
                     .outerjoin(ExpertProfile, ExpertProfile.user_id == User.id).where(took_part)
                     .group_by(User.country))
    else:
        people = _took_part(scope).where(ProposalMember.user_id.is_not(None)).distinct().subquery()
        statement = (select(User.country, func.count(), early).select_from(people)
                     .join(User, User.id == people.c.user_id)
                     .outerjoin(ExpertProfile, ExpertProfile.user_id == people.c.user_id)
                     .group_by(User.country))
    countries = sorted(({"country": c, "solvers": int(n), "early_career": int(e or 0)}
                        for c, n, e in db.session.execute(statement)),
                       key=lambda row: (-row["solvers"], row["country"]))
    total = sum(row["solvers"] for row in countries)
    early_total = sum(row["early_career"] for row in countries)
    return {"total": total, "countries": countries, "early_career": early_total,
            "early_career_share": share(early_total, total)}


def winners(scope: Scope) -> dict:
    early = case((ExpertProfile.early_career.is_(True), AwardRecipient.user_id))
    total, early_count = db.session.execute(
        select(func.count(distinct(AwardRecipient.user_id)), func.count(distinct(early)))
        .select_from(AwardRecipient).join(Award, Award.id == AwardRecipient.award_id)
        .outerjoin(ExpertProfile, ExpertProfile.user_id == AwardRecipient.user_id)
        .where(scope.where(Award.challenge_id), Award.status != "cancelled")).one()
    return {"total": int(total), "early_career": int(early_count), "early_career_share": share(early_count, total)}


def early_career_by_year(scope: Scope) -> list[dict]:
    """Per year: distinct solvers (by year of submission) and winners (by year of award), and the early-career
    among them."""
    year = year_of(Proposal.submitted_at)
    solver_years = (select(year.label("year"), ProposalMember.user_id.label("user_id"))
                    .join(Proposal, Proposal.id == ProposalMember.proposal_id)
                    .where(scope.where(Proposal.challenge_id), Proposal.status == "submitted",
                           ProposalMember.status == "accepted", ProposalMember.user_id.is_not(None))
                    .distinct().subquery())
    winner_years = (select(year_of(Award.created_at).label("year"), AwardRecipient.user_id.label("user_id"))
                    .join(Award, Award.id == AwardRecipient.award_id)
                    .where(scope.where(Award.challenge_id), Award.status != "cancelled").distinct().subquery())
    rows: dict[str, dict] = {}
    for kind, people in (("solvers", solver_years), ("winners", winner_years)):
        early = func.sum(case((ExpertProfile.early_career.is_(True), 1), else_=0))
        for year_value, count, early_count in db.session.execute(
                select(people.c.year, func.count(), early).select_from(people)
                .outerjoin(ExpertProfile, ExpertProfile.user_id == people.c.user_id)
                .group_by(people.c.year)):
            row = rows.setdefault(str(year_value), {"year": int(year_value), "solvers": 0, "early_career_solvers": 0,
                                                    "winners": 0, "early_career_winners": 0})
            row[kind] = int(count)
            row[f"early_career_{kind}"] = int(early_count or 0)
    result = []
    for row in sorted(rows.values(), key=lambda r: r["year"]):
        row["solvers_share"] = share(row["early_career_solvers"], row["solvers"])
        row["winners_share"] = share(row["early_career_winners"], row["winners"])
        result.append(row)
    return result


def reviews(scope: Scope) -> dict:
    """Reviews assigned and submitted, per reviewer (released assignments do not count)."""
    submitted = func.sum(case((Review.status == "submitted", 1), else_=0))
    rows = db.session.execute(
        select(Review.reviewer_id, User.display_name, func.count(), submitted)
        .join(User, User.id == Review.reviewer_id)
        .where(scope.where(Review.challenge_id), Review.status != "released")
        .group_by(Review.reviewer_id, User.display_name).order_by(User.display_name, Review.reviewer_id)).all()
    by_reviewer = [{"reviewer_id": rid, "name": name, "assigned": int(n), "submitted": int(s or 0)}
                   for rid, name, n, s in rows]
    assigned = sum(r["assigned"] for r in by_reviewer)
    done = sum(r["submitted"] for r in by_reviewer)
    return {"assigned": assigned, "submitted": done, "share": share(done, assigned), "by_reviewer": by_reviewer}


def money(scope: Scope) -> dict:
    """Per currency: benchmark, advertised, awarded and paid totals over the awarded challenges, and the premiums.

    The benchmark is each challenge's quote reference (the going rate its award was computed from, in its
    currency); the premium actually paid compares what was paid out with it.
    """
    awarded = (select(Award.challenge_id, func.sum(Award.amount_minor).label("awarded"),
                      func.min(Award.created_at).label("first_award"))
               .where(scope.where(Award.challenge_id), Award.status != "cancelled")
               .group_by(Award.challenge_id).subquery())
    challenges = db.session.execute(
        select(Challenge.id, Challenge.award_currency, Challenge.award_minor, Challenge.quote, Challenge.premium_pct,
               Challenge.published_at, awarded.c.awarded, awarded.c.first_award)
        .join(awarded, awarded.c.challenge_id == Challenge.id)).all()
    paid_rows = db.session.execute(
        select(Award.challenge_id, Award.created_at, Payout.completed_at, Payout.amount_minor)
        .join(AwardRecipient, AwardRecipient.id == Payout.award_recipient_id)
        .join(Award, Award.id == AwardRecipient.award_id)
        .where(scope.where(Award.challenge_id), Payout.status == "paid")).all()
    paid_by_challenge: dict[int, int] = defaultdict(int)
    payout_delays = []
    for challenge_id, awarded_at, completed_at, amount in paid_rows:
        paid_by_challenge[challenge_id] += amount
        if completed_at is not None:
            payout_delays.append((completed_at - awarded_at).total_seconds())
    per_currency: dict[str, dict] = {}
    award_delays = []
    per_challenge = {}
    for cid, currency, advertised, quote, premium, published_at, awarded_minor, first_award in challenges:
        reference = _reference_minor(quote, currency)
        bucket = per_currency.setdefault(currency, {"currency": currency, "challenges": 0, "benchmark": 0,
                                                    "advertised": 0, "awarded": 0, "paid": 0})
        bucket["challenges"] += 1
        bucket["benchmark"] += reference or 0
        bucket["advertised"] += advertised
        bucket["awarded"] += int(awarded_minor)
        bucket["paid"] += paid_by_challenge.get(cid, 0)
        if published_at and first_award:
            award_delays.append((first_award - published_at).total_seconds())
        per_challenge[cid] = {"currency": currency, "benchmark": reference, "awarded": int(awarded_minor),
                              "paid": paid_by_challenge.get(cid, 0), "premium_advertised_pct": premium}
    currencies = []
    for bucket in sorted(per_currency.values(), key=lambda b: b["currency"]):
        currency = bucket["currency"]
        currencies.append({
            "currency": currency, "challenges": bucket["challenges"],
            **{k: Money(bucket[k], currency) for k in ("benchmark", "advertised", "awarded", "paid")},
            "premium_awarded_pct": premium_over(bucket["awarded"], bucket["benchmark"]),
            "premium_paid_pct": premium_over(bucket["paid"], bucket["benchmark"]) if bucket["paid"] else None,
        })
    return {
        "currencies": currencies,
        "per_challenge": per_challenge,
        "publish_to_award_days": _stats(award_delays),
        "award_to_payout_days": _stats(payout_delays),
    }


def premium_over(amount_minor: int, benchmark_minor: int) -> Decimal | None:
    """How much above the benchmark, in percent with one decimal (negative when below)."""
    if not benchmark_minor:
        return None
    return ((Decimal(amount_minor) / Decimal(benchmark_minor) - 1) * HUNDRED).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP)


def _reference_minor(quote: dict | None, currency: str) -> int | None:
    converted = ((quote or {}).get("reference") or {}).get("converted")
    if not converted or converted.get("currency") != currency:
        return None
    return Money.from_decimal(Decimal(converted["amount"]), currency).minor


def _stats(seconds: list[float]) -> dict:
    if not seconds:
        return {"count": 0, "mean": None, "min": None, "max": None}
    return {"count": len(seconds), "mean": _days(sum(seconds) / len(seconds)), "min": _days(min(seconds)),
            "max": _days(max(seconds))}


# --- breakdowns for programs and the platform ---------------------------------------------------------

def per_challenge(scope: Scope) -> dict[int, dict]:
    """Views, acceptances, submitted proposals and solvers per challenge of the scope (four GROUP BYs)."""
    table: dict[int, dict] = defaultdict(lambda: {"views": 0, "acceptances": 0, "submitted": 0, "solvers": 0})
    queries = {
        "views": select(ChallengeView.challenge_id, func.sum(ChallengeView.views))
        .where(scope.where(ChallengeView.challenge_id)).group_by(ChallengeView.challenge_id),
        "acceptances": select(AgreementAcceptance.challenge_id, func.count(distinct(AgreementAcceptance.user_id)))
        .where(scope.where(AgreementAcceptance.challenge_id)).group_by(AgreementAcceptance.challenge_id),
        "submitted": select(Proposal.challenge_id, func.count())
        .where(scope.where(Proposal.challenge_id), Proposal.status == "submitted").group_by(Proposal.challenge_id),
        "solvers": select(Proposal.challenge_id, func.count(distinct(ProposalMember.user_id)))
        .join(ProposalMember, ProposalMember.proposal_id == Proposal.id)
        .where(scope.where(Proposal.challenge_id), Proposal.status == "submitted",
               ProposalMember.status == "accepted").group_by(Proposal.challenge_id),
    }
    for name, statement in queries.items():
        for challenge_id, value in db.session.execute(statement):
            table[challenge_id][name] = int(value or 0)
    return dict(table)


def figures_for(scope: Scope) -> dict:
    return {
        "scope": {"kind": scope.kind, "id": scope.id},
        "views": views(scope),
        "acceptances": acceptances(scope),
        "proposals": proposals(scope),
        "solvers": solvers(scope),
        "winners": winners(scope),
        "early_career_by_year": early_career_by_year(scope),
        "reviews": reviews(scope),
        "money": money(scope),
    }


def to_json(value):
    """Figures as JSON: Money as the contract's object, Decimals as strings, tuples as [key, value]."""
    if isinstance(value, Money):
        return value.as_dict()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value
