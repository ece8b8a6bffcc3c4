"""Analytics counters that no other table holds: challenge page views per day."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import UTCDateTime
from marketplace.extensions import db


class ChallengeView(db.Model):
    """Views of a challenge's public page (HTML or API) on one UTC day: one row per day, incremented in place."""

    __tablename__ = "challenge_views"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    views: Mapped[int] = mapped_column(Integer, default=0)


# Covering indexes for the analytics aggregates (GROUP BY over proposals, team members, acceptances and reviews):
# the figures are read from these indexes alone, without touching the wide rows (titles, abstracts, bodies).
# They belong to other packages' tables and are declared here, with the queries that need them.
def _covering_indexes() -> None:
    from sqlalchemy import Index

    from marketplace.challenges.agreement_models import AgreementAcceptance
    from marketplace.proposals.models import Proposal, ProposalMember
    from marketplace.reviews.models import Review
    from marketplace.solvers.models import ExpertProfile

    Index("ix_proposals_analytics", Proposal.challenge_id, Proposal.status, Proposal.submitted_at)
    Index("ix_proposal_members_analytics", ProposalMember.proposal_id, ProposalMember.status, ProposalMember.user_id)
    Index("ix_proposal_members_analytics_user", ProposalMember.user_id, ProposalMember.status,
          ProposalMember.proposal_id)
    Index("ix_agreement_acceptances_analytics", AgreementAcceptance.challenge_id, AgreementAcceptance.user_id,
          AgreementAcceptance.accepted_at)
    Index("ix_reviews_analytics", Review.challenge_id, Review.reviewer_id, Review.status)
    Index("ix_expert_profiles_analytics", ExpertProfile.user_id, ExpertProfile.early_career)


_covering_indexes()


class AnalyticsSnapshot(db.Model):
    """Platform-wide figures computed by `flask analytics refresh` (or on first need), shared by every worker."""

    __tablename__ = "analytics_snapshots"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
