"""Appeal pages: the solver's provisional scores with an appeal form per criterion, the reviewer's "Appeals to
answer", and the manager's appeals queue of a challenge (with the release of the provisional scores).

Every page reads through appeals.py, as the API does; a refusal re-renders the page with its message and status.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.accounts.models import User
from marketplace.db import utcnow
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.i18n import current_locale_id
from marketplace.proposals.services import get_visible as get_visible_proposal
from marketplace.reviews import appeals
from marketplace.reviews.access import staff_challenge
from marketplace.reviews.models import Review
from marketplace.reviews.scoring import MAX_SCORE, MIN_SCORE

bp = Blueprint("appeals", __name__, template_folder="templates")


def _refused(error: DomainError) -> None:
    db.session.rollback()
    flash(str(error.detail or error.title), "error")


def _int_or_raw(value: str | None):
    """A form's number as int; an empty field as None; anything else as sent (the service refuses it)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return value


# --- the solver ------------------------------------------------------------------------------------------

def proposal_appeals_panel(proposal) -> dict | None:
    """For the proposal page: the authors' provisional scores once released; None otherwise."""
    if not proposal.is_author(current_user) or appeals.release_of(proposal.challenge_id) is None:
        return None
    try:
        return appeals.provisional_scores(proposal, current_user, current_locale_id())
    except DomainError:
        return None


def _authored(proposal_id: int):
    proposal = get_visible_proposal(proposal_id, current_user)
    if not proposal.is_author(current_user):
        raise NotFound(_("No such proposal."))
    return proposal


def _scores_page(proposal, status: int = 200, *, posted: dict | None = None):
    data = appeals.provisional_scores(proposal, current_user, current_locale_id())
    return render_template("reviews/appeals/scores.html", proposal=proposal, scores=data, posted=posted or {},
                           max_reason=appeals.MAX_REASON), status


@bp.get("/proposals/<int:proposal_id>/scores")
@login_required
def scores(proposal_id: int):
    return _scores_page(_authored(proposal_id))


@bp.post("/proposals/<int:proposal_id>/appeals")
@login_required
def file_appeal(proposal_id: int):
    proposal = _authored(proposal_id)
    criterion_id = _int_or_raw(request.form.get("criterion_id"))
    posted = {"criterion_id": criterion_id, "reason": request.form.get("reason", ""),
              "review": request.form.get("review", "")}
    try:
        appeals.file_appeal(proposal, current_user, criterion_id=criterion_id, reason=request.form.get("reason"),
                            review_number=_int_or_raw(request.form.get("review")))
    except DomainError as error:
        _refused(error)
        return _scores_page(_authored(proposal_id), error.status, posted=posted)
    db.session.commit()
    flash(_("Your appeal was sent. The reviewer will answer; you will be told by e-mail."), "success")
    return redirect(url_for("appeals.scores", proposal_id=proposal.id))


# --- the reviewer and the manager answer -------------------------------------------------------------

def _reviewer_page(status: int = 200, *, posted: dict | None = None):
    rows = appeals.reviewer_appeals(current_user)
    locale = current_locale_id()
    return render_template("reviews/appeals/reviewer.html",
                           appeals=[appeals.appeal_json(a, "reviewer", locale) for a in rows],
                           posted=posted or {}, now=utcnow(), scale=range(MIN_SCORE, MAX_SCORE + 1)), status


@bp.get("/reviews/appeals")
@login_required
def reviewer_appeals():
    return _reviewer_page()


def _staff_page(challenge, status: int = 200, *, posted: dict | None = None):
    from marketplace.reviews.staff_routes import _common

    found, _role = appeals.visible_appeals(challenge, current_user)
    locale = current_locale_id()
    reviewers = {r.id: r.reviewer_id for r in db.session.scalars(
        db.select(Review).where(Review.id.in_([a.review_id for a in found])))} if found else {}
    names = {u.id: u.display_name for u in db.session.scalars(
        db.select(User).where(User.id.in_(set(reviewers.values()))))} if reviewers else {}
    return render_template("reviews/appeals/staff.html", **_common(challenge, "appeals"),
                           appeals=[appeals.appeal_json(a, "staff", locale) for a in found], names=names,
                           release=appeals.release_of(challenge.id), posted=posted or {}, now=utcnow(),
                           scale=range(MIN_SCORE, MAX_SCORE + 1),
                           open_count=sum(1 for a in found if a.is_open)), status


@bp.get("/staff/challenges/<int:challenge_id>/review/appeals")
@login_required
def staff_appeals(challenge_id: int):
    return _staff_page(staff_challenge(challenge_id, current_user))


@bp.post("/staff/challenges/<int:challenge_id>/review/appeal-window")
@login_required
def set_window(challenge_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    days = _int_or_raw(request.form.get("window_days"))
    try:
        appeals.set_window(challenge, current_user, days)
    except DomainError as error:
        _refused(error)
        return _staff_page(staff_challenge(challenge_id, current_user), error.status,
                           posted={"window_days": request.form.get("window_days", "")})
    db.session.commit()
    flash(_("The appeal window is saved."), "success")
    return redirect(url_for("appeals.staff_appeals", challenge_id=challenge.id))


@bp.post("/staff/challenges/<int:challenge_id>/review/provisional-scores")
@login_required
def release_scores(challenge_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    try:
        appeals.release(challenge, current_user)
    except DomainError as error:
        _refused(error)
        return _staff_page(staff_challenge(challenge_id, current_user), error.status)
    db.session.commit()
    flash(_("The provisional scores are released; every solver was told."), "success")
    return redirect(url_for("appeals.staff_appeals", challenge_id=challenge.id))


@bp.post("/appeals/<int:appeal_id>/answer")
@login_required
def answer(appeal_id: int):
    appeal = appeals.get_appeal(appeal_id, current_user)
    challenge_id = appeal.challenge_id
    role = appeals.answering_role(appeal, current_user)
    posted = {"appeal_id": appeal.id, "outcome": request.form.get("outcome", ""),
              "score": request.form.get("score", ""), "response": request.form.get("response", "")}
    try:
        appeals.answer(appeal, current_user, outcome=request.form.get("outcome"),
                       response=request.form.get("response"), score=_int_or_raw(request.form.get("score")))
    except DomainError as error:
        _refused(error)
        if role == "reviewer":
            return _reviewer_page(error.status, posted=posted)
        return _staff_page(staff_challenge(challenge_id, current_user), error.status, posted=posted)
    db.session.commit()
    flash(_("Your answer was sent to the solver."), "success")
    if role == "reviewer":
        return redirect(url_for("appeals.reviewer_appeals"))
    return redirect(url_for("appeals.staff_appeals", challenge_id=challenge_id))
