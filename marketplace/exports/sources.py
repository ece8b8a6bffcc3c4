"""What each export contains: a header and a row iterator (streamed from the database), plus a row count.

    proposals(challenge) / ranking(challenge) / payouts(challenge) -> Table
    figures(figures_dict) -> list[Table]     analytics figures, one table per section

Proposal rows are read with `yield_per`, so 100,000 proposals never sit in memory at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.awards.models import Award, AwardRecipient
from marketplace.extensions import db
from marketplace.money import Money
from marketplace.payments.models import Payout
from marketplace.proposals.models import Proposal, ProposalMember, ProposalVersion
from marketplace.solvers.models import ExpertProfile

STREAM_BATCH = 2000
# Rows are produced while a response streams, after the request's session was closed: build every
# statement up front from plain ids, never touch ORM objects loaded before.


@dataclass
class Table:
    name: str  # file name part and sheet title
    header: Sequence[str]
    rows: Callable[[], Iterable[Sequence]]  # called once, when the export is written
    count: Callable[[], int]


def proposals(challenge) -> Table:
    """The proposals the challenge's staff may see (`Proposal.shared_with_staff`: drafts are their authors' alone).

    The lead's early-career flag is left empty when the lead made it private (`profiles.may_see_private`)."""
    # Per row, through the (proposal_id, status, user_id) index: never an aggregate over every team.
    team_size = (select(func.count()).where(ProposalMember.proposal_id == Proposal.id,
                                            ProposalMember.status == "accepted").scalar_subquery())
    # The title of the last submitted version: staff never see a working copy that was not submitted.
    submitted_title = func.coalesce(ProposalVersion.title, Proposal.title)
    statement = (
        select(Proposal.id, Proposal.status, Proposal.version, submitted_title, Proposal.locale, User.display_name,
               User.email, User.country, ExpertProfile.early_career, ExpertProfile.visibility, team_size,
               Proposal.created_at, Proposal.submitted_at, Proposal.withdrawn_at)
        .join(User, User.id == Proposal.lead_id)
        .outerjoin(ProposalVersion, (ProposalVersion.proposal_id == Proposal.id)
                   & (ProposalVersion.number == Proposal.version))
        .outerjoin(ExpertProfile, ExpertProfile.user_id == Proposal.lead_id)
        .where(*_shared_proposals(challenge)).order_by(Proposal.id))

    def rows() -> Iterator[Sequence]:
        for row in db.session.execute(statement.execution_options(yield_per=STREAM_BATCH)):
            (pid, status, version, title, locale, name, email, country, early, visibility, members, created,
             submitted, withdrawn) = row
            early = bool(early) if ExpertProfile.field_is_public(visibility, "early_career") else None
            yield (pid, status, version, title, locale, name, email, country, early, members or 1, created,
                   submitted, withdrawn)

    return Table(
        name=f"challenge-{challenge.id}-proposals",
        header=("proposal_id", "status", "version", "title", "locale", "lead_name", "lead_email", "lead_country",
                "lead_early_career", "team_size", "created_at", "submitted_at", "withdrawn_at"),
        rows=rows,
        count=lambda: db.session.scalar(select(func.count()).where(*_shared_proposals(challenge))) or 0,
    )


def _shared_proposals(challenge) -> tuple:
    return Proposal.challenge_id == challenge.id, Proposal.shared_with_staff_clause()


def ranking(challenge) -> Table:
    """The ranking the staff page shows (raw and calibrated scores with their intervals)."""
    from marketplace.reviews.ranking.service import challenge_ranking

    planned = db.session.scalar(select(func.count()).select_from(Award).where(
        Award.challenge_id == challenge.id, Award.status != "cancelled")) or 1
    shares = dict(db.session.execute(select(Award.proposal_id, Award.share_pct).where(
        Award.challenge_id == challenge.id, Award.status != "cancelled")).all())
    # Computed now, inside the request: the ranking is small (one row per reviewed proposal) and needs the
    # request's session, user and locale, which are gone once the response streams.
    ranked = challenge_ranking(challenge, awards=planned)["items"]

    def rows() -> Iterator[Sequence]:
        for item in ranked:
            low, high = item["interval"]
            yield (item["rank"], item["proposal_id"], item.get("title", ""), item["raw_score"],
                   item["calibrated_score"], low, high, item["expected_rank"], item["reviewers"], item["spread"],
                   item["disagreement"], item["grey_zone"], " ".join(item["flags"]), shares.get(item["proposal_id"]))

    return Table(
        name=f"challenge-{challenge.id}-ranking",
        header=("rank", "proposal_id", "title", "raw_score", "calibrated_score", "interval_low", "interval_high",
                "expected_rank", "reviews", "spread", "disagreement", "grey_zone", "flags", "award_share_pct"),
        rows=rows, count=lambda: len(ranked))


def payouts(challenge) -> Table:
    statement = (
        select(Award.id, Award.proposal_id, Award.share_pct, Award.status, User.display_name, User.email, User.country,
               AwardRecipient.share_pct, AwardRecipient.amount_minor, Award.currency, AwardRecipient.payout_status,
               AwardRecipient.ip_accepted_at, Payout.provider, Payout.status, Payout.reference, Payout.external_id,
               Payout.completed_at, Award.created_at)
        .join(AwardRecipient, AwardRecipient.award_id == Award.id)
        .join(User, User.id == AwardRecipient.user_id)
        .outerjoin(Payout, Payout.award_recipient_id == AwardRecipient.id)
        .where(Award.challenge_id == challenge.id).order_by(Award.id, AwardRecipient.id))

    def rows() -> Iterator[Sequence]:
        for (award_id, proposal_id, award_share, award_status, name, email, country, share, amount, currency,
             recipient_status, ip_at, provider, payout_status, reference, external_id, completed,
             awarded_at) in db.session.execute(statement):
            yield (award_id, proposal_id, award_share, award_status, name, email, country, share,
                   Money(amount, currency).as_dict()["amount"], currency, recipient_status, ip_at, provider,
                   payout_status, reference or external_id, awarded_at, completed)

    return Table(
        name=f"challenge-{challenge.id}-payouts",
        header=("award_id", "proposal_id", "award_share_pct", "award_status", "recipient_name", "recipient_email",
                "recipient_country", "recipient_share_pct", "amount", "currency", "recipient_payout_status",
                "ip_assigned_at", "provider", "payout_status", "payout_reference", "awarded_at", "paid_at"),
        rows=rows,
        count=lambda: db.session.scalar(select(func.count()).select_from(AwardRecipient).join(
            Award, Award.id == AwardRecipient.award_id).where(Award.challenge_id == challenge.id)) or 0)


def figures(name: str, data: dict) -> list[Table]:
    """Analytics figures as tables: a summary, then each time series and breakdown."""
    from marketplace.analytics.figures import to_json

    money = data["money"]
    summary = [
        ("views", data["views"]["total"]),
        ("agreement_acceptances", data["acceptances"]["total"]),
        *((f"proposals_{status}", n) for status, n in sorted(data["proposals"]["by_status"].items())),
        ("solvers", data["solvers"]["total"]),
        ("countries", len(data["solvers"]["countries"])),
        ("early_career_solvers", data["solvers"]["early_career"]),
        ("early_career_solvers_pct", data["solvers"]["early_career_share"]),
        ("winners", data["winners"]["total"]),
        ("early_career_winners", data["winners"]["early_career"]),
        ("early_career_winners_pct", data["winners"]["early_career_share"]),
        ("reviews_assigned", data["reviews"]["assigned"]),
        ("reviews_submitted", data["reviews"]["submitted"]),
        ("publish_to_award_days_mean", money["publish_to_award_days"]["mean"]),
        ("award_to_payout_days_mean", money["award_to_payout_days"]["mean"]),
        ("award_to_payout_days_max", money["award_to_payout_days"]["max"]),
    ]
    money_rows = [(c["currency"], c["challenges"], to_json(c["benchmark"])["amount"],
                   to_json(c["advertised"])["amount"], to_json(c["awarded"])["amount"], to_json(c["paid"])["amount"],
                   c["premium_awarded_pct"], c["premium_paid_pct"]) for c in money["currencies"]]
    tables = [
        ("summary", ("figure", "value"), summary),
        ("views", ("date", "views"), data["views"]["series"]),
        ("acceptances", ("date", "acceptances"), data["acceptances"]["series"]),
        ("proposals", ("date", "submitted", "cumulative"),
         [(d, n, c) for (d, n), (_d, c) in zip(data["proposals"]["series"], data["proposals"]["cumulative"],
                                               strict=True)]),
        ("countries", ("country", "solvers", "early_career"),
         [(c["country"], c["solvers"], c["early_career"]) for c in data["solvers"]["countries"]]),
        ("early_career_by_year", ("year", "solvers", "early_career_solvers", "solvers_pct", "winners",
                                  "early_career_winners", "winners_pct"),
         [(r["year"], r["solvers"], r["early_career_solvers"], r["solvers_share"], r["winners"],
           r["early_career_winners"], r["winners_share"]) for r in data["early_career_by_year"]]),
        ("reviewers", ("reviewer", "assigned", "submitted"),
         [(r["name"], r["assigned"], r["submitted"]) for r in data["reviews"]["by_reviewer"]]),
        ("money", ("currency", "challenges", "benchmark", "advertised", "awarded", "paid", "premium_awarded_pct",
                   "premium_paid_pct"), money_rows),
    ]
    return [Table(name=f"{name}-{title}", header=header, rows=(lambda r=rows: iter(r)), count=(lambda r=rows: len(r)))
            for title, header, rows in tables]


def long_format(name: str, tables: list[Table]) -> Table:
    """Several tables as one CSV: (section, key, measure, value), one line per figure."""

    def rows() -> Iterator[Sequence]:
        for table in tables:
            section = table.name.removeprefix(name + "-")
            for row in table.rows():
                for measure, value in zip(table.header[1:], row[1:], strict=True):
                    yield (section, row[0], measure, value)

    return Table(name=name, header=("section", "key", "measure", "value"), rows=rows,
                 count=lambda: sum(t.count() * (len(t.header) - 1) for t in tables))
