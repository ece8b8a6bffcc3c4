"""Appeal pages for solvers and reviewers (blueprint `appeals`): the solver's provisional scores with an appeal form
per criterion, the reviewer's "Appeals to answer", and the answer to an appeal (a reviewer's, or a manager's once the
reviewer's time is up). The manager's appeals queue is a staff page (`staff_routes`).

Every page reads through appeals.py, as the API does; a refusal re-renders the page with its message and status.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.challenges.services import staff_challenge
from marketplace.db import utcnow
from marketplace.errors import DomainError
from marketplace.i18n import current_locale_id
from marketplace.page_actions import run_action
from marketplace.reviews import appeals, forms
from marketplace.reviews.access import authored_proposal
from marketplace.reviews.score_release import release_of
from marketplace.reviews.scoring import MAX_SCORE, MIN_SCORE
from marketplace.reviews.staff_routes import appeals_page

bp = Blueprint("appeals", __name__, template_folder="templates")


# --- the solver ------------------------------------------------------------------------------------------

def proposal_appeals_panel(proposal) -> dict | None:
    """For the proposal page: the authors' provisional scores once released; None otherwise."""
    if not proposal.is_author(current_user) or release_of(proposal.challenge_id) is None:
        return None
    try:
        return appeals.provisional_scores(proposal, current_user, current_locale_id())
    except DomainError:
        return None



def _scores_page(proposal, status: int = 200, *, posted: dict | None = None):
    data = appeals.provisional_scores(proposal, current_user, current_locale_id())
    return render_template("reviews/appeals/scores.html", proposal=proposal, scores=data, posted=posted or {},
                           max_reason=appeals.MAX_REASON), status


@bp.get("/proposals/<int:proposal_id>/scores")
@login_required
def scores(proposal_id: int):
    return _scores_page(authored_proposal(proposal_id, current_user))


@bp.post("/proposals/<int:proposal_id>/appeals")
@login_required
def file_appeal(proposal_id: int):
    proposal = authored_proposal(proposal_id, current_user)
    criterion_id = forms.number_or_raw(request.form.get("criterion_id"))
    posted = {"criterion_id": criterion_id, "reason": request.form.get("reason", ""),
              "review": request.form.get("review", "")}
    return run_action(
        lambda: appeals.file_appeal(proposal, current_user, criterion_id=criterion_id,
                                    reason=request.form.get("reason"),
                                    review_number=forms.number_or_raw(request.form.get("review"))),
        success=_("Your appeal was sent. The reviewer will answer; you will be told by e-mail."),
        redirect_to=url_for("appeals.scores", proposal_id=proposal.id),
        refused=lambda refusal: _scores_page(authored_proposal(proposal_id, current_user), refusal.status,
                                             posted=posted))


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


@bp.post("/appeals/<int:appeal_id>/answer")
@login_required
def answer(appeal_id: int):
    appeal = appeals.get_appeal(appeal_id, current_user)
    challenge_id = appeal.challenge_id
    role = appeals.answering_role(appeal, current_user)
    posted = {"appeal_id": appeal.id, "outcome": request.form.get("outcome", ""),
              "score": request.form.get("score", ""), "response": request.form.get("response", "")}

    def refused(refusal):
        if role == "reviewer":
            return _reviewer_page(refusal.status, posted=posted)
        return appeals_page(staff_challenge(challenge_id, current_user), refusal.status, posted=posted)

    return run_action(
        lambda: appeals.answer(appeal, current_user, outcome=request.form.get("outcome"),
                               response=request.form.get("response"),
                               score=forms.number_or_raw(request.form.get("score"))),
        success=_("Your answer was sent to the solver."), refused=refused,
        redirect_to=url_for("appeals.reviewer_appeals") if role == "reviewer"
        else url_for("review_staff.show_appeals", challenge_id=challenge_id))
