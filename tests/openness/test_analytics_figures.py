"""Seeker analytics checked against figures computed by hand on a small, fully known fixture.

The fixture: one challenge published 1 March 2027 with an award of CNY 115,000.00 over a benchmark of
CNY 100,000.00 and a 10 % early-career bonus; five solvers (DE early-career, DE, JP early-career, BR, CN).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import update

from marketplace.extensions import db
from tests.factories import utc


@pytest.fixture
def known(world, app):
    from marketplace.analytics.models import ChallengeView
    from marketplace.challenges.agreement_models import AgreementAcceptance
    from marketplace.proposals.models import Proposal
    from marketplace.reviews.models import Review

    challenge = world.challenge(published_at=utc(2027, 3, 1), award_minor=11_500_000, reference_minor=10_000_000,
                                bonus_pct="10")
    s1 = world.solver("DE", early_career=True, name="Anna Schmidt")
    s2 = world.solver("DE", name="Jonas Weber")
    s3 = world.solver("JP", early_career=True, name="Kenji Tanaka")
    s4 = world.solver("BR", name="Lucas Silva")
    s5 = world.solver("CN", name="Liu Chen")
    p1 = world.propose(challenge, s1)
    p2 = world.propose(challenge, s2, coauthors=[s3])
    p3 = world.propose(challenge, s4)
    world.propose(challenge, s5, submit=False)
    with app.test_request_context():
        from marketplace.accounts.models import User
        from marketplace.proposals import services

        services.withdraw(db.session.get(Proposal, p3.id), db.session.get(User, s4.id))
        db.session.commit()
    awards = world.award(challenge, [(p1, "60"), (p2, "40")])
    with app.app_context():
        db.session.add_all([ChallengeView(challenge_id=challenge.id, day=date(2027, 3, 1), views=5),
                            ChallengeView(challenge_id=challenge.id, day=date(2027, 3, 3), views=7)])
        accepted = {s1.id: utc(2027, 3, 2, 9), s2.id: utc(2027, 3, 2, 15), s3.id: utc(2027, 3, 4, 1),
                    s4.id: utc(2027, 3, 4, 23, 59), s5.id: utc(2027, 3, 5)}
        for user_id, when in accepted.items():
            db.session.execute(update(AgreementAcceptance).where(
                AgreementAcceptance.challenge_id == challenge.id, AgreementAcceptance.user_id == user_id)
                .values(accepted_at=when))
        db.session.execute(update(Proposal).where(Proposal.id == p1.id).values(submitted_at=utc(2027, 3, 5, 10)))
        db.session.execute(update(Proposal).where(Proposal.id == p2.id).values(submitted_at=utc(2027, 3, 6, 10)))
        from marketplace.awards.models import Award

        db.session.execute(update(Award).where(Award.challenge_id == challenge.id).values(created_at=utc(2027, 4, 10)))
        # Reviewer progress: 2 of 3 assigned reviews submitted by one reviewer, 0 of 1 by another, 1 released.
        other = world.make_user("reviewer2@icc.example", roles=[("reviewer", world.org)], name="Zed Reviewer")
        for proposal_id, reviewer_id, status in ((p1.id, world.reviewer.id, "submitted"),
                                                 (p2.id, world.reviewer.id, "submitted"),
                                                 (p3.id, world.reviewer.id, "draft"),
                                                 (p1.id, other.id, "assigned"),
                                                 (p2.id, other.id, "released")):
            db.session.add(Review(challenge_id=challenge.id, proposal_id=proposal_id, reviewer_id=reviewer_id,
                                  status=status, pseudonym=f"P-{proposal_id}-{reviewer_id}"))
        db.session.commit()
        recipients = {r.user_id: r for a in db.session.scalars(db.select(Award).where(
            Award.challenge_id == challenge.id)) for r in a.recipients}
    world.pay(recipients[s1.id], utc(2027, 4, 20))
    world.pay(recipients[s2.id], utc(2027, 4, 25))
    world.pay(recipients[s3.id], utc(2027, 4, 30))
    return {"challenge": challenge, "solvers": (s1, s2, s3, s4, s5), "awards": awards, "recipients": recipients}


def test_figures_of_a_challenge_match_the_hand_computed_ones(known, app):
    from marketplace.analytics.figures import Scope, figures_for
    from marketplace.money import Money

    with app.app_context():
        from marketplace.challenges.models import Challenge

        figures = figures_for(Scope.challenge(db.session.get(Challenge, known["challenge"].id)))

    assert figures["views"] == {"total": 12, "series": [("2027-03-01", 5), ("2027-03-03", 7)]}
    # First acceptance per person, per UTC day.
    assert figures["acceptances"] == {"total": 5, "series": [("2027-03-02", 2), ("2027-03-04", 2),
                                                             ("2027-03-05", 1)]}
    proposals = figures["proposals"]
    assert proposals["by_status"] == {"submitted": 2, "withdrawn": 1}  # the draft is its author's alone
    assert proposals["series"] == [("2027-03-05", 1), ("2027-03-06", 1)]
    assert proposals["cumulative"] == [("2027-03-05", 1), ("2027-03-06", 2)]
    # Solvers on submitted proposals: Anna (DE, early), Jonas (DE) and his co-author Kenji (JP, early).
    solvers = figures["solvers"]
    assert solvers["total"] == 3
    assert solvers["countries"] == [{"country": "DE", "solvers": 2, "early_career": 1},
                                    {"country": "JP", "solvers": 1, "early_career": 1}]
    assert solvers["early_career"] == 2 and solvers["early_career_share"] == Decimal("66.7")
    assert figures["winners"] == {"total": 3, "early_career": 2, "early_career_share": Decimal("66.7")}
    assert figures["early_career_by_year"] == [{
        "year": 2027, "solvers": 3, "early_career_solvers": 2, "winners": 3, "early_career_winners": 2,
        "solvers_share": Decimal("66.7"), "winners_share": Decimal("66.7")}]
    reviews = figures["reviews"]
    assert (reviews["assigned"], reviews["submitted"], reviews["share"]) == (4, 2, Decimal("50.0"))
    assert [(r["name"], r["assigned"], r["submitted"]) for r in reviews["by_reviewer"]] == [
        ("Test User", 3, 2), ("Zed Reviewer", 1, 0)]

    # Money: 60 % = 69,000.00 to Anna (+10 % bonus = 75,900.00); 40 % = 46,000.00 split 23,000.00 each between
    # Jonas and Kenji (+10 % bonus for Kenji = 25,300.00). Awarded 124,200.00 against a benchmark of 100,000.00.
    [cny] = figures["money"]["currencies"]
    assert cny["benchmark"] == Money(10_000_000, "CNY")
    assert cny["advertised"] == Money(11_500_000, "CNY")
    assert cny["awarded"] == Money(12_420_000, "CNY")
    assert cny["paid"] == Money(12_420_000, "CNY")
    assert cny["premium_awarded_pct"] == Decimal("24.2") and cny["premium_paid_pct"] == Decimal("24.2")
    # Published 1 March, awarded 10 April: 40 days; paid 10, 15 and 20 days after the award.
    assert figures["money"]["publish_to_award_days"]["mean"] == Decimal("40.0")
    assert figures["money"]["award_to_payout_days"] == {"count": 3, "mean": Decimal("15.0"),
                                                         "min": Decimal("10.0"), "max": Decimal("20.0")}


def test_the_early_career_bonus_is_funded_and_paid_to_early_career_winners_only(known, app):
    from marketplace.challenges.models import Challenge

    s1, s2, s3, _s4, _s5 = known["solvers"]
    recipients = known["recipients"]
    assert recipients[s1.id].amount_minor == 6_900_000 + 690_000
    assert recipients[s2.id].amount_minor == 2_300_000
    assert recipients[s3.id].amount_minor == 2_300_000 + 230_000
    with app.app_context():
        challenge = db.session.get(Challenge, known["challenge"].id)
        assert challenge.funding_target_minor == 11_500_000 + 1_150_000


def test_program_and_platform_figures_add_up_over_challenges(known, world, app):
    from marketplace.analytics.figures import Scope, figures_for, per_challenge
    from marketplace.analytics.stats import public_stats

    second = world.challenge(published_at=utc(2027, 5, 2))
    world.propose(second, world.solver("FR"))
    with app.app_context():
        platform = figures_for(Scope.platform())
        breakdown = per_challenge(Scope.platform())
        stats = public_stats()
    assert platform["proposals"]["submitted"] == 3
    # Per month: the two of March 2027, and the one submitted now.
    assert sorted(n for _month, n in platform["proposals"]["series"]) == [1, 2]
    assert ("2027-03", 2) in platform["proposals"]["series"]
    assert platform["solvers"]["total"] == 4
    assert breakdown[known["challenge"].id]["submitted"] == 2 and breakdown[second.id]["submitted"] == 1
    assert breakdown[known["challenge"].id]["solvers"] == 3
    assert stats["challenges_posted"] == 2 and stats["countries"] == 3 and stats["awards_paid"] == 0
    assert [m.as_dict() for m in stats["paid"]] == [{"amount": "124200.00", "currency": "CNY"}]
