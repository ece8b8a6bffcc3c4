"""Demo peer review: reviewer profiles, a challenge in judging with complete reviews (a disagreement, a grey zone,
a harsh and a lenient reviewer, a clarification), and an awarded challenge (a 70/30 split, one team proposal).

Everything goes through the services the application uses: challenges are authored, cleared, funded and published;
solvers accept the agreement and submit; the manager builds the pool and assigns with one action; reviewers accept
the reviewer agreement and score; the manager decides. Scores come from a fixed model (proposal quality plus
reviewer bias plus a little deterministic noise), so every run gives the same ranking.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Organization, User
from marketplace.awards import decisions
from marketplace.challenges import agreements
from marketplace.challenges import services as challenges
from marketplace.extensions import db
from marketplace.payments import funding
from marketplace.proposals import services as proposals
from marketplace.proposals import teams
from marketplace.proposals.models import Proposal
from marketplace.reviews import clarifications, pool, scoring
from marketplace.reviews.assignment import service as assignment_service
from marketplace.reviews.models import Review
from marketplace.reviews.settings import settings_of
from marketplace.solvers import profiles

# email, name, country, locale, headline, bio, expertise, recent works
REVIEWERS = [
    ("elena.moreau@review.example", "Elena Moreau", "FR", "fr", "Scanning acoustic microscopy of bonded wafers",
     "Acoustic imaging of voids and delamination in hybrid bonding and 3D stacks.", ["packaging", "metrology"],
     ["Acoustic detection of sub-micron voids in hybrid bonded wafers", "Time-domain scanning acoustic microscopy"]),
    ("raj.patel@review.example", "Raj Patel", "IN", "en", "X-ray laminography for advanced packaging",
     "X-ray computed laminography of interconnects, micro-bumps and bonding voids.", ["packaging", "reliability"],
     ["Laminography of hybrid bonding interfaces", "X-ray inspection of micro-bump voids"]),
    ("sara.lindqvist@review.example", "Sara Lindqvist", "SE", "en", "Infrared thermography and lock-in imaging",
     "Lock-in thermography for defect localisation in stacked dies.", ["thermal-management", "metrology"],
     ["Lock-in thermography of stacked dies", "Thermal transient testing of bonded interfaces"]),
    ("marco.bianchi@review.example", "Marco Bianchi", "IT", "en", "Machine learning for wafer defect inspection",
     "Deep learning on inspection images: defect classification, few-shot learning.", ["edge-ai", "metrology"],
     ["Few-shot defect classification on wafer inspection images", "Anomaly detection for hybrid bonding"]),
    ("yuki.mori@review.example", "Yuki Mori", "JP", "ja", "Hybrid bonding process integration",
     "Cu-Cu hybrid bonding: surface preparation, CMP, anneal; void formation mechanisms.", ["cmp", "packaging"],
     ["Void formation mechanisms in Cu-Cu hybrid bonding", "CMP dishing control for hybrid bonding"]),
    ("david.levi@review.example", "David Levi", "IL", "en", "Gas and VOC sensing for indoor air quality",
     "Metal-oxide and photoionisation VOC sensors, low-power heaters, drift.", ["gas-sensing", "low-power-design"],
     ["Low-power VOC sensing with pulsed micro-hotplates", "Drift compensation of metal-oxide VOC sensors"]),
    ("fatima.zahra@review.example", "Fatima Zahra", "MA", "fr", "Chemical sensors and sensor arrays",
     "Sensor arrays and pattern recognition for volatile organic compounds.", ["gas-sensing", "signal-processing"],
     ["Selective VOC detection with sensor arrays", "Humidity compensation for chemical sensors"]),
]

JUDGED = {
    "title": {"en": "Non-destructive detection of micro-voids in hybrid bonding",
              "zh_Hans": "混合键合微空洞的无损检测"},
    "summary": {"en": "Find voids below 1 µm at bonded wafer interfaces, in-line, without cutting the wafer.",
                "zh_Hans": "在线检测键合晶圆界面中小于1微米的空洞，无需切割晶圆。"},
    "description": {"en": "Hybrid bonding at 1 µm pitch fails when voids form at the interface. We need an in-line, "
                          "non-destructive method that finds voids below 1 µm over a 300 mm wafer in under 10 "
                          "minutes.", "zh_Hans": "需要一种在线无损方法，在10分钟内检测300毫米晶圆上小于1微米的空洞。"},
}
# (author email, title, abstract, body, quality)
JUDGED_PROPOSALS = [
    ("anna.schmidt@tum.example", "GHz scanning acoustic microscopy with deconvolution",
     "Acoustic microscopy at 1 GHz with model-based deconvolution resolves sub-micron voids.",
     "We combine a 1 GHz acoustic lens with time-domain deconvolution of the bonded interface echo to detect voids "
     "below 1 µm at wafer scale.", 8.1),
    ("james.okafor@imperial.example", "Laminography with photon-counting detectors",
     "X-ray laminography with a photon-counting detector images voids at the bonding interface.",
     "Computed laminography of hybrid bonded wafers with a photon-counting detector and iterative reconstruction; "
     "voids of 0.8 µm are visible in simulations.", 7.8),
    ("camille.durand@cnrs.example", "Lock-in thermography of bonding interfaces",
     "Periodic heating and lock-in infrared imaging reveal voids as thermal resistance hot spots.",
     "Lock-in thermography detects interface voids through their thermal resistance; a thermal model maps phase "
     "to void size.", 7.6),
    ("kenji.tanaka@u-tokyo.example", "Laser ultrasonics for in-line void inspection",
     "Non-contact laser ultrasonics measure bonding interface quality.",
     "A pulsed laser generates surface acoustic waves; their dispersion reveals interface voids over the wafer.", 6.4),
    ("priya.nair@iisc.example", "Infrared interferometry through silicon",
     "Near-infrared interferometry through the silicon wafer maps interface gaps.",
     "Silicon is transparent at 1.3 µm; interferometric imaging measures gaps at the bonded interface.", 6.0),
    ("emily.chen@stanford.example", "Few-shot learning on inspection images",
     "A few-shot model classifies voids from existing inspection images.",
     "We train a few-shot classifier on acoustic and infrared inspection images to flag void-prone dies.", 5.4),
    ("sofia.rossi@polimi.example", "Capacitance mapping of bonded pads",
     "Electrical test structures detect voids as capacitance changes.",
     "Daisy chains and capacitance test structures at the wafer edge estimate void density.", 4.6),
    ("nguyen.an@hust.example", "Warpage-based void screening",
     "Wafer warpage after bonding indicates void density.",
     "Full-wafer warpage measurement combined with a mechanical model screens for voids.", 3.8),
]

AWARDED = {
    "title": {"en": "Low-power VOC sensor for indoor air", "zh_Hans": "用于室内空气的低功耗VOC传感器"},
    "summary": {"en": "Detect total VOCs below 100 ppb at under 1 mW average power.",
                "zh_Hans": "以低于1毫瓦的平均功耗检测低于100 ppb的总挥发性有机物。"},
    "description": {"en": "Smart buildings need VOC sensors that run for years on a battery.",
                    "zh_Hans": "智能建筑需要能用电池运行多年的VOC传感器。"},
}
AWARDED_PROPOSALS = [
    ("maria.garcia@upm.example", "Pulsed micro-hotplate MOX sensor", "Pulsed heating cuts power below 0.5 mW.",
     "A metal-oxide sensor on a suspended micro-hotplate heated in 50 ms pulses; drift compensated by temperature "
     "cycling.", 8.0, ["liu.chen@fudan.example.cn"]),
    ("thabo.nkosi@uct.example", "Printed polymer VOC sensor array", "A printed array with pattern recognition.",
     "Inkjet-printed polymer chemiresistors in an array of eight, read out at 10 µW.", 7.2, []),
    ("daniel.cohen@technion.example", "Photoionisation on a chip", "A miniature PID for VOCs.",
     "A micro-machined photoionisation detector with a UV LED.", 6.1, []),
    ("lucas.silva@usp.example", "Catalytic bead with duty cycling", "A catalytic sensor duty-cycled to save power.",
     "A classic catalytic bead sensor run at 1 % duty cycle.", 4.9, []),
]


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _org(slug: str) -> Organization:
    return db.session.scalar(select(Organization).where(Organization.slug == slug))


def seed_reviewers(password: str) -> None:
    for email, name, country, locale, headline, bio, expertise, works in REVIEWERS:
        user = accounts.register_user(email=email, password=password, display_name=name, country=country,
                                      locale=locale, confirmed=True)
        profiles.save_profile(user, {
            "headline": headline, "bio": bio, "expertise": expertise, "early_career": False,
            "research_history": [{"year": date.today().year - i, "title": t, "kind": "publication"}
                                 for i, t in enumerate(works)]}, actor=user)


def _open_challenge(slug: str, manager: str, officer: str, finance: str, texts: dict, *, field: str, kind: str,
                    currency: str):
    org = _org(slug)
    challenge = challenges.create_challenge(org, _user(manager), {
        **texts, "default_locale": "en", "challenge_type": kind, "field": field,
        "deadline": datetime.now(UTC) + timedelta(days=30), "award_currency": currency,
        "criteria": [{"name": {"en": "Technical merit", "zh_Hans": "技术水平"}, "weight": 50},
                     {"name": {"en": "Feasibility", "zh_Hans": "可行性"}, "weight": 30},
                     {"name": {"en": "Clarity", "zh_Hans": "清晰度"}, "weight": 20}],
        "eligibility": {"excluded_countries": []}, "seeker_anonymous": False})
    challenges.request_clearance(challenge, _user(manager))
    challenges.decide_clearance(challenge, _user(officer), decision="approve", note="No classified content.")
    funding.record_receipt(challenge, _user(finance), reference=f"WIRE-REVIEW-{challenge.id}",
                           amount=challenge.award, received_on=date.today())
    challenges.publish(challenge, _user(manager))
    return challenge


def _submit(challenge, author: str, title: str, abstract: str, body: str, team: list[str]):
    lead = _user(author)
    members = [_user(email) for email in team]
    for user in [lead, *members]:
        agreements.accept(challenge, user, version=challenge.agreement_version)
    proposal = proposals.create_proposal(challenge, lead, {"title": title, "abstract": abstract, "body": body,
                                                           "locale": "en", "team_emails": [m.email for m in members]})
    if members:
        for member in members:
            teams.respond_to_invitation(proposal, member, accept=True)
        shares = {lead.id: Decimal(60), **{m.id: Decimal(40) / len(members) for m in members}}
        teams.set_shares(proposal, lead, shares)
        for member in members:
            teams.agree_to_shares(proposal, member)
    proposals.submit(proposal, lead)
    return proposal


def _score_all(challenge, quality: dict[int, float], biases: dict[str, float], *, disagree_on: int | None = None):
    """Every review scored from the model; on `disagree_on` the first two reviewers are 6 points apart."""
    reviews = db.session.scalars(select(Review).where(Review.challenge_id == challenge.id)
                                 .order_by(Review.proposal_id, Review.id)).all()
    criteria = list(challenge.criteria)
    seen: dict[int, int] = {}
    for review in reviews:
        reviewer = db.session.get(User, review.reviewer_id)
        seen[review.proposal_id] = seen.get(review.proposal_id, 0) + 1
        base = quality[review.proposal_id] + biases.get(reviewer.email, 0.0)
        base += ((review.proposal_id * 7 + review.reviewer_id * 3) % 5 - 2) * 0.3  # fixed "noise"
        if review.proposal_id == disagree_on and seen[review.proposal_id] <= 2:
            base = 9.0 if seen[review.proposal_id] == 1 else 3.0
        scores = {str(c.id): max(1, min(10, round(base + (0.5 if i == 1 else 0) - (0.5 if i == 2 else 0))))
                  for i, c in enumerate(criteria)}
        recommendation = "award" if base >= 7.5 else "consider" if base >= 5.5 else "reject"
        scoring.save_draft(review, reviewer, {"scores": scores, "recommendation": recommendation,
                                              "comment": _comment(base)})
        scoring.submit(review, reviewer)


def _comment(score: float) -> str:
    if score >= 7.5:
        return "A convincing approach with a clear validation plan. The throughput estimate needs more detail."
    if score >= 5.5:
        return "Promising idea; the sensitivity below 1 µm is not yet demonstrated. Add a feasibility experiment."
    return "The method is unlikely to meet the requirements; the key physics limits are not addressed."


def _review(challenge, manager: User, reviewers: list[str], *, per_proposal: int, max_load: int, planned: int,
            min_load: int = 0):
    pool.add_reviewers(challenge, manager, [_user(e).id for e in reviewers])
    for email in reviewers:
        pool.accept_agreement(challenge, _user(email), version=pool.AGREEMENT_VERSION)
    challenges.close(challenge, manager)
    settings_of(challenge).planned_awards = planned
    request = assignment_service.AssignmentRequest(per_proposal=per_proposal, max_per_reviewer=max_load,
                                                   min_per_reviewer=min_load)
    assignment_service.run_assignment(challenge, manager, request)


def seed_judging_challenge(password: str) -> None:
    manager = _user("li.wei@icc.example.cn")
    challenge = _open_challenge("sh-icc", "li.wei@icc.example.cn", "zhang.min@icc.example.cn",
                                "wang.fang@icc.example.cn", JUDGED, field="semiconductors", kind="rtp",
                                currency="CNY")
    quality = {}
    for author, title, abstract, body, q in JUDGED_PROPOSALS:
        quality[_submit(challenge, author, title, abstract, body, []).id] = q
    reviewers = [r[0] for r in REVIEWERS[:5]] + ["ingrid.berg@review.example", "tomoko.sato@review.example"]
    _review(challenge, manager, reviewers, per_proposal=3, max_load=5, planned=2, min_load=1)
    # A question in the clarification round, answered by the authors.
    review = db.session.scalar(select(Review).where(Review.challenge_id == challenge.id).order_by(Review.id))
    question = clarifications.ask(review, db.session.get(User, review.reviewer_id),
                                  "What is the lateral resolution at the bonding interface, measured or simulated?")
    proposal = db.session.get(Proposal, review.proposal_id)
    clarifications.answer(question, proposal.lead, "Simulated: 0.7 µm; a measurement on test wafers is planned.")
    ranked = sorted(quality, key=quality.get, reverse=True)
    _score_all(challenge, quality, {"raj.patel@review.example": -2.0, "sara.lindqvist@review.example": 1.5},
               disagree_on=ranked[4])


def seed_awarded_challenge(password: str) -> None:
    manager = _user("zhou.lan@ssc.example.cn")
    challenge = _open_challenge("sh-ssc", "zhou.lan@ssc.example.cn", "sun.hao@ssc.example.cn",
                                "liu.yang@ssc.example.cn", AWARDED, field="sensors", kind="ideation", currency="EUR")
    quality = {}
    for author, title, abstract, body, q, team in AWARDED_PROPOSALS:
        quality[_submit(challenge, author, title, abstract, body, team).id] = q
    reviewers = [r[0] for r in REVIEWERS[5:]] + ["ingrid.berg@review.example", "elena.moreau@review.example"]
    _review(challenge, manager, reviewers, per_proposal=2, max_load=3, planned=2)
    _score_all(challenge, quality, {})
    first, second = sorted(quality, key=quality.get, reverse=True)[:2]
    decisions.decide(challenge, manager, [{"proposal_id": first, "share_pct": "70"},
                                          {"proposal_id": second, "share_pct": "30"}],
                     reason="Two complementary approaches; the pulsed hotplate is closest to deployment.")


STEPS = [seed_reviewers, seed_judging_challenge, seed_awarded_challenge]
