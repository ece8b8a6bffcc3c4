"""Review pages for reviewers (dashboard, agreement, the blind review) and for authors (answers, exclusions).

Staff pages are in staff_routes.py on the same blueprint. Every page reads through the same services as the API.
"""

from __future__ import annotations

import functools
from collections import OrderedDict

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from marketplace.challenges.models import Challenge
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.i18n import current_locale_id
from marketplace.labels import recommendation_label, review_status_label
from marketplace.page_actions import run_action
from marketplace.proposals.downloads import send_attachment
from marketplace.reviews import blind, clarifications, forms, pool, presenters, scoring
from marketplace.reviews.access import authored_proposal
from marketplace.reviews.assignment import service as assignment_service
from marketplace.reviews.conflicts import exclusions
from marketplace.reviews.models import ChallengeReviewer, Review

bp = Blueprint("reviews", __name__, template_folder="templates")


# --- the reviewer's dashboard and the agreement --------------------------------------------------------

@bp.get("/reviews")
@login_required
def dashboard():
    reviews = db.session.scalars(select(Review).where(Review.reviewer_id == current_user.id,
                                                      Review.status != "released")
                                 .order_by(Review.challenge_id, Review.due_at, Review.id)).all()
    challenges = {c.id: c for c in db.session.scalars(select(Challenge).where(
        Challenge.id.in_({r.challenge_id for r in reviews})))}
    # Pools the reviewer belongs to but has no review in yet (the agreement can be accepted early).
    memberships = db.session.scalars(select(ChallengeReviewer).where(
        ChallengeReviewer.user_id == current_user.id)).all()
    for member in memberships:
        if member.challenge_id not in challenges:
            challenges[member.challenge_id] = db.session.get(Challenge, member.challenge_id)
    groups: OrderedDict[int, dict] = OrderedDict()
    locale = current_locale_id()
    for member in sorted(memberships, key=lambda m: -m.challenge_id):
        challenge = challenges[member.challenge_id]
        mine = [r for r in reviews if r.challenge_id == challenge.id]
        groups[challenge.id] = {
            "challenge": challenge, "title": challenge.localized("title", locale)[1],
            "accepted": pool.has_accepted(member), "reviews": mine,
            "submitted": sum(1 for r in mine if r.status == "submitted")}
    return render_template("reviews/dashboard.html", groups=list(groups.values()),
                           status_label=review_status_label)


@bp.route("/reviews/agreement/<int:challenge_id>", methods=["GET", "POST"])
@login_required
def agreement(challenge_id: int):
    challenge = db.session.get(Challenge, challenge_id)
    member = pool.membership(challenge, current_user) if challenge else None
    if member is None:
        raise NotFound(_("No such challenge."))
    form = forms.AgreementForm()
    if form.validate_on_submit():
        return run_action(
            lambda: pool.accept_agreement(challenge, current_user, version=pool.AGREEMENT_VERSION),
            form=form, validate=False, success=_("Thank you. Your proposals to review are listed below."),
            redirect_to=url_for("reviews.dashboard"),
            refused=lambda refusal: _agreement_page(challenge, member, form, refusal.status))
    return _agreement_page(challenge, member, form, 422 if form.errors else 200)


def _agreement_page(challenge, member, form, status: int):
    return render_template("reviews/agreement.html", challenge=challenge, form=form, member=member,
                           accepted=pool.has_accepted(member), paragraphs=pool.agreement_text(),
                           version=pool.AGREEMENT_VERSION,
                           title=challenge.localized("title", current_locale_id())[1]), status


# --- the blind review --------------------------------------------------------------------------------

def _review_page(review: Review, status: int = 200, *, form=None, conflict_form=None, question_form=None,
                 posted_scores: dict | None = None):
    challenge = scoring.challenge_of(review)
    detail = presenters.review_detail(review, challenge, current_user, current_locale_id())
    form = form or forms.ReviewForm(formdata=None, comment=review.comment, recommendation=review.recommendation)
    scores = posted_scores if posted_scores is not None else {int(k): v for k, v in detail["scores"].items()}
    return render_template(
        "reviews/review.html", review=review, challenge=challenge, detail=detail, form=form, scores=scores,
        conflict_form=conflict_form or forms.ConflictForm(), question_form=question_form or forms.QuestionForm(),
        anchors=scoring.SCORE_ANCHORS, recommendation_label=recommendation_label,
        status_label=review_status_label, editable=review.status != "submitted"
        and challenge.status == "judging"), status


def _agreed_review(view):
    """Load the review for its reviewer (404 for anyone else) and pass it on; a reviewer who has not accepted the
    agreement is sent there first."""
    @functools.wraps(view)
    def with_review(review_id: int, **kwargs):
        review = scoring.review_for_reviewer(review_id, current_user)
        if not pool.has_accepted(pool.membership(scoring.challenge_of(review), current_user)):
            return redirect(url_for("reviews.agreement", challenge_id=review.challenge_id))
        return view(review, **kwargs)
    return with_review


@bp.get("/reviews/<int:review_id>")
@login_required
@_agreed_review
def review_page(review: Review):
    scoring.open_review(review, current_user)
    db.session.commit()
    return _review_page(review)


def _posted_scores() -> dict[int, int]:
    scores = {}
    for key, value in request.form.items():
        if key.startswith("score-") and value:
            try:
                scores[int(key.removeprefix("score-"))] = int(value)
            except ValueError:
                abort(400)
    return scores


@bp.post("/reviews/<int:review_id>")
@login_required
@_agreed_review
def save_review(review: Review):
    form = forms.ReviewForm()
    scores = _posted_scores()
    if not form.validate_on_submit():
        return _review_page(review, 422, form=form, posted_scores=scores)
    data = {"scores": {str(k): v for k, v in scores.items()}, "comment": form.comment.data or "",
            "recommendation": form.recommendation.data or None}
    page = url_for("reviews.review_page", review_id=review.id)

    def again(refusal, **kwargs):
        return _review_page(scoring.review_for_reviewer(review.id, current_user), refusal.status, form=form, **kwargs)

    # The draft is saved (and committed) first, so a refused submission keeps what the reviewer wrote.
    saved = run_action(lambda: scoring.save_draft(review, current_user, data), form=form, validate=False,
                       success=None if form.submit.data else _("Your draft is saved."), redirect_to=page,
                       refused=lambda refusal: again(refusal, posted_scores=scores))
    if not form.submit.data or isinstance(saved, tuple):  # only a draft, or the draft was refused: done
        return saved

    def incomplete(refusal):
        flash(_("Your draft is saved; complete it to submit."), "error")
        return again(refusal)

    return run_action(lambda: scoring.submit(review, current_user), form=form, validate=False, redirect_to=page,
                      success=_("Your review is submitted. You can now read the other reviews of this proposal."),
                      refused=incomplete)


@bp.post("/reviews/<int:review_id>/conflict")
@login_required
@_agreed_review
def declare_conflict(review: Review):
    form = forms.ConflictForm()
    return run_action(
        lambda: assignment_service.declare_conflict(review, current_user, note=form.note.data or ""), form=form,
        success=lambda outcome: _("Thank you for declaring the conflict. The proposal was removed from your list.")
        if outcome.replacement else _("Thank you for declaring the conflict. The proposal was removed from your "
                                      "list; the center's staff will find another reviewer."),
        redirect_to=url_for("reviews.dashboard"),
        refused=lambda refusal: _review_page(scoring.review_for_reviewer(review.id, current_user), refusal.status,
                                             conflict_form=form))


@bp.post("/reviews/<int:review_id>/clarifications")
@login_required
@_agreed_review
def ask_clarification(review: Review):
    form = forms.QuestionForm()
    return run_action(
        lambda: clarifications.ask(review, current_user, form.question.data), form=form,
        success=_("Your question was sent to the authors, without your name."),
        redirect_to=url_for("reviews.review_page", review_id=review.id, _anchor="clarifications"),
        refused=lambda refusal: _review_page(scoring.review_for_reviewer(review.id, current_user), refusal.status,
                                             question_form=form))


@bp.get("/reviews/<int:review_id>/attachments/<int:index>")
@login_required
@_agreed_review
def attachment(review: Review, index: int):
    file = blind.attachment_for_reviewer(review, current_user, index)
    db.session.commit()
    return send_attachment(file.attachment, blind_name=file.name, content=file.content)


# --- authors: answers to reviewers' questions, exclusions ----------------------------------------------


def _back(proposal_id: int, anchor: str) -> str:
    return url_for("proposals.view", proposal_id=proposal_id, _anchor=anchor)


@bp.post("/proposals/<int:proposal_id>/clarifications/<int:clarification_id>/answer")
@login_required
def answer_clarification(proposal_id: int, clarification_id: int):
    authored_proposal(proposal_id, current_user)
    form = forms.AnswerForm()
    if not form.validate_on_submit():
        flash(_("Write your answer first."), "error")
        return redirect(_back(proposal_id, "clarifications"))
    clarification = clarifications.get_for_author(clarification_id, current_user)
    if clarification.proposal_id != proposal_id:
        raise NotFound(_("No such question."))
    return run_action(lambda: clarifications.answer(clarification, current_user, form.answer.data),
                      success=_("Your answer was sent to the reviewers of your proposal."),
                      redirect_to=_back(proposal_id, "clarifications"))


@bp.post("/proposals/<int:proposal_id>/exclusions")
@login_required
def add_exclusion(proposal_id: int):
    proposal = authored_proposal(proposal_id, current_user)
    form = forms.ExclusionForm()
    if not form.validate_on_submit():
        flash(" ".join(str(m) for messages in form.errors.values() for m in messages), "error")
        return redirect(_back(proposal_id, "exclusions"))
    return run_action(
        lambda: exclusions.add_exclusion(proposal, current_user, email=form.email.data, reason=form.reason.data or ""),
        success=_("That person will not review your proposal."), redirect_to=_back(proposal_id, "exclusions"))


@bp.post("/proposals/<int:proposal_id>/exclusions/<int:exclusion_id>/remove")
@login_required
def remove_exclusion(proposal_id: int, exclusion_id: int):
    proposal = authored_proposal(proposal_id, current_user)
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    return run_action(lambda: exclusions.remove_exclusion(proposal, current_user, exclusion_id),
                      success=_("The exclusion was removed."), redirect_to=_back(proposal_id, "exclusions"))
