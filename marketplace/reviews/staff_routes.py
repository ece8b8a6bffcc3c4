"""Staff pages of a challenge's review (blueprint `review_staff`): pool, settings, assignment, progress, ranking,
and the appeals queue with the appeal window and the release of the provisional scores.

The challenge's managers and officers see them (404 for anyone else, reviewers included); only managers act.
Each action is a POST form run by `page_actions.run_action`: one service call, one commit; a refusal shows the
page again with the reason.
"""

from __future__ import annotations

import statistics
import zoneinfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from marketplace.accounts.models import User, user_by_email
from marketplace.challenges.authoring import localize_deadline
from marketplace.challenges.services import staff_challenge
from marketplace.db import utcnow
from marketplace.errors import Forbidden
from marketplace.extensions import db
from marketplace.i18n import current_locale_id
from marketplace.labels import conflict_reason_label, rank_band_label, review_status_label
from marketplace.page_actions import run_action
from marketplace.reviews import appeals, blind, forms, pool, presenters, score_release, scoring
from marketplace.reviews.access import is_manager
from marketplace.reviews.assignment import service as assignment_service
from marketplace.reviews.assignment import suggestions
from marketplace.reviews.conflicts.service import challenge_conflicts, solver_ids
from marketplace.reviews.models import Review
from marketplace.reviews.ranking import service as ranking_service
from marketplace.reviews.settings import change_settings, settings_of

bp = Blueprint("review_staff", __name__, template_folder="templates")


def _timezone() -> str:
    try:
        return str(zoneinfo.ZoneInfo(current_user.timezone or "UTC"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return "UTC"


def _local(moment):
    return moment.astimezone(zoneinfo.ZoneInfo(_timezone())).replace(tzinfo=None) if moment else None


def review_page_context(challenge, tab: str) -> dict:
    """What every review staff page shows around its tab (the award decision page too)."""
    return {"challenge": challenge, "tab": tab, "manager": is_manager(challenge, current_user),
            "title": challenge.localized("title", current_locale_id())[1], "reason_label": conflict_reason_label}


# --- the pool -------------------------------------------------------------------------------------------

def _pool_page(challenge, status: int = 200, *, add_form=None, settings_form=None):
    members = pool.pool_of(challenge)
    eligible = assignment_service.eligible_proposals(challenge)
    conflicts = challenge_conflicts(challenge, [m.user_id for m in members],
                                    proposal_ids=[e.proposal.id for e in eligible]) if eligible else {}
    loads = dict(db.session.execute(select(Review.reviewer_id, db.func.count(Review.id)).where(
        Review.challenge_id == challenge.id, Review.status != "released").group_by(Review.reviewer_id)).all())
    rows = presenters.pool_json(members, loads, conflicts)
    settings = settings_of(challenge)
    if settings_form is None:
        settings_form = forms.SettingsForm(formdata=None, exclude_same_country=settings.exclude_same_country,
                                           planned_awards=settings.planned_awards,
                                           review_due_at=_local(settings.review_due_at))
    manager = is_manager(challenge, current_user)
    in_pool = {m.user_id for m in members}
    solvers = solver_ids(challenge.id)
    return render_template(
        "reviews/staff/pool.html", **review_page_context(challenge, "pool"), rows=rows, eligible=len(eligible),
        add_form=add_form or forms.AddReviewersForm(), settings_form=settings_form, action=forms.ActionForm(),
        suggested=suggestions.suggest_reviewers(challenge, limit=10) if manager else [],
        internal=[u for u in pool.reviewer_role_holders(challenge) if u.id not in in_pool and u.id not in solvers],
        titles={e.proposal.id: e.version.title for e in eligible}), status


@bp.get("/staff/challenges/<int:challenge_id>/review/pool")
@login_required
def show_pool(challenge_id: int):
    return _pool_page(staff_challenge(challenge_id, current_user))


def _resolve(entries: list[str]) -> tuple[list[int], list[str]]:
    ids, unknown = [], []
    for entry in entries:
        user = db.session.get(User, int(entry)) if entry.isdigit() else user_by_email(entry) if "@" in entry else None
        (ids.append(user.id) if user else unknown.append(entry))
    return ids, unknown


def _pool_url(challenge) -> str:
    return url_for("review_staff.show_pool", challenge_id=challenge.id)


@bp.post("/staff/challenges/<int:challenge_id>/review/pool")
@login_required
def add_reviewers(challenge_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    form = forms.AddReviewersForm()
    if not form.validate_on_submit():
        return _pool_page(challenge, 422, add_form=form)
    ids, unknown = _resolve(form.entries())
    if unknown:
        form.people.errors = [_("No account for: %(who)s", who=", ".join(unknown))]
        return _pool_page(challenge, 422, add_form=form)
    return run_action(
        lambda: pool.add_reviewers(challenge, current_user, ids), form=form, validate=False,
        aliases={"user_ids": "people"},
        success=_("Added to the reviewer pool; each reviewer was asked to accept the reviewer agreement."),
        redirect_to=_pool_url(challenge),
        refused=lambda refusal: _pool_page(challenge, refusal.status, add_form=form))


@bp.post("/staff/challenges/<int:challenge_id>/review/pool/<int:user_id>")
@login_required
def add_reviewer(challenge_id: int, user_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    if not forms.ActionForm().validate_on_submit():
        return redirect(_pool_url(challenge))
    return run_action(lambda: pool.add_reviewers(challenge, current_user, [user_id]),
                      success=_("Added to the reviewer pool."), redirect_to=_pool_url(challenge),
                      refused=lambda refusal: _pool_page(challenge, refusal.status))


@bp.post("/staff/challenges/<int:challenge_id>/review/pool/<int:user_id>/remove")
@login_required
def remove_reviewer(challenge_id: int, user_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    if not forms.ActionForm().validate_on_submit():
        return redirect(_pool_url(challenge))
    return run_action(lambda: pool.remove_reviewer(challenge, current_user, user_id),
                      success=_("Removed from the reviewer pool."), redirect_to=_pool_url(challenge),
                      refused=lambda refusal: _pool_page(challenge, refusal.status))


@bp.post("/staff/challenges/<int:challenge_id>/review/settings")
@login_required
def save_settings(challenge_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    form = forms.SettingsForm()

    def save():
        due = localize_deadline(form.review_due_at.data, _timezone()) if form.review_due_at.data else None
        return change_settings(challenge, current_user, {
            "exclude_same_country": form.exclude_same_country.data, "planned_awards": form.planned_awards.data,
            "review_due_at": due})

    return run_action(save, form=form, success=_("Review settings saved."), redirect_to=_pool_url(challenge),
                      refused=lambda refusal: _pool_page(challenge, refusal.status, settings_form=form))


# --- assignment -------------------------------------------------------------------------------------

def _assignment_page(challenge, status: int = 200, *, form=None):
    eligible = assignment_service.eligible_proposals(challenge)
    reviews = assignment_service.active_reviews(challenge)
    members = pool.pool_of(challenge)
    settings = settings_of(challenge)
    form = form or forms.AssignmentForm(formdata=None, per_proposal=settings.per_proposal,
                                        max_per_reviewer=settings.max_per_reviewer,
                                        min_per_reviewer=settings.min_per_reviewer,
                                        one_per_institution=settings.one_per_institution,
                                        due_at=_local(settings.review_due_at))
    flags = [flag for e in eligible for flag in blind.identity_flags(e.proposal, e.version)]
    return render_template(
        "reviews/staff/assignment.html", **review_page_context(challenge, "assignment"), eligible=eligible, form=form,
        per_proposal={e.proposal.id: [r for r in reviews if r.proposal_id == e.proposal.id] for e in eligible},
        names={m.user_id: m.user.display_name for m in members}, summary=_assignment_summary(members, reviews),
        flags=flags, members=len(members), accepted=sum(1 for m in members if pool.has_accepted(m)),
        status_label=review_status_label, can_assign=challenge.status in ("closed", "judging")), status


def _assignment_summary(members, reviews) -> dict | None:
    """Total and worst affinity and the spread of loads, for the figures above the assignment table."""
    if not reviews:
        return None
    loads: dict[int, int] = {m.user_id: 0 for m in members}
    by_proposal: dict[int, list[Review]] = {}
    for review in reviews:
        loads[review.reviewer_id] = loads.get(review.reviewer_id, 0) + 1
        by_proposal.setdefault(review.proposal_id, []).append(review)
    means = [sum(r.affinity or 0 for r in rs) / len(rs) for rs in by_proposal.values()]
    return {"total_affinity": sum(r.affinity or 0 for r in reviews), "reviews": len(reviews),
            "load_min": min(loads.values()), "load_max": max(loads.values()),
            "load_std": statistics.pstdev(loads.values()) if loads else 0.0,
            "worst": min(means) if means else 0.0}


@bp.get("/staff/challenges/<int:challenge_id>/review/assignment")
@login_required
def show_assignment(challenge_id: int):
    return _assignment_page(staff_challenge(challenge_id, current_user))


@bp.post("/staff/challenges/<int:challenge_id>/review/assignment")
@login_required
def assign(challenge_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    form = forms.AssignmentForm()

    def run():
        due = localize_deadline(form.due_at.data, _timezone()) if form.due_at.data else None
        return assignment_service.run_assignment(challenge, current_user, assignment_service.AssignmentRequest(
            per_proposal=form.per_proposal.data, max_per_reviewer=form.max_per_reviewer.data,
            min_per_reviewer=form.min_per_reviewer.data, one_per_institution=form.one_per_institution.data,
            due_at=due))

    def refused(refusal):
        # Why no assignment exists is a list of sentences, not a field's message: each goes on top of the page.
        for message in refusal.error.errors.get("assignment", []) if refusal.error else []:
            flash(str(message), "error")
        return _assignment_page(staff_challenge(challenge_id, current_user), refusal.status, form=form)

    return run_action(run, form=form, success=_assigned_message, refused=refused,
                      redirect_to=url_for("review_staff.show_assignment", challenge_id=challenge.id))


def _assigned_message(outcome) -> str:
    spread = outcome.result.load_spread
    return _("%(n)d reviews assigned. Total affinity %(total).2f; loads from %(lo)d to %(hi)d per reviewer.",
             n=len(outcome.created), total=outcome.result.total_affinity, lo=spread.min, hi=spread.max)


# --- progress, ranking ---------------------------------------------------------------------------------

@bp.get("/staff/challenges/<int:challenge_id>/review/progress")
@login_required
def show_progress(challenge_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    reviews = assignment_service.active_reviews(challenge)
    submitted = sum(1 for r in reviews if r.status == "submitted")
    return render_template("reviews/staff/progress.html", **review_page_context(challenge, "progress"),
                           rows=scoring.progress(challenge), total=len(reviews), submitted=submitted,
                           now=utcnow())


@bp.post("/staff/challenges/<int:challenge_id>/review/reminders")
@login_required
def remind(challenge_id: int):
    """The manager's "remind now" button on the progress page."""
    challenge = staff_challenge(challenge_id, current_user)
    back = url_for("review_staff.show_progress", challenge_id=challenge.id)
    if not forms.ActionForm().validate_on_submit():
        return redirect(back, code=303)

    def send():
        if not is_manager(challenge, current_user):
            raise Forbidden(_l("Only center managers of this organization can do this."))
        return scoring.remind_reviewers(challenge, current_user)

    response = run_action(send, success=_reminded_message, redirect_to=back)
    response.status_code = 303  # the button lives on a page the browser should load again with GET
    return response


def _reminded_message(count: int) -> str:
    if not count:
        return _("Every reviewer with open reviews was reminded in the last day; nobody was mailed.")
    return ngettext("A reminder was sent to %(num)d reviewer.", "A reminder was sent to %(num)d reviewers.", count)


@bp.get("/staff/challenges/<int:challenge_id>/review/ranking")
@login_required
def show_ranking(challenge_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    awards = request.args.get("awards", type=int)
    if awards is not None and not 0 <= awards <= 100:
        awards = None
    ranking = ranking_service.challenge_ranking(challenge, awards=awards)
    criteria = {str(c["id"]): c["name"] for c in presenters.criteria_json(challenge, current_locale_id())}
    return render_template("reviews/staff/ranking.html", **review_page_context(challenge, "ranking"), ranking=ranking,
                           criteria=criteria, band_label=rank_band_label)


# --- appeals: the queue, the window, the release of the provisional scores ------------------------------

def appeals_page(challenge, status: int = 200, *, posted: dict | None = None):
    """The challenge's appeals queue; also shown again when a manager's answer to an appeal is refused."""
    found, _role = appeals.visible_appeals(challenge, current_user)
    locale = current_locale_id()
    reviewers = {r.id: r.reviewer_id for r in db.session.scalars(
        db.select(Review).where(Review.id.in_([a.review_id for a in found])))} if found else {}
    names = {u.id: u.display_name for u in db.session.scalars(
        db.select(User).where(User.id.in_(set(reviewers.values()))))} if reviewers else {}
    return render_template("reviews/appeals/staff.html", **review_page_context(challenge, "appeals"),
                           appeals=[appeals.appeal_json(a, "staff", locale) for a in found], names=names,
                           release=score_release.release_of(challenge.id), posted=posted or {}, now=utcnow(),
                           scale=range(scoring.MIN_SCORE, scoring.MAX_SCORE + 1),
                           open_count=sum(1 for a in found if a.is_open)), status


@bp.get("/staff/challenges/<int:challenge_id>/review/appeals")
@login_required
def show_appeals(challenge_id: int):
    return appeals_page(staff_challenge(challenge_id, current_user))


@bp.post("/staff/challenges/<int:challenge_id>/review/appeal-window")
@login_required
def set_appeal_window(challenge_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    return run_action(
        lambda: score_release.set_window(challenge, current_user, forms.number_or_raw(request.form.get("window_days"))),
        success=_("The appeal window is saved."),
        redirect_to=url_for("review_staff.show_appeals", challenge_id=challenge.id),
        refused=lambda refusal: appeals_page(staff_challenge(challenge_id, current_user), refusal.status,
                                             posted={"window_days": request.form.get("window_days", "")}))


@bp.post("/staff/challenges/<int:challenge_id>/review/provisional-scores")
@login_required
def release_scores(challenge_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    return run_action(
        lambda: score_release.release(challenge, current_user),
        success=_("The provisional scores are released; every solver was told."),
        redirect_to=url_for("review_staff.show_appeals", challenge_id=challenge.id),
        refused=lambda refusal: appeals_page(staff_challenge(challenge_id, current_user), refusal.status))
