"""Review API: pool, conflicts, assignment, blind reviews, clarifications, exclusions, ranking, feedback.

Staff endpoints answer 404 to anyone who is not the challenge's review staff (managers and officers; a user whose
only role is reviewer is not); reviewer endpoints answer 404 to anyone but the assigned reviewer.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import func, select

from marketplace.api import PageArgs, login_required_api
from marketplace.audit.services import record
from marketplace.challenges.models import Challenge
from marketplace.challenges.services import managed_challenge, staff_challenge
from marketplace.errors import NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.i18n import current_locale_id
from marketplace.labels import conflict_reason_label
from marketplace.proposals.downloads import send_attachment
from marketplace.reviews import blind, clarifications, pool, presenters, schemas, scoring
from marketplace.reviews.access import authored_proposal
from marketplace.reviews.assignment import service as assignment_service
from marketplace.reviews.assignment import suggestions
from marketplace.reviews.conflicts import exclusions
from marketplace.reviews.conflicts.service import challenge_conflicts
from marketplace.reviews.models import Review
from marketplace.reviews.ranking import feedback
from marketplace.reviews.ranking import service as ranking_service
from marketplace.reviews.settings import change_settings, settings_of

blp = Blueprint("reviews_api", __name__, url_prefix="/api/v1", description="Peer review")


def _loads(challenge: Challenge) -> dict[int, int]:
    return dict(db.session.execute(select(Review.reviewer_id, func.count(Review.id)).where(
        Review.challenge_id == challenge.id, Review.status != "released").group_by(Review.reviewer_id)).all())


def _pool_conflicts(challenge: Challenge, members) -> dict:
    ids = [e.proposal.id for e in assignment_service.eligible_proposals(challenge)]
    if not ids or not members:
        return {}
    return challenge_conflicts(challenge, [m.user_id for m in members], proposal_ids=ids)


# --- the pool ---------------------------------------------------------------------------------

@blp.post("/challenges/<int:challenge_id>/reviewers")
@blp.arguments(schemas.ReviewersIn)
@login_required_api
def add_reviewers(data, challenge_id: int):
    challenge = managed_challenge(challenge_id, current_user)
    members = pool.add_reviewers(challenge, current_user, data["user_ids"])
    db.session.commit()
    return {"items": presenters.pool_json(members, _loads(challenge), _pool_conflicts(challenge, members))}, 201


@blp.get("/challenges/<int:challenge_id>/reviewers")
@login_required_api
def list_reviewers(challenge_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    members = pool.pool_of(challenge)
    return {"items": presenters.pool_json(members, _loads(challenge), _pool_conflicts(challenge, members))}


@blp.delete("/challenges/<int:challenge_id>/reviewers/<int:user_id>")
@blp.response(204)
@login_required_api
def remove_reviewer(challenge_id: int, user_id: int):
    challenge = managed_challenge(challenge_id, current_user)
    pool.remove_reviewer(challenge, current_user, user_id)
    db.session.commit()
    return "", 204


@blp.get("/challenges/<int:challenge_id>/reviewer-suggestions")
@blp.arguments(schemas.SuggestionArgs, location="query")
@login_required_api
def reviewer_suggestions(args, challenge_id: int):
    challenge = managed_challenge(challenge_id, current_user)
    return {"items": suggestions.suggest_reviewers(challenge, limit=args["limit"])}


@blp.get("/challenges/<int:challenge_id>/conflicts")
@login_required_api
def list_conflicts(challenge_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    found = _pool_conflicts(challenge, pool.pool_of(challenge))
    return {"items": [{"proposal_id": pid, "reviewer_id": rid, "reasons": list(codes),
                       "reason_labels": [conflict_reason_label(c) for c in codes]}
                      for (pid, rid), codes in sorted(found.items())]}


@blp.get("/challenges/<int:challenge_id>/review-settings")
@login_required_api
def get_settings(challenge_id: int):
    return presenters.settings_json(settings_of(staff_challenge(challenge_id, current_user)))


@blp.put("/challenges/<int:challenge_id>/review-settings")
@blp.arguments(schemas.SettingsIn)
@login_required_api
def put_settings(data, challenge_id: int):
    settings = change_settings(managed_challenge(challenge_id, current_user), current_user, data)
    db.session.commit()
    return presenters.settings_json(settings)


# --- assignment and progress --------------------------------------------------------------------

@blp.post("/challenges/<int:challenge_id>/assignments")
@blp.arguments(schemas.AssignmentIn)
@login_required_api
def create_assignments(data, challenge_id: int):
    challenge = managed_challenge(challenge_id, current_user)
    outcome = assignment_service.run_assignment(challenge, current_user, assignment_service.AssignmentRequest(**data))
    db.session.commit()
    return outcome.as_dict(), 201


@blp.get("/challenges/<int:challenge_id>/assignments")
@blp.arguments(schemas.StageArgs, location="query")
@login_required_api
def list_assignments(args, challenge_id: int):
    from marketplace.accounts.models import User
    from marketplace.proposals.models import Proposal

    challenge = staff_challenge(challenge_id, current_user)
    stage_id = _stage_id(challenge, args["stage_id"])
    reviews = db.session.scalars(select(Review).join(Proposal, Proposal.id == Review.proposal_id).where(
        Review.challenge_id == challenge.id, Proposal.stage_id == stage_id).order_by(Review.id)).all()
    names = dict(db.session.execute(select(User.id, User.display_name).where(
        User.id.in_({r.reviewer_id for r in reviews}))).all())
    return {"items": [presenters.staff_review_json(r, names.get(r.reviewer_id, "")) for r in reviews]}


@blp.get("/challenges/<int:challenge_id>/review-progress")
@login_required_api
def review_progress(challenge_id: int):
    rows = scoring.progress(staff_challenge(challenge_id, current_user))
    return {"items": [{**row, "due_at": row["due_at"].isoformat() if row["due_at"] else None} for row in rows]}


@blp.post("/challenges/<int:challenge_id>/review-reminders")
@login_required_api
def remind_reviewers(challenge_id: int):
    """Mail every reviewer with open reviews of this challenge now (each at most once a day)."""
    challenge = managed_challenge(challenge_id, current_user)
    count = scoring.remind_reviewers(challenge, current_user)
    db.session.commit()
    return {"reminded": count}


@blp.get("/challenges/<int:challenge_id>/identity-flags")
@login_required_api
def identity_flags(challenge_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    return {"items": [flag for e in assignment_service.eligible_proposals(challenge)
                      for flag in blind.identity_flags(e.proposal, e.version)]}


@blp.get("/challenges/<int:challenge_id>/ranking")
@blp.arguments(schemas.RankingArgs, location="query")
@login_required_api
def ranking(args, challenge_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    return ranking_service.challenge_ranking(challenge, awards=args["awards"], bootstrap=args["bootstrap"],
                                             stage_id=_stage_id(challenge, args["stage_id"]))


def _stage_id(challenge: Challenge, stage_id: int | None) -> int:
    """`?stage_id=` (default: the current stage), 404 when it is not a stage of this challenge."""
    from marketplace.stages.rules import stage_of

    stage = stage_of(challenge, stage_id)
    if stage is None:
        raise NotFound(_l("No such stage."))
    return stage.id


# --- the reviewer agreement and the reviewer's own reviews -----------------------------------------

def _member_challenge(challenge_id: int) -> Challenge:
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or pool.membership(challenge, current_user) is None:
        raise NotFound(_l("No such challenge."))
    return challenge


@blp.get("/challenges/<int:challenge_id>/reviewer-agreement")
@login_required_api
def get_reviewer_agreement(challenge_id: int):
    challenge = _member_challenge(challenge_id)
    member = pool.membership(challenge, current_user)
    return {"version": pool.AGREEMENT_VERSION, "text": pool.agreement_text(), "accepted": pool.has_accepted(member)}


@blp.post("/challenges/<int:challenge_id>/reviewer-agreement")
@blp.arguments(schemas.AgreementIn)
@login_required_api
def accept_reviewer_agreement(data, challenge_id: int):
    challenge = _member_challenge(challenge_id)
    if data["accept"] is not True:
        raise ValidationFailed(_l("Send accept: true to accept the agreement."),
                               errors={"accept": [_l("Send true to accept the agreement.")]})
    member = pool.accept_agreement(challenge, current_user, version=data["version"])
    db.session.commit()
    return {"version": member.agreement_version, "accepted": True,
            "accepted_at": member.agreement_accepted_at.isoformat()}, 201


@blp.get("/me/reviews")
@blp.arguments(PageArgs, location="query")
@login_required_api
def my_reviews(args):
    statement = (select(Review).where(Review.reviewer_id == current_user.id, Review.status != "released")
                 .order_by(Review.due_at, Review.id))
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    reviews = db.session.scalars(statement.limit(args["per_page"]).offset((args["page"] - 1) * args["per_page"])).all()
    challenges = {c.id: c for c in db.session.scalars(select(Challenge).where(
        Challenge.id.in_({r.challenge_id for r in reviews})))}
    locale = current_locale_id()
    items = [presenters.review_summary(r, challenges[r.challenge_id], current_user, locale) for r in reviews]
    shown = [item["id"] for item in items if item["proposal"] is not None]
    if shown:  # reviewers' reading is on record, the list included
        record("review.proposals_listed", "user", current_user.id, actor=current_user, reviews=shown)
        db.session.commit()
    return {"items": items, "page": args["page"], "per_page": args["per_page"], "total": total}


@blp.get("/reviews/<int:review_id>")
@login_required_api
def get_review(review_id: int):
    review = scoring.review_for_reviewer(review_id, current_user)
    challenge = scoring.open_review(review, current_user)
    db.session.commit()
    return presenters.review_detail(review, challenge, current_user, current_locale_id())


def _state(review: Review) -> dict:
    return {"id": review.id, "status": review.status, "scores": {str(s.criterion_id): s.score for s in review.scores},
            "comment": review.comment, "recommendation": review.recommendation,
            "submitted_at": review.submitted_at.isoformat() if review.submitted_at else None,
            "other_reviews": scoring.other_reviews(review)}


@blp.put("/reviews/<int:review_id>")
@blp.arguments(schemas.ReviewIn)
@login_required_api
def save_review(data, review_id: int):
    review = scoring.review_for_reviewer(review_id, current_user)
    scoring.save_draft(review, current_user, data)
    db.session.commit()
    return _state(review)


@blp.post("/reviews/<int:review_id>/submit")
@login_required_api
def submit_review(review_id: int):
    review = scoring.review_for_reviewer(review_id, current_user)
    scoring.submit(review, current_user)
    db.session.commit()
    return _state(review)


@blp.post("/reviews/<int:review_id>/conflict")
@blp.arguments(schemas.ConflictIn)
@login_required_api
def declare_conflict(data, review_id: int):
    review = scoring.review_for_reviewer(review_id, current_user)
    outcome = assignment_service.declare_conflict(review, current_user, note=data["note"])
    db.session.commit()
    # The declaring reviewer learns that the proposal was handed on, never to whom.
    return {"conflict_id": outcome.conflict.id, "review_id": review.id, "status": review.status,
            "reassigned": outcome.replacement is not None}, 201


@blp.get("/reviews/<int:review_id>/attachments/<int:index>")
@login_required_api
def review_attachment(review_id: int, index: int):
    file = blind.attachment_for_reviewer(scoring.review_for_reviewer(review_id, current_user), current_user, index)
    db.session.commit()
    response = send_attachment(file.attachment, blind_name=file.name, content=file.content)
    if file.warning:
        response.headers["X-Blind-Review-Warning"] = "metadata-not-removed"
    return response


@blp.post("/reviews/<int:review_id>/clarifications")
@blp.arguments(schemas.ClarificationIn)
@login_required_api
def ask_clarification(data, review_id: int):
    review = scoring.review_for_reviewer(review_id, current_user)
    clarification = clarifications.ask(review, current_user, data["question"])
    db.session.commit()
    return clarifications.for_author_json(clarification), 201


# --- authors --------------------------------------------------------------------------------------

@blp.get("/proposals/<int:proposal_id>/clarifications")
@login_required_api
def proposal_clarifications(proposal_id: int):
    proposal = authored_proposal(proposal_id, current_user)
    return {"items": [clarifications.for_author_json(c) for c in clarifications.for_authors(proposal)]}


@blp.post("/clarifications/<int:clarification_id>/answer")
@blp.arguments(schemas.AnswerIn)
@login_required_api
def answer_clarification(data, clarification_id: int):
    clarification = clarifications.get_for_author(clarification_id, current_user)
    clarifications.answer(clarification, current_user, data["answer"])
    db.session.commit()
    return clarifications.for_author_json(clarification)


def _exclusion_json(row) -> dict:
    from marketplace.accounts.models import User

    person = db.session.get(User, row.excluded_user_id)
    return {"id": row.id, "user_id": row.excluded_user_id, "display_name": person.display_name if person else None,
            "reason": row.reason, "created_at": row.created_at.isoformat()}


@blp.get("/proposals/<int:proposal_id>/exclusions")
@login_required_api
def list_exclusions(proposal_id: int):
    proposal = authored_proposal(proposal_id, current_user)
    return {"items": [_exclusion_json(row) for row in exclusions.exclusions_of(proposal, current_user)]}


@blp.post("/proposals/<int:proposal_id>/exclusions")
@blp.arguments(schemas.ExclusionIn)
@login_required_api
def add_exclusion(data, proposal_id: int):
    proposal = authored_proposal(proposal_id, current_user)
    row = exclusions.add_exclusion(proposal, current_user, user_id=data["user_id"], email=data["email"],
                            reason=data["reason"])
    db.session.commit()
    return _exclusion_json(row), 201


@blp.delete("/proposals/<int:proposal_id>/exclusions/<int:exclusion_id>")
@blp.response(204)
@login_required_api
def remove_exclusion(proposal_id: int, exclusion_id: int):
    proposal = authored_proposal(proposal_id, current_user)
    exclusions.remove_exclusion(proposal, current_user, exclusion_id)
    db.session.commit()
    return "", 204


@blp.get("/proposals/<int:proposal_id>/feedback")
@login_required_api
def proposal_feedback(proposal_id: int):
    return feedback.feedback_for(authored_proposal(proposal_id, current_user), current_user)

