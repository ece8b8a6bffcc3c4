"""Demo data for the openness features: activity over time for the analytics charts, an awarded
challenge (with an early-career bonus) whose result is published with the winners' consent, a
follow-on challenge drafted from it, and, where the payments flow allows, the award paid.

Everything goes through the services; afterwards, timestamps are moved into the past so the charts
show weeks of activity instead of one instant. Runs last, after the other demo steps; when those
have already awarded challenges, their awards show in the charts too.
"""

from __future__ import annotations

import logging
import random
from datetime import date, timedelta

from sqlalchemy import select, update

from marketplace.accounts.models import Organization, User
from marketplace.analytics import early_career
from marketplace.analytics.models import ChallengeView
from marketplace.awards.models import Award
from marketplace.challenges import agreements
from marketplace.challenges import services as challenges
from marketplace.challenges.agreement_models import AgreementAcceptance
from marketplace.challenges.models import Challenge
from marketplace.challenges.states import move
from marketplace.db import utcnow
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.money import Money
from marketplace.payments import funding
from marketplace.proposals import services as proposals
from marketplace.proposals.models import Proposal, ProposalVersion

log = logging.getLogger(__name__)
WINDOW_DAYS = 40  # how long each demo challenge has been open
SPREAD_DAYS = 30  # between two demo publications, so the platform's monthly figures have several months

SECOND_ROUND = {  # the awarded challenge: texts in English and Chinese, covering the program's requirement R4
    "title": {"en": "Warpage-tolerant wafer-level packaging for an inspection head",
              "zh_Hans": "检测头的抗翘曲晶圆级封装"},
    "summary": {"en": "Keep warpage below 30 µm across a 12 × 12 mm package through three reflow cycles.",
                "zh_Hans": "在三次回流焊后使 12 × 12 mm 封装的翘曲保持在 30 µm 以下。"},
    "description": {"en": "Propose a stack-up and process window; show a simulation or measurement.",
                    "zh_Hans": "请提出叠层结构和工艺窗口，并给出仿真或测量结果。"},
}
ENTRANTS = [  # (email, proposal title)
    ("anna.schmidt@tum.example", "Symmetric RDL stack-up with a stress-compensating backside film"),
    ("kenji.tanaka@u-tokyo.example", "Low-CTE mould compound and a two-step reflow profile"),
    ("james.okafor@imperial.example", "Topology-optimised stiffener ring"),
    ("priya.nair@iisc.example", "Machine-learned warpage prediction for process tuning"),
    ("maria.garcia@upm.example", "Glass-core interposer with matched expansion"),
]
RESULT = {
    "title": {"en": "A symmetric stack-up keeps wafer-level package warpage under 25 µm",
              "zh_Hans": "对称叠层使晶圆级封装翘曲低于 25 µm"},
    "abstract": {"en": "A stress-compensating backside film, sized from a bilayer plate model, cancels the bow "
                       "of the redistribution layers. Measured warpage stayed below 25 µm after three reflow "
                       "cycles on 12 × 12 mm test packages; a low-CTE mould compound adds a further margin.",
                 "zh_Hans": "根据双层板模型确定的应力补偿背面薄膜抵消了重布线层的弯曲。在 12 × 12 mm 测试封装上，"
                            "三次回流焊后的实测翘曲保持在 25 µm 以下；低热膨胀系数的塑封料进一步增加了裕度。"},
    "licence_terms": {"en": "Non-exclusive licences on fair, reasonable and non-discriminatory terms.",
                      "zh_Hans": "按公平、合理、无歧视的条件授予非独占许可。"},
    "patent_application": "CN202710045678.9",
    "open_for_licensing": True,
    "licensing_contact": "licensing@icc.example.cn",
}


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def seed_openness(password: str) -> None:
    now = utcnow()
    rng = random.Random(7)  # the same demo every time
    awarded = _awarded_challenge(now)
    _pay(awarded)
    result = _publish_result(awarded)
    _follow_on(result)
    _spread_over_time(now, rng)
    _views(now, rng)
    from marketplace.results import indexing

    indexing.flush_scheduled()


# --- an awarded challenge, through the services ---------------------------------------------------

def _awarded_challenge(now) -> Challenge:
    from marketplace.awards import decisions
    from marketplace.programs.models import Program

    icc = db.session.scalar(select(Organization).where(Organization.slug == "sh-icc"))
    manager, officer = _user("li.wei@icc.example.cn"), _user("zhang.min@icc.example.cn")
    finance = _user("wang.fang@icc.example.cn")
    program = db.session.scalar(select(Program).where(Program.organization_id == icc.id,
                                                      Program.classification == "classified"))
    challenge = challenges.create_challenge(icc, manager, {
        **SECOND_ROUND, "default_locale": "en", "challenge_type": "theoretical", "field": "semiconductors",
        "deadline": now + timedelta(days=30), "award_currency": "CNY",
        "criteria": [{"name": {"en": "Technical merit", "zh_Hans": "技术水平"}, "weight": 60},
                     {"name": {"en": "Feasibility", "zh_Hans": "可行性"}, "weight": 40}],
        "eligibility": {"excluded_countries": []}, "program_id": program.id if program else None,
        "requirement_codes": ["R4"] if program else []})
    early_career.set_bonus(challenge, manager, "10")
    challenges.request_clearance(challenge, manager)
    challenges.decide_clearance(challenge, officer, decision="approve", note="Packaging only; nothing classified.")
    receipt = funding.record_receipt(challenge, finance, reference="WIRE-2026-OPEN-1",
                                     amount=Money(challenge.funding_target_minor, challenge.award_currency),
                                     received_on=date.today())
    funding.post_receipt(receipt, finance)  # once per receipt (dedupe key), wherever else it is posted
    challenges.publish(challenge, manager)
    entries = {}
    for email, title in ENTRANTS:
        solver = _user(email)
        agreements.accept(challenge, solver, version=challenge.agreement_version)
        proposal = proposals.create_proposal(challenge, solver, {
            "title": title, "abstract": f"{title}: approach, model and expected warpage.", "body": "Details."})
        proposals.submit(proposal, solver)
        entries[email] = proposal
    challenges.close(challenge, manager)
    move(challenge, "judging", actor=manager, action="challenge.judging_started")
    decisions.decide(challenge, manager, [{"proposal_id": entries[ENTRANTS[0][0]].id, "share_pct": "60"},
                                          {"proposal_id": entries[ENTRANTS[1][0]].id, "share_pct": "40"}],
                     override_reason="The jury met in person and scored both proposals on paper; no online review.")
    db.session.flush()
    return challenge


def _pay(challenge: Challenge) -> None:
    """Pay the awards the way finance does (IP assignment, payee details, two-person release, bank wire).

    Where the payments flow refuses (say, no payee encryption key configured), the awards stay unpaid and
    the analytics show them awarded but not paid.
    """
    from marketplace.awards import ip_assignment
    from marketplace.payments import payees
    from marketplace.payments import services as payments

    first, second = _user("wang.fang@icc.example.cn"), _user("chen.jie@icc.example.cn")
    awards = db.session.scalars(select(Award).where(Award.challenge_id == challenge.id).order_by(Award.id)).all()
    try:
        with db.session.begin_nested():
            for award in awards:
                for recipient in award.recipients:
                    ip_assignment.accept(award, recipient.user)
                    payees.save_payee(recipient.user, {
                        "legal_name": recipient.user.display_name, "residence_country": recipient.user.country,
                        "date_of_birth": date(1994, 5, 17), "tax_form": "none",
                        "bank_account": {"account_number": "DE89370400440532013000", "swift_bic": "COBADEFFXXX",
                                         "bank_name": "Demo Bank", "account_holder": recipient.user.display_name}})
                payments.request_release(award, first)
                payments.approve_release(award, second)
                payments.confirm_wire(award, first, reference=f"WIRE-OUT-{award.id}")
    except DomainError as error:
        log.warning("demo: the awards of challenge %s stay unpaid (%s)", challenge.id, error)


# --- the open result, its consents, a follow-on ------------------------------------------------------

def _publish_result(challenge: Challenge):
    from marketplace.results import services as results

    manager = _user("li.wei@icc.example.cn")
    anna, kenji = _user(ENTRANTS[0][0]), _user(ENTRANTS[1][0])
    result = results.create_result(challenge, manager, {**RESULT, "named_winner_ids": [anna.id, kenji.id]})
    results.decide_consent(result, anna, consent=True, cited_name="Schmidt, Anna")
    results.decide_consent(result, kenji, consent=True, cited_name="Tanaka, Kenji")
    results.publish_result(result, manager)
    return result


def _follow_on(result) -> None:
    from marketplace.results import follow_ons

    follow_ons.start_follow_on(result, _user("li.wei@icc.example.cn"))


# --- weeks of activity for the charts ------------------------------------------------------------------

def _spread_over_time(now, rng: random.Random) -> None:
    """Move publication, acceptances, submissions, the award and its payouts into the last weeks."""
    from marketplace.payments.models import Payout

    published = db.session.scalars(select(Challenge).where(Challenge.published_at.is_not(None))
                                   .order_by(Challenge.id)).all()
    for index, challenge in enumerate(published):
        start = now - timedelta(days=WINDOW_DAYS + SPREAD_DAYS * (len(published) - 1 - index))
        challenge.published_at = start
        span = (now - start).total_seconds()
        for acceptance in db.session.scalars(select(AgreementAcceptance).where(
                AgreementAcceptance.challenge_id == challenge.id)):
            acceptance.accepted_at = start + timedelta(seconds=span * rng.betavariate(1.2, 2.5))
        for proposal in db.session.scalars(select(Proposal).where(Proposal.challenge_id == challenge.id,
                                                                  Proposal.submitted_at.is_not(None))):
            when = start + timedelta(seconds=span * rng.betavariate(2.5, 1.5))
            proposal.submitted_at = when
            db.session.execute(update(ProposalVersion).where(ProposalVersion.proposal_id == proposal.id)
                               .values(submitted_at=when))
        for award in db.session.scalars(select(Award).where(Award.challenge_id == challenge.id)):
            award.created_at = now - timedelta(days=12)
            paid = select(Payout).where(Payout.status == "paid",
                                        Payout.award_recipient_id.in_([r.id for r in award.recipients]))
            for payout in db.session.scalars(paid):
                payout.completed_at = award.created_at + timedelta(days=rng.randint(4, 9))


def _views(now, rng: random.Random) -> None:
    """Daily views since publication: a launch peak, then a slow tail with weekly ripples."""
    for challenge in db.session.scalars(select(Challenge).where(Challenge.published_at.is_not(None))):
        days = (now.date() - challenge.published_at.date()).days
        for day in range(days + 1):
            base = 60 * (0.85 ** day) + 8 + (4 if (day % 7) in (1, 2) else 0)
            db.session.add(ChallengeView(challenge_id=challenge.id, day=challenge.published_at.date() + timedelta(
                days=day), views=max(1, int(base * rng.uniform(0.7, 1.3)))))
