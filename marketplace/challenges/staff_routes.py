"""Staff pages of challenges: the manage page and its actions (clear, publish, close, cancel, amend, answer;
funding is a panel that payments adds, see marketplace/panels.py).

Every page is for the staff of the challenge's organization only (404 for anyone else). Each action
is a POST form that calls one service through page_actions.run_action; a refusal is shown on the
manage page with the service's status (403, 409, 422), and refused clearances and publications stay
on record in the audit log. Authoring (new, edit, translate) is in staff_authoring.py and the staff
lists in staff_lists.py, on this module's blueprint `challenge_staff`.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from marketplace import panels
from marketplace.accounts.models import User
from marketplace.audit.models import AuditEntry
from marketplace.challenges import amendments, questions, services
from marketplace.challenges.agreement_models import Amendment
from marketplace.challenges.authoring import localize_deadline
from marketplace.challenges.forms import ActionForm, AmendForm, AnswerForm, CancelForm, ClearanceForm
from marketplace.challenges.models import Challenge, Question
from marketplace.challenges.refusals import audit_refusal
from marketplace.challenges.states import TRANSITIONS
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.labels import CHALLENGE_STATUS_LABELS, audit_action_label
from marketplace.money import parse_money
from marketplace.page_actions import Refusal, run_action
from marketplace.permissions import Role

bp = Blueprint("challenge_staff", __name__, template_folder="templates")

# The usual road of a challenge, drawn as the timeline on the manage page.
MAIN_ROAD = ("draft", "in_clearance", "cleared", "open", "closed", "judging", "awarded")


def user_timezone() -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(current_user.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def local_time(moment: datetime) -> datetime:
    """An aware UTC time as the naive local time a datetime-local input shows."""
    return moment.astimezone(user_timezone()).replace(tzinfo=None, second=0, microsecond=0)


def load_for_staff(challenge_id: int) -> Challenge:
    return services.staff_challenge(challenge_id, current_user)


# --- the manage page ----------------------------------------------------------------------------

@bp.get("/staff/challenges/<int:challenge_id>")
@login_required
def manage(challenge_id: int):
    return render_manage(load_for_staff(challenge_id))


def possible_actions(challenge: Challenge, user) -> dict[str, bool]:
    """Which action forms to offer. The services decide; this only avoids offering what cannot work."""
    manager = challenge.can_manage(user)
    status = challenge.status
    return {
        "edit": manager and status in ("draft", "cleared"),
        "request_clearance": manager and status == "draft",
        "decide_clearance": user.has_role(Role.SECURITY_OFFICER, challenge.organization_id)
        and status == "in_clearance",
        "may_clear": challenge.can_clear(user),  # the two-person rule: not the author, requester or an editor
        "publish": manager and status == "cleared",
        "close": manager and status == "open",
        "amend": manager and challenge.shown_status == "open",
        "cancel": manager and "cancelled" in TRANSITIONS.get(status, ()),
    }


def _history(challenge: Challenge) -> list[tuple[AuditEntry, str | None]]:
    rows = db.session.execute(
        select(AuditEntry, User.display_name).outerjoin(User, User.id == AuditEntry.actor_id)
        .where(AuditEntry.entity_type == "challenge", AuditEntry.entity_id == challenge.id)
        .order_by(AuditEntry.id)).all()
    return [(entry, name) for entry, name in rows if audit_action_label(entry.action)]


def render_manage(challenge: Challenge, status: int = 200, *, problems: list[str] | None = None, **forms):
    user = current_user
    amendments = db.session.scalars(select(Amendment).filter_by(challenge_id=challenge.id)
                                    .order_by(Amendment.id.desc())).all()
    question_rows = questions.visible_questions(challenge, user)
    answer_forms = {q.id: AnswerForm(formdata=None, prefix=f"q{q.id}", answer=q.answer) for q in question_rows}
    answer_forms.update(forms.pop("answer_forms", {}))
    defaults = {
        "clearance_form": ClearanceForm(formdata=None),
        "cancel_form": CancelForm(formdata=None),
        "amend_form": AmendForm(formdata=None),
    }
    defaults.update(panels.values("challenge_manage", challenge, user))  # funding, from payments
    defaults.update(forms)
    return render_template(
        "challenges/staff/manage.html", challenge=challenge, actions=possible_actions(challenge, user),
        road=MAIN_ROAD, status_labels=CHALLENGE_STATUS_LABELS, history=_history(challenge),
        amendments=amendments, questions=question_rows, answer_forms=answer_forms, problems=problems or [],
        clearance_refusal=challenge.clearance_refusal(user), action_form=ActionForm(formdata=None), **defaults,
        program=_program_of(challenge),
    ), status


def _program_of(challenge: Challenge):
    from marketplace.programs.models import Program

    return db.session.get(Program, challenge.program_id) if challenge.program_id else None


def _manage_url(challenge: Challenge) -> str:
    return url_for("challenge_staff.manage", challenge_id=challenge.id)


def _on_manage_page(challenge: Challenge, form_name: str | None = None, form=None):
    """How a refused action shows the manage page again: on its form, or with the service's field messages listed."""
    def show(refusal: Refusal):
        if refusal.error is None or form_name is not None:
            return render_manage(challenge, refusal.status, **({form_name: form} if form_name else {}))
        return render_manage(challenge, refusal.status, problems=refusal.problems)
    return show


def manage_action(challenge: Challenge, call, message, *, form=None, form_name: str | None = None,
                   audit_as: str | None = None):
    """Run one manage-page action; refusals named by `audit_as` stay on record in the audit log."""
    record = (lambda error: audit_refusal(audit_as, challenge, current_user, error)) if audit_as else None
    return run_action(call, form=form or ActionForm(), invalid_status=422 if form is not None else 400,
                      success=message, redirect_to=_manage_url(challenge), record_refusal=record,
                      refused=_on_manage_page(challenge, form_name, form))


def button_action(challenge_id: int, service, message: str, audit_as: str | None = None):
    """A button-only action (CSRF checked by ActionForm): `service(challenge, user)`, or the page with why not."""
    challenge = load_for_staff(challenge_id)
    return manage_action(challenge, lambda: service(challenge, current_user), message, audit_as=audit_as)


@bp.post("/staff/challenges/<int:challenge_id>/clearance-request")
@login_required
def request_clearance(challenge_id: int):
    return button_action(challenge_id, services.request_clearance,
                          _("Clearance requested. A security officer of your center will review it."),
                          audit_as="challenge.clearance_request_refused")


@bp.post("/staff/challenges/<int:challenge_id>/clearance")
@login_required
def decide_clearance(challenge_id: int):
    challenge = load_for_staff(challenge_id)
    form = ClearanceForm()
    decision = "approve" if form.approve.data else "reject" if form.reject.data else ""
    return manage_action(
        challenge,
        lambda: services.decide_clearance(challenge, current_user, decision=decision, note=form.note.data or "",
                                          acknowledge_warnings=bool(form.acknowledge_warnings.data)),
        _("Cleared for publication.") if decision == "approve"
        else _("Rejected; the challenge is back in draft with your note."),
        form=form, form_name="clearance_form", audit_as="challenge.clearance_refused")


@bp.post("/staff/challenges/<int:challenge_id>/publish")
@login_required
def publish(challenge_id: int):
    return button_action(challenge_id, services.publish, _("Published. Solvers can now find the challenge."),
                          audit_as="challenge.publication_refused")


@bp.post("/staff/challenges/<int:challenge_id>/close")
@login_required
def close(challenge_id: int):
    return button_action(challenge_id, services.close, _("Closed. No more proposals are accepted."))


@bp.post("/staff/challenges/<int:challenge_id>/cancel")
@login_required
def cancel(challenge_id: int):
    challenge = load_for_staff(challenge_id)
    form = CancelForm()
    return manage_action(challenge, lambda: services.cancel(challenge, current_user, reason=form.reason.data or ""),
                          _("The challenge is cancelled."), form=form, form_name="cancel_form")


@bp.post("/staff/challenges/<int:challenge_id>/amend")
@login_required
def amend(challenge_id: int):
    challenge = load_for_staff(challenge_id)
    form = AmendForm()

    def amend_challenge():
        data = {"note": {challenge.default_locale: (form.note.data or "").strip()}}
        if form.award.data is not None:
            data["award"] = parse_money({"amount": format(form.award.data, "f"), "currency": challenge.award_currency},
                                        field="award")
        if form.deadline.data is not None:
            data["deadline"] = localize_deadline(form.deadline.data, str(user_timezone()))
        amendments.amend(challenge, current_user, data)

    return manage_action(challenge, amend_challenge,
                          _("The amendment is published and mailed to every solver who accepted the agreement."),
                          form=form, form_name="amend_form")


@bp.post("/staff/questions/<int:question_id>/answer")
@login_required
def answer_question(question_id: int):
    question = db.session.get(Question, question_id)
    if question is None:
        raise NotFound(_l("No such question."))
    challenge = load_for_staff(question.challenge_id)
    form = AnswerForm(prefix=f"q{question.id}")
    return run_action(lambda: questions.answer(question, current_user, form.answer.data), form=form,
                      success=_("The answer is published to every solver of this challenge."),
                      redirect_to=_manage_url(challenge),
                      refused=lambda refusal: render_manage(challenge, refusal.status,
                                                            answer_forms={question.id: form}))
