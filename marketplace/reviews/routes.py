"""Review pages for reviewers (dashboard, agreement, the blind review) and for authors (answers, exclusions).

Staff pages are in staff_routes.py on the same blueprint. Every page reads through the same services as the API.
"""

from __future__ import annotations

from collections import OrderedDict

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from marketplace.audit.services import record
from marketplace.challenges.models import Challenge
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.i18n import current_locale_id
from marketplace.proposals.downloads import send_attachment
from marketplace.proposals.services import get_visible as get_visible_proposal
from marketplace.reviews import assign, blind, clarifications, coi, forms, pool, presenters, scoring
from marketplace.reviews.models import ChallengeReviewer, Review

bp = Blueprint("reviews", __name__, template_folder="templates")


def refused(error: DomainError, form=None) -> None:
    """Show a service's refusal: field errors on the form, the summary as a flash message."""
    db.session.rollback()
    for name, messages in error.errors.items():
        if form is not None and name in form:
            form[name].errors = list(form[name].errors) + [str(m) for m in messages]
    flash(str(error.detail or error.title), "error")


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
                           status_label=scoring.review_status_label)


@bp.route("/reviews/agreement/<int:challenge_id>", methods=["GET", "POST"])
@login_required
def agreement(challenge_id: int):
    challenge = db.session.get(Challenge, challenge_id)
    member = pool.membership(challenge, current_user) if challenge else None
    if member is None:
        raise NotFound(_("No such challenge."))
    form = forms.AgreementForm()
    status = 200
    if form.validate_on_submit():
        try:
            pool.accept_agreement(challenge, current_user, version=pool.AGREEMENT_VERSION)
        except DomainError as error:
            refused(error, form)
            status = error.status
        else:
            db.session.commit()
            flash(_("Thank you. Your proposals to review are listed below."), "success")
            return redirect(url_for("reviews.dashboard"))
    elif form.errors:
        status = 422
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
        anchors=scoring.SCORE_ANCHORS, recommendation_label=scoring.recommendation_label,
        status_label=scoring.review_status_label, editable=review.status != "submitted"
        and challenge.status == "judging"), status


def _load(review_id: int):
    """The review for its reviewer; the agreement first (a redirect), and the view on record."""
    review = scoring.review_for_reviewer(review_id, current_user)
    if not pool.has_accepted(pool.membership(scoring.challenge_of(review), current_user)):
        return review, redirect(url_for("reviews.agreement", challenge_id=review.challenge_id))
    return review, None


@bp.get("/reviews/<int:review_id>")
@login_required
def review_page(review_id: int):
    review, detour = _load(review_id)
    if detour:
        return detour
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
def save_review(review_id: int):
    review, detour = _load(review_id)
    if detour:
        return detour
    form = forms.ReviewForm()
    scores = _posted_scores()
    if not form.validate_on_submit():
        return _review_page(review, 422, form=form, posted_scores=scores)
    data = {"scores": {str(k): v for k, v in scores.items()}, "comment": form.comment.data or "",
            "recommendation": form.recommendation.data or None}
    try:
        scoring.save_draft(review, current_user, data)
    except DomainError as error:
        refused(error, form)
        return _review_page(scoring.review_for_reviewer(review_id, current_user), error.status, form=form,
                            posted_scores=scores)
    db.session.commit()
    if not form.submit.data:
        flash(_("Your draft is saved."), "success")
        return redirect(url_for("reviews.review_page", review_id=review.id))
    try:
        scoring.submit(review, current_user)
    except DomainError as error:
        refused(error, form)
        flash(_("Your draft is saved; complete it to submit."), "error")
        return _review_page(scoring.review_for_reviewer(review_id, current_user), error.status, form=form)
    db.session.commit()
    flash(_("Your review is submitted. You can now read the other reviews of this proposal."), "success")
    return redirect(url_for("reviews.review_page", review_id=review.id))


@bp.post("/reviews/<int:review_id>/conflict")
@login_required
def declare_conflict(review_id: int):
    review, detour = _load(review_id)
    if detour:
        return detour
    form = forms.ConflictForm()
    if not form.validate_on_submit():
        return _review_page(review, 422, conflict_form=form)
    try:
        outcome = assign.declare_conflict(review, current_user, note=form.note.data or "")
    except DomainError as error:
        refused(error, form)
        return _review_page(scoring.review_for_reviewer(review_id, current_user), error.status, conflict_form=form)
    db.session.commit()
    flash(_("Thank you for declaring the conflict. The proposal was removed from your list.") if outcome.replacement
          else _("Thank you for declaring the conflict. The proposal was removed from your list; the center's staff "
                 "will find another reviewer."), "success")
    return redirect(url_for("reviews.dashboard"))


@bp.post("/reviews/<int:review_id>/clarifications")
@login_required
def ask_clarification(review_id: int):
    review, detour = _load(review_id)
    if detour:
        return detour
    form = forms.QuestionForm()
    if not form.validate_on_submit():
        return _review_page(review, 422, question_form=form)
    try:
        clarifications.ask(review, current_user, form.question.data)
    except DomainError as error:
        refused(error, form)
        return _review_page(scoring.review_for_reviewer(review_id, current_user), error.status, question_form=form)
    db.session.commit()
    flash(_("Your question was sent to the authors, without your name."), "success")
    return redirect(url_for("reviews.review_page", review_id=review.id, _anchor="clarifications"))


@bp.get("/reviews/<int:review_id>/attachments/<int:index>")
@login_required
def attachment(review_id: int, index: int):
    review, detour = _load(review_id)
    if detour:
        return detour
    scoring.open_review(review, current_user, what=f"attachment-{index}")
    version = presenters.review_version(review)
    if version is None:
        raise NotFound(_("No such attachment."))
    file = blind.blind_file(version, index)
    record("review.attachment_downloaded", "review", review.id, actor=current_user, attachment=file.attachment.id,
           served_as=file.name, metadata_removed=file.content is not None, warning=file.warning)
    db.session.commit()
    return send_attachment(file.attachment, blind_name=file.name, content=file.content)


# --- authors: answers to reviewers' questions, exclusions ----------------------------------------------

def _authored(proposal_id: int):
    proposal = get_visible_proposal(proposal_id, current_user)
    if not proposal.is_author(current_user):
        raise NotFound(_("No such proposal."))
    return proposal


def _back(proposal_id: int, anchor: str):
    return redirect(url_for("proposals.view", proposal_id=proposal_id, _anchor=anchor))


@bp.post("/proposals/<int:proposal_id>/clarifications/<int:clarification_id>/answer")
@login_required
def answer_clarification(proposal_id: int, clarification_id: int):
    _authored(proposal_id)
    form = forms.AnswerForm()
    if not form.validate_on_submit():
        flash(_("Write your answer first."), "error")
        return _back(proposal_id, "clarifications")
    clarification = clarifications.get_for_author(clarification_id, current_user)
    if clarification.proposal_id != proposal_id:
        raise NotFound(_("No such question."))
    try:
        clarifications.answer(clarification, current_user, form.answer.data)
    except DomainError as error:
        refused(error)
        return _back(proposal_id, "clarifications")
    db.session.commit()
    flash(_("Your answer was sent to the reviewers of your proposal."), "success")
    return _back(proposal_id, "clarifications")


@bp.post("/proposals/<int:proposal_id>/exclusions")
@login_required
def add_exclusion(proposal_id: int):
    proposal = _authored(proposal_id)
    form = forms.ExclusionForm()
    if not form.validate_on_submit():
        flash(" ".join(str(m) for messages in form.errors.values() for m in messages), "error")
        return _back(proposal_id, "exclusions")
    try:
        coi.add_exclusion(proposal, current_user, email=form.email.data, reason=form.reason.data or "")
    except DomainError as error:
        refused(error)
        return _back(proposal_id, "exclusions")
    db.session.commit()
    flash(_("That person will not review your proposal."), "success")
    return _back(proposal_id, "exclusions")


@bp.post("/proposals/<int:proposal_id>/exclusions/<int:exclusion_id>/remove")
@login_required
def remove_exclusion(proposal_id: int, exclusion_id: int):
    proposal = _authored(proposal_id)
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    try:
        coi.remove_exclusion(proposal, current_user, exclusion_id)
    except DomainError as error:
        refused(error)
        return _back(proposal_id, "exclusions")
    db.session.commit()
    flash(_("The exclusion was removed."), "success")
    return _back(proposal_id, "exclusions")
