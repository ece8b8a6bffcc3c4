"""Staff pages of a challenge's review: pool, assignment, progress, ranking and the award decision.

The challenge's managers and officers see them (404 for anyone else, reviewers included); only managers act.
Each action is a POST form that calls one service and commits once; a refusal re-renders the page with it.
"""

from __future__ import annotations

import statistics
import zoneinfo

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from marketplace.accounts.models import User, user_by_email
from marketplace.audit.services import record
from marketplace.awards import decisions
from marketplace.challenges.services import localize_deadline
from marketplace.db import utcnow
from marketplace.errors import DomainError, Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.i18n import current_locale_id
from marketplace.reviews import assign, blind, coi, forms, pool, presenters, ranking_service, scoring, suggestions
from marketplace.reviews.access import is_manager, settings_of, staff_challenge
from marketplace.reviews.models import Review
from marketplace.reviews.routes import bp, refused


def _timezone() -> str:
    try:
        return str(zoneinfo.ZoneInfo(current_user.timezone or "UTC"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return "UTC"


def _local(moment):
    return moment.astimezone(zoneinfo.ZoneInfo(_timezone())).replace(tzinfo=None) if moment else None


def _common(challenge, tab: str) -> dict:
    return {"challenge": challenge, "tab": tab, "manager": is_manager(challenge, current_user),
            "title": challenge.localized("title", current_locale_id())[1], "reason_label": coi.reason_label}


# --- the pool -------------------------------------------------------------------------------------------

def _pool_page(challenge, status: int = 200, *, add_form=None, settings_form=None):
    members = pool.pool_of(challenge)
    eligible = assign.eligible_proposals(challenge)
    conflicts = coi.challenge_conflicts(challenge, [m.user_id for m in members],
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
    solvers = pool.solver_ids(challenge.id)
    return render_template(
        "reviews/staff/pool.html", **_common(challenge, "pool"), rows=rows, eligible=len(eligible),
        add_form=add_form or forms.AddReviewersForm(), settings_form=settings_form, action=forms.ActionForm(),
        suggested=suggestions.suggest_reviewers(challenge, limit=10) if manager else [],
        internal=[u for u in pool.reviewer_role_holders(challenge) if u.id not in in_pool and u.id not in solvers],
        titles={e.proposal.id: e.version.title for e in eligible}), status


@bp.get("/staff/challenges/<int:challenge_id>/review/pool")
@login_required
def staff_pool(challenge_id: int):
    return _pool_page(staff_challenge(challenge_id, current_user))


def _resolve(entries: list[str]) -> tuple[list[int], list[str]]:
    ids, unknown = [], []
    for entry in entries:
        user = db.session.get(User, int(entry)) if entry.isdigit() else user_by_email(entry) if "@" in entry else None
        (ids.append(user.id) if user else unknown.append(entry))
    return ids, unknown


@bp.post("/staff/challenges/<int:challenge_id>/review/pool")
@login_required
def staff_pool_add(challenge_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    form = forms.AddReviewersForm()
    if not form.validate_on_submit():
        return _pool_page(challenge, 422, add_form=form)
    ids, unknown = _resolve(form.entries())
    if unknown:
        form.people.errors = [_("No account for: %(who)s", who=", ".join(unknown))]
        return _pool_page(challenge, 422, add_form=form)
    try:
        pool.add_reviewers(challenge, current_user, ids)
    except DomainError as error:
        refused(error)
        form.people.errors = [str(m) for messages in error.errors.values() for m in messages]
        return _pool_page(challenge, error.status, add_form=form)
    db.session.commit()
    flash(_("Added to the reviewer pool; each reviewer was asked to accept the reviewer agreement."), "success")
    return redirect(url_for("reviews.staff_pool", challenge_id=challenge.id))


@bp.post("/staff/challenges/<int:challenge_id>/review/pool/<int:user_id>")
@login_required
def staff_pool_add_one(challenge_id: int, user_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    if forms.ActionForm().validate_on_submit():
        try:
            pool.add_reviewers(challenge, current_user, [user_id])
        except DomainError as error:
            refused(error)
            return _pool_page(challenge, error.status)
        db.session.commit()
        flash(_("Added to the reviewer pool."), "success")
    return redirect(url_for("reviews.staff_pool", challenge_id=challenge.id))


@bp.post("/staff/challenges/<int:challenge_id>/review/pool/<int:user_id>/remove")
@login_required
def staff_pool_remove(challenge_id: int, user_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    if forms.ActionForm().validate_on_submit():
        try:
            pool.remove_reviewer(challenge, current_user, user_id)
        except DomainError as error:
            refused(error)
            return _pool_page(challenge, error.status)
        db.session.commit()
        flash(_("Removed from the reviewer pool."), "success")
    return redirect(url_for("reviews.staff_pool", challenge_id=challenge.id))


@bp.post("/staff/challenges/<int:challenge_id>/review/settings")
@login_required
def staff_settings(challenge_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    form = forms.SettingsForm()
    if not form.validate_on_submit():
        return _pool_page(challenge, 422, settings_form=form)
    try:
        if not is_manager(challenge, current_user):
            raise Forbidden(_("Only center managers of this organization can do this."))
        due = localize_deadline(form.review_due_at.data, _timezone()) if form.review_due_at.data else None
        if due is not None and due <= utcnow():
            raise ValidationFailed(_("The review deadline must lie in the future."),
                                   errors={"review_due_at": [_("The review deadline must lie in the future.")]})
    except DomainError as error:
        refused(error, form)
        return _pool_page(challenge, error.status, settings_form=form)
    settings = settings_of(challenge)
    settings.exclude_same_country, settings.planned_awards = form.exclude_same_country.data, form.planned_awards.data
    settings.review_due_at, settings.updated_at = due, utcnow()
    record("review.settings_changed", "challenge", challenge.id, actor=current_user,
           exclude_same_country=settings.exclude_same_country, planned_awards=settings.planned_awards,
           review_due_at=due.isoformat() if due else None)
    db.session.commit()
    flash(_("Review settings saved."), "success")
    return redirect(url_for("reviews.staff_pool", challenge_id=challenge.id))


# --- assignment -------------------------------------------------------------------------------------

def _assignment_page(challenge, status: int = 200, *, form=None):
    eligible = assign.eligible_proposals(challenge)
    reviews = assign.active_reviews(challenge)
    members = pool.pool_of(challenge)
    names = {m.user_id: m.user.display_name for m in members}
    loads: dict[int, int] = {m.user_id: 0 for m in members}
    for review in reviews:
        loads[review.reviewer_id] = loads.get(review.reviewer_id, 0) + 1
    per_proposal = {e.proposal.id: [r for r in reviews if r.proposal_id == e.proposal.id] for e in eligible}
    summary = None
    if reviews:
        means = [sum(r.affinity or 0 for r in rs) / len(rs) for rs in per_proposal.values() if rs]
        summary = {"total_affinity": sum(r.affinity or 0 for r in reviews), "reviews": len(reviews),
                   "load_min": min(loads.values()), "load_max": max(loads.values()),
                   "load_std": statistics.pstdev(loads.values()) if loads else 0.0,
                   "worst": min(means) if means else 0.0}
    settings = settings_of(challenge)
    form = form or forms.AssignmentForm(formdata=None, per_proposal=settings.per_proposal,
                                        max_per_reviewer=settings.max_per_reviewer,
                                        min_per_reviewer=settings.min_per_reviewer,
                                        one_per_institution=settings.one_per_institution,
                                        due_at=_local(settings.review_due_at))
    flags = [flag for e in eligible for flag in blind.identity_flags(e.proposal, e.version)]
    return render_template(
        "reviews/staff/assignment.html", **_common(challenge, "assignment"), eligible=eligible, form=form,
        per_proposal=per_proposal, names=names, summary=summary, flags=flags, members=len(members),
        accepted=sum(1 for m in members if pool.has_accepted(m)), status_label=scoring.review_status_label,
        can_assign=challenge.status in ("closed", "judging")), status


@bp.get("/staff/challenges/<int:challenge_id>/review/assignment")
@login_required
def staff_assignment(challenge_id: int):
    return _assignment_page(staff_challenge(challenge_id, current_user))


@bp.post("/staff/challenges/<int:challenge_id>/review/assignment")
@login_required
def staff_assign(challenge_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    form = forms.AssignmentForm()
    if not form.validate_on_submit():
        return _assignment_page(challenge, 422, form=form)
    due = localize_deadline(form.due_at.data, _timezone()) if form.due_at.data else None
    wanted = assign.AssignmentRequest(per_proposal=form.per_proposal.data, max_per_reviewer=form.max_per_reviewer.data,
                                      min_per_reviewer=form.min_per_reviewer.data,
                                      one_per_institution=form.one_per_institution.data, due_at=due)
    try:
        outcome = assign.run_assignment(challenge, current_user, wanted)
    except DomainError as error:
        refused(error, form)
        for message in error.errors.get("assignment", []):
            flash(str(message), "error")
        return _assignment_page(staff_challenge(challenge_id, current_user), error.status, form=form)
    db.session.commit()
    spread = outcome.result.load_spread
    flash(_("%(n)d reviews assigned. Total affinity %(total).2f; loads from %(lo)d to %(hi)d per reviewer.",
            n=len(outcome.created), total=outcome.result.total_affinity, lo=spread.min, hi=spread.max), "success")
    return redirect(url_for("reviews.staff_assignment", challenge_id=challenge.id))


# --- progress, ranking ---------------------------------------------------------------------------------

@bp.get("/staff/challenges/<int:challenge_id>/review/progress")
@login_required
def staff_progress(challenge_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    reviews = assign.active_reviews(challenge)
    submitted = sum(1 for r in reviews if r.status == "submitted")
    return render_template("reviews/staff/progress.html", **_common(challenge, "progress"),
                           rows=scoring.progress(challenge), total=len(reviews), submitted=submitted,
                           now=utcnow())


@bp.post("/staff/challenges/<int:challenge_id>/review/reminders")
@login_required
def staff_remind(challenge_id: int):
    """The manager's "remind now" button on the progress page."""
    challenge = staff_challenge(challenge_id, current_user)
    if forms.ActionForm().validate_on_submit():
        try:
            if not is_manager(challenge, current_user):
                raise Forbidden(_l("Only center managers of this organization can do this."))
            count = scoring.remind_reviewers(challenge, current_user)
        except DomainError as error:
            refused(error)
        else:
            db.session.commit()
            flash(ngettext("A reminder was sent to %(num)d reviewer.", "A reminder was sent to %(num)d reviewers.",
                           count) if count else
                  _("Every reviewer with open reviews was reminded in the last day; nobody was mailed."), "success")
    return redirect(url_for("reviews.staff_progress", challenge_id=challenge.id), code=303)


@bp.get("/staff/challenges/<int:challenge_id>/review/ranking")
@login_required
def staff_ranking(challenge_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    awards = request.args.get("awards", type=int)
    if awards is not None and not 0 <= awards <= 100:
        awards = None
    ranking = ranking_service.challenge_ranking(challenge, awards=awards)
    criteria = {str(c["id"]): c["name"] for c in presenters.criteria_json(challenge, current_locale_id())}
    return render_template("reviews/staff/ranking.html", **_common(challenge, "ranking"), ranking=ranking,
                           criteria=criteria, band_label=lambda code: ranking_service.label(
                               ranking_service.RANK_BAND_LABELS, code))


# --- the decision ------------------------------------------------------------------------------------

def _decision_page(challenge, status: int = 200, *, form=None):
    eligible = assign.eligible_proposals(challenge)
    decided = decisions.decision_json(challenge)
    ranking = ranking_service.challenge_ranking(challenge, bootstrap=100) if not decided else None
    by_id = {item["proposal_id"]: item for item in (ranking or {}).get("items", [])}
    order = sorted(eligible, key=lambda e: (by_id.get(e.proposal.id, {}).get("rank", 10**6), e.proposal.id))
    form = form or forms.decision_form_for([e.proposal for e in order])
    titles = {e.proposal.id: e.version.title for e in eligible}
    return render_template("reviews/staff/decision.html", **_common(challenge, "decision"), eligible=order,
                           ranked=by_id, form=form, decided=decided, titles=titles,
                           open_decision=challenge.status in ("closed", "judging"),
                           outstanding=decisions.outstanding_reviews(challenge, []) if not decided else 0), status


@bp.get("/staff/challenges/<int:challenge_id>/review/decision")
@login_required
def staff_decision(challenge_id: int):
    return _decision_page(staff_challenge(challenge_id, current_user))


@bp.post("/staff/challenges/<int:challenge_id>/review/decision")
@login_required
def staff_decide(challenge_id: int):
    challenge = staff_challenge(challenge_id, current_user)
    eligible = assign.eligible_proposals(challenge)
    form = forms.decision_form_for([e.proposal for e in eligible], formdata=request.form)
    if not form.validate_on_submit():
        return _decision_page(challenge, 422, form=form)
    awards = [{"proposal_id": e.proposal.id, "share_pct": str(form[f"share_{e.proposal.id}"].data)}
              for e in eligible if form[f"share_{e.proposal.id}"].data]
    try:
        decisions.decide(challenge, current_user, awards, reason=form.reason.data or "",
                         feedback_enabled=form.feedback_enabled.data,
                         override_reason=form.override_reason.data or None)
    except DomainError as error:
        refused(error, form)
        return _decision_page(staff_challenge(challenge_id, current_user), error.status, form=form)
    db.session.commit()
    flash(_("The awards are decided; every author was told."), "success")
    return redirect(url_for("reviews.staff_decision", challenge_id=challenge.id))
