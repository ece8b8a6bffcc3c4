"""The world the permission matrix runs in: the demo seed (two centers and everything they own)
plus six outsiders who own nothing in it, the real ids to put into path parameters, and the
private markers (texts an outsider must never be shown)."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from marketplace.extensions import db

PASSWORD = "matrix-password-not-for-use"
OUTSIDERS = {  # role -> (email, role grant or None)
    "solver": ("unrelated.solver@outsiders.example", None),
    "manager": ("manager@outsiders.example", "center_manager"),
    "security": ("security@outsiders.example", "security_officer"),
    "finance": ("finance@outsiders.example", "finance_officer"),
    "reviewer": ("reviewer@outsiders.example", "reviewer"),
}
FIXED = {"token": ["not-a-real-token"], "locale": ["de"], "kind": ["proposals"], "fmt": ["csv"], "index": [0]}
MARKER_RUN = re.compile(r"[\w][\w ]{18,}[\w]")


@dataclass
class World:
    ids: dict[str, list[tuple[int | str, bool]]]  # path parameter -> [(value, public?)]
    markers: dict[str, str]  # private text -> what it is
    users: dict[str, int]  # role -> user id
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    def path_values(self, arguments) -> list[tuple[dict, bool]]:
        """Every combination of real ids for a rule's arguments, with whether all are public."""
        names = sorted(arguments)
        pools = [self.ids.get(name) or [(value, True) for value in FIXED[name]] for name in names]
        return [({name: value for name, (value, _p) in zip(names, combo, strict=True)},
                 all(public for _v, public in combo)) for combo in itertools.product(*pools)]


def build(app) -> World:
    from marketplace.accounts import services as accounts
    from marketplace.accounts.models import User
    from marketplace.challenges import indexing
    from marketplace.demo import seed

    with app.test_request_context():
        for step in seed.STEPS:
            step(PASSWORD)
            db.session.flush()
        _open_appeal()
        outsiders_org = accounts.create_organization(slug="outsiders", name="Outsider Center", country="FR")
        users = {}
        for role, (email, grant) in OUTSIDERS.items():
            user = accounts.register_user(email=email, password=PASSWORD, display_name=f"Outsider {role}",
                                          country="FR", locale="en", confirmed=True)
            if grant:
                accounts.grant_role(user, grant, outsiders_org)
            users[role] = user
        staff_token = accounts.issue_api_token(_user("li.wei@icc.example.cn"))[1]
        db.session.flush()
        world = World(ids={**_ids(), "token_id": [(staff_token.id, False)]},
                      markers=_markers(set(users.values())), users={r: u.id for r, u in users.items()})
        for role, user in users.items():
            token, _row = accounts.issue_api_token(db.session.get(User, user.id))
            world.tokens[role] = {"Authorization": f"Bearer {token}"}
        world.tokens["anonymous"] = {}
        db.session.commit()
        indexing.flush_scheduled()
    return world


def _open_appeal() -> None:
    """An open appeal of a released provisional score in the judging challenge (the seed has none)."""
    from datetime import timedelta

    from marketplace.challenges.models import Challenge
    from marketplace.db import utcnow
    from marketplace.proposals.models import Proposal
    from marketplace.reviews.models import Appeal, Review, ScoreRelease

    judging = _first(Challenge, Challenge.status == "judging")
    review = _first(Review, Review.status == "submitted", Review.challenge_id == judging.id)
    score = review.scores[0]
    now = utcnow()
    db.session.add(ScoreRelease(challenge_id=review.challenge_id, released_by_id=review.reviewer_id, released_at=now,
                                window_closes_at=now + timedelta(days=3)))
    db.session.add(Appeal(challenge_id=review.challenge_id, proposal_id=review.proposal_id, review_id=review.id,
                          criterion_id=score.criterion_id, status="open",
                          appellant_id=db.session.get(Proposal, review.proposal_id).lead_id,
                          reason="The private reason of this appeal must stay with its parties.",
                          original_score=score.score, answer_due_at=now))
    db.session.flush()


def _user(email: str):
    from marketplace.accounts.models import User

    return db.session.scalars(db.select(User).where(User.email == email)).one()


def _first(model, *where, order=None):
    statement = db.select(model).where(*where).order_by(order if order is not None else model.id)
    return db.session.scalars(statement.limit(1)).first()


def _ids() -> dict[str, list[tuple[int, bool]]]:
    from marketplace.awards.models import Award
    from marketplace.challenges.models import Challenge, Question
    from marketplace.challenges.translation_models import ChallengeTranslator
    from marketplace.payments.models import Refund
    from marketplace.programs.models import Program
    from marketplace.proposals.models import Attachment, Proposal
    from marketplace.results.models import ResultRecord
    from marketplace.reviews.models import Appeal, Clarification, Review, SolverExclusion
    from marketplace.solvers.models import Interest
    from marketplace.stages.models import ChallengeStage

    challenges = [
        _first(Challenge, Challenge.status == "draft", Challenge.program_id.is_not(None)),
        _first(Challenge, Challenge.status == "open", Challenge.program_id.is_not(None)),
        _first(Challenge, Challenge.status == "awarded", Challenge.program_id.is_not(None)),
    ]  # three states keep the run short; the judging challenge's objects come in through their own ids
    judging = _first(Challenge, Challenge.status == "judging")
    draft = _first(Proposal, Proposal.status == "draft")
    submitted = _first(Proposal, Proposal.status == "submitted", Proposal.challenge_id == judging.id)
    solver = _user("anna.schmidt@tum.example")
    rows = {
        "challenge_id": [(c.id, c.is_public) for c in challenges],
        "proposal_id": [(draft.id, False), (submitted.id, False)],
        "award_id": [(_first(Award, Award.status == "release_requested").id, False)],
        "review_id": [(_first(Review, Review.proposal_id == submitted.id).id, False)],
        "attachment_id": [(_first(Attachment).id, False)],
        "result_id": [(r.id, r.is_public) for r in [_first(ResultRecord)]],
        "program_id": [(_first(Program).id, False)],
        "user_id": [(solver.id, True)],
        "question_id": [(_first(Question).id, False)],
        "clarification_id": [(_first(Clarification).id, False)],
        "exclusion_id": [(getattr(_first(SolverExclusion), "id", 1), False)],
        "appeal_id": [(getattr(_first(Appeal), "id", 1), False)],
        "translator_id": [(getattr(_first(ChallengeTranslator), "id", 1), False)],
        "refund_id": [(_first(Refund).id, False)],
        "interest_id": [(_first(Interest).id, False)],
        "stage_id": [(_first(ChallengeStage).id, False)],  # stage 1 of the first challenge
        "filename": [("site.css", True)],
    }
    return rows


def _snippet(text: str | None) -> str | None:
    match = MARKER_RUN.search(text or "")
    return match.group(0)[:40].strip() if match else None


def _markers(outsiders: set) -> dict[str, str]:
    from marketplace.accounts.models import User
    from marketplace.challenges.models import ChallengeText
    from marketplace.payments import payees
    from marketplace.payments.models import PayeeProfile
    from marketplace.programs.models import Program
    from marketplace.proposals.models import Proposal
    from marketplace.reviews.models import Appeal

    found: dict[str, str] = {}
    for text in db.session.scalars(db.select(ChallengeText)):
        found[_snippet(text.description)] = f"description of challenge {text.challenge_id} ({text.locale})"
    for program in db.session.scalars(db.select(Program)):
        found[_snippet(program.title)] = f"title of program {program.id}"
        found[_snippet(program.objective)] = f"objective of program {program.id}"
    for proposal in db.session.scalars(db.select(Proposal)):
        found[_snippet(proposal.body)] = f"body of proposal {proposal.id} ({proposal.status})"
    for appeal in db.session.scalars(db.select(Appeal)):
        found[_snippet(appeal.reason)] = f"reason of appeal {appeal.id}"
    for user in db.session.scalars(db.select(User)):
        if user not in outsiders:
            found[user.email] = f"e-mail address of user {user.id}"
    for profile in db.session.scalars(db.select(PayeeProfile)):
        clear = payees.decrypted(profile)
        found[clear.get("tax_id") or ""] = f"tax id of payee {profile.user_id}"
        found[str(clear.get("date_of_birth") or "")] = f"date of birth of payee {profile.user_id}"
        found[str((clear.get("bank_account") or {}).get("iban") or "")] = f"IBAN of payee {profile.user_id}"
    return {marker: what for marker, what in found.items() if marker and len(marker) >= 8}


def token_for(email: str) -> str:
    from marketplace.accounts.services import issue_api_token

    token, _row = issue_api_token(_user(email))
    db.session.commit()
    return token
