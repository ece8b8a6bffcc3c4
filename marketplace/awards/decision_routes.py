"""The award decision page for the challenge's staff, a tab of the review pages (next to the ranking); the
managers decide there. The same decision through the API is `decision_api`."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.awards import decisions
from marketplace.awards.forms import decision_form_for
from marketplace.awards.routes import bp
from marketplace.challenges.services import staff_challenge
from marketplace.page_actions import run_action
from marketplace.reviews.assignment import service as assignment_service
from marketplace.reviews.ranking import service as ranking_service
from marketplace.reviews.staff_routes import review_page_context


def _decision_page(challenge, status: int = 200, *, form=None):
    eligible = assignment_service.eligible_proposals(challenge)
    decided = decisions.decision_json(challenge)
    ranking = ranking_service.challenge_ranking(challenge, bootstrap=100) if not decided else None
    by_id = {item["proposal_id"]: item for item in (ranking or {}).get("items", [])}
    order = sorted(eligible, key=lambda e: (by_id.get(e.proposal.id, {}).get("rank", 10**6), e.proposal.id))
    form = form or decision_form_for([e.proposal for e in order])
    titles = {e.proposal.id: e.version.title for e in eligible}
    return render_template("awards/decision.html", **review_page_context(challenge, "decision"), eligible=order,
                           ranked=by_id, form=form, decided=decided, titles=titles,
                           open_decision=challenge.status in ("closed", "judging"),
                           outstanding=decisions.outstanding_reviews(challenge, []) if not decided else 0), status


@bp.get("/staff/challenges/<int:challenge_id>/review/decision")
@login_required
def show_decision(challenge_id: int):
    return _decision_page(staff_challenge(challenge_id, current_user))


@bp.post("/staff/challenges/<int:challenge_id>/review/decision")
@login_required
def decide(challenge_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    eligible = assignment_service.eligible_proposals(challenge)
    form = decision_form_for([e.proposal for e in eligible], formdata=request.form)

    def run():
        awards = [{"proposal_id": e.proposal.id, "share_pct": str(form[f"share_{e.proposal.id}"].data)}
                  for e in eligible if form[f"share_{e.proposal.id}"].data]
        return decisions.decide(challenge, current_user, awards, reason=form.reason.data or "",
                                feedback_enabled=form.feedback_enabled.data,
                                override_reason=form.override_reason.data or None)

    return run_action(
        run, form=form, success=_("The awards are decided; every author was told."),
        redirect_to=url_for("awards.show_decision", challenge_id=challenge.id),
        refused=lambda refusal: _decision_page(staff_challenge(challenge_id, current_user), refusal.status,
                                               form=form))
