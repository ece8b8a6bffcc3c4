"""Staff pages of challenges: author and translate, clear, fund, publish, close, cancel, amend, answer.

Every page is for the staff of the challenge's organization only (404 for anyone else). Each action
is a POST form that calls one service; a refusal is shown on the manage page with the service's
status (403, 409, 422), and refused clearances and publications stay on record in the audit log.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import Organization, User
from marketplace.audit.models import AuditEntry
from marketplace.challenges import funding, questions, services
from marketplace.challenges.forms import (
    ActionForm,
    AmendForm,
    AnswerForm,
    CancelForm,
    ChallengeForm,
    ClearanceForm,
    NewChallengeForm,
    ReceiptForm,
    TranslationForm,
    show_domain_error,
    split_codes,
)
from marketplace.challenges.models import Amendment, Challenge, FundingReceipt, Question
from marketplace.challenges.refusals import audit_refusal
from marketplace.challenges.routes import bp
from marketplace.challenges.states import TRANSITIONS
from marketplace.content_locales import is_content_locale
from marketplace.errors import DomainError, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.labels import CHALLENGE_STATUS_LABELS, audit_action_label
from marketplace.money import Money, parse_money
from marketplace.permissions import Role
from marketplace.pricing import services as pricing

# Service field names that the form calls differently.
FIELD_ALIASES = {"eligibility": "excluded_countries", "currency": "award_currency"}
# The usual road of a challenge, drawn as the timeline on the manage page.
MAIN_ROAD = ("draft", "in_clearance", "cleared", "open", "closed", "judging", "awarded")


def _user_timezone() -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(current_user.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _local(moment: datetime) -> datetime:
    """An aware UTC time as the naive local time a datetime-local input shows."""
    return moment.astimezone(_user_timezone()).replace(tzinfo=None, second=0, microsecond=0)


def load_for_staff(challenge_id: int) -> Challenge:
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or not challenge.is_staff(current_user):
        raise NotFound(_l("No such challenge."))
    if services.close_if_due(challenge):
        db.session.commit()
    return challenge


def _managed_organizations() -> list[Organization]:
    ids = current_user.organization_ids(Role.CENTER_MANAGER)
    if not ids:
        raise NotFound(_l("This page is for center managers."))
    return list(db.session.scalars(select(Organization).where(Organization.id.in_(ids)).order_by(Organization.name)))


def _programs_of(organizations) -> list:
    from marketplace.programs.models import Program

    return list(db.session.scalars(select(Program).options(selectinload(Program.organization))
                                   .where(Program.organization_id.in_([o.id for o in organizations]))
                                   .order_by(Program.title)))


# --- authoring ------------------------------------------------------------------------------------

def _criteria(form: ChallengeForm, locale: str, existing: Challenge | None) -> list[dict] | None:
    """The criteria rows as the service wants them; other languages' names are kept by position."""
    rows = form.criteria_rows()
    if any(weight is None for _name, weight in rows):
        form.section_errors.setdefault("criteria", []).append(_("Give each criterion a weight."))
        return None
    names = [c.name for c in existing.criteria] if existing else []
    return [{"name": {**(names[i] if i < len(names) else {}), locale: name}, "weight": weight}
            for i, (name, weight) in enumerate(rows)]


def _authoring_data(form: ChallengeForm, existing: Challenge | None = None) -> dict | None:
    """What the form says, in the shape create_challenge and update_challenge take (None: the form is wrong)."""
    locale = form.default_locale.data
    criteria = _criteria(form, locale, existing)
    if criteria is None:
        return None
    return {
        "default_locale": locale,
        "title": {locale: (form.title.data or "").strip()},
        "summary": {locale: (form.summary.data or "").strip()},
        "description": {locale: (form.description.data or "").strip()},
        "challenge_type": form.challenge_type.data,
        "field": form.field.data.strip(),
        "deadline": services.localize_deadline(form.deadline.data, str(_user_timezone())),
        "award_currency": form.award_currency.data,
        "premium_pct": form.premium_pct.data,
        "criteria": criteria,
        "eligibility": {"excluded_countries": sorted(set(form.excluded_countries.data or []))},
        "ip_terms": form.ip_terms.data,
        "target_trl": form.target_trl.data,
        "seeker_anonymous": form.seeker_anonymous.data,
        "invite_only": form.invite_only.data,
        "program_id": form.program_id.data,
        "requirement_codes": split_codes(form.requirement_codes.data),
        "requirement_codes_public": bool(form.requirement_codes_public.data),
    }


def _fill_from(form: ChallengeForm, challenge: Challenge) -> None:
    locale = challenge.default_locale
    form.default_locale.data = locale
    for name in ("title", "summary", "description"):
        form[name].data = challenge.text_map(name).get(locale, "")
    for name in ("challenge_type", "field", "award_currency", "ip_terms", "target_trl", "seeker_anonymous",
                 "invite_only", "program_id", "requirement_codes_public"):
        form[name].data = getattr(challenge, name)
    form.deadline.data = _local(challenge.deadline)
    form.premium_pct.data = challenge.premium_pct.normalize()
    form.excluded_countries.data = list(challenge.excluded_countries)
    form.requirement_codes.data = ", ".join(r.code for r in challenge.requirements)
    for row, criterion in zip(form.criteria, challenge.criteria, strict=False):
        row.form.name.data, row.form.weight.data = criterion.name.get(locale, ""), criterion.weight


def _changes(data: dict, challenge: Challenge) -> dict:
    """Only what differs from the stored challenge, so the audit entry names the fields really changed."""
    current = {
        "default_locale": challenge.default_locale, "challenge_type": challenge.challenge_type,
        "field": challenge.field, "award_currency": challenge.award_currency, "ip_terms": challenge.ip_terms,
        "target_trl": challenge.target_trl, "seeker_anonymous": challenge.seeker_anonymous,
        "invite_only": challenge.invite_only, "premium_pct": challenge.premium_pct,
        "eligibility": {"excluded_countries": sorted(challenge.excluded_countries)},
        "requirement_codes": [r.code for r in challenge.requirements],
        "requirement_codes_public": challenge.requirement_codes_public,
        "criteria": [{"name": c.name, "weight": c.weight} for c in challenge.criteria],
    }
    changes = {key: value for key, value in data.items() if key in current and value != current[key]}
    if data["premium_pct"] is None:  # left empty: keep the stored premium
        changes.pop("premium_pct", None)
    locale = data["default_locale"]
    for name in ("title", "summary", "description"):
        if data[name][locale] != challenge.text_map(name).get(locale, ""):
            changes[name] = data[name]
    if _local(data["deadline"]) != _local(challenge.deadline):
        changes["deadline"] = data["deadline"]
    return changes


def _render_form(template_form, challenge: Challenge | None, status: int):
    return render_template("challenges/staff/edit.html", form=template_form, challenge=challenge,
                           timezone=str(_user_timezone()), low_high=pricing.premium_range()), status


@bp.route("/staff/challenges/new", methods=["GET", "POST"])
@login_required
def new():
    organizations = _managed_organizations()
    form = NewChallengeForm(organizations=organizations, programs=_programs_of(organizations),
                            known_fields=pricing.known_fields())
    status = 200
    if request.method == "GET":
        _prefill_new(form, organizations)
    elif form.validate_on_submit():
        organization = next(org for org in organizations if org.id == form.organization.data)
        data = _authoring_data(form)
        if data is not None:
            try:
                challenge = services.create_challenge(organization, current_user, data)
            except DomainError as error:
                db.session.rollback()
                show_domain_error(form, error, FIELD_ALIASES)
                status = error.status
            else:
                db.session.commit()
                flash(_("The draft is saved. Request clearance when it is ready."), "success")
                return redirect(url_for(".manage", challenge_id=challenge.id))
    if form.errors or form.section_errors:
        status = status if status != 200 else 422
    return _render_form(form, None, status)


def _prefill_new(form: NewChallengeForm, organizations: list[Organization]) -> None:
    """Defaults, and the program and requirement when coming from a program's composition view."""
    program_id = request.args.get("program_id", type=int)
    program = next((p for p in _programs_of(organizations) if p.id == program_id), None)
    organization = next((o for o in organizations if program and o.id == program.organization_id), organizations[0])
    form.organization.data = organization.id
    form.program_id.data = program.id if program else None
    form.requirement_codes.data = request.args.get("requirement", "")[:400] if program else ""
    form.premium_pct.data = organization.premium_pct.normalize()
    form.default_locale.data = current_user.locale if current_user.locale in dict(form.default_locale.choices) \
        else "en"
    form.challenge_type.data, form.award_currency.data = "rtp", "CNY"


@bp.route("/staff/challenges/<int:challenge_id>/edit", methods=["GET", "POST"])
@login_required
def edit(challenge_id: int):
    challenge = load_for_staff(challenge_id)
    if not challenge.can_manage(current_user):
        raise Forbidden(_l("Only center managers of this organization can edit its challenges."))
    form = ChallengeForm(programs=_programs_of([challenge.organization]), known_fields=pricing.known_fields())
    status = 200
    if request.method == "GET":
        _fill_from(form, challenge)
    elif form.validate_on_submit():
        form.program_id.data = challenge.program_id  # the program is chosen once, at creation
        data = _authoring_data(form, challenge)
        if data is not None:
            changes = _changes(data, challenge)
            if not changes:
                flash(_("Nothing changed."), "info")
                return redirect(url_for(".manage", challenge_id=challenge.id))
            was_cleared = challenge.status == "cleared"
            try:
                services.update_challenge(challenge, current_user, changes)
            except DomainError as error:
                db.session.rollback()
                show_domain_error(form, error, FIELD_ALIASES)
                status = error.status
            else:
                db.session.commit()
                flash(_("Saved. The challenge went back to clearance because it had changed after clearance.")
                      if was_cleared else _("Saved."), "success")
                return redirect(url_for(".manage", challenge_id=challenge.id))
    if form.errors or form.section_errors:
        status = status if status != 200 else 422
    return _render_form(form, challenge, status)


@bp.route("/staff/challenges/<int:challenge_id>/texts/<locale>", methods=["GET", "POST"])
@login_required
def translate(challenge_id: int, locale: str):
    """Edit or add one language's title, summary, description and criteria names."""
    challenge = load_for_staff(challenge_id)
    if not is_content_locale(locale):
        raise NotFound(_l("Unknown language code “%(locale)s”. Use a code such as de, ja or zh_Hans.",
                          locale=locale[:20]))
    if not challenge.can_manage(current_user):
        raise Forbidden(_l("Only center managers of this organization can edit its challenges."))
    form = TranslationForm()
    for name in ("title", "summary", "description"):
        form[name].render_kw = {"lang": locale.replace("_", "-")}
    status = 200
    if request.method == "GET":
        for name in ("title", "summary", "description"):
            form[name].data = challenge.text_map(name).get(locale, "")
        for criterion in challenge.criteria:
            form.criteria.append_entry(criterion.name.get(locale, ""))
    elif form.validate_on_submit():
        data = {name: {locale: (form[name].data or "").strip()} for name in ("title", "summary", "description")}
        names = [(entry.data or "").strip() for entry in form.criteria]
        if names and names != [c.name.get(locale, "") for c in challenge.criteria]:
            data["criteria"] = [
                {"name": {**{k: v for k, v in c.name.items() if k != locale}, **({locale: n} if n else {})},
                 "weight": c.weight} for c, n in zip(challenge.criteria, names, strict=False)]
        try:
            services.update_challenge(challenge, current_user, data)
        except DomainError as error:
            db.session.rollback()
            show_domain_error(form, error)
            status = error.status
        else:
            db.session.commit()
            flash(_("The %(language)s text is saved.", language=_language(locale)), "success")
            return redirect(url_for(".manage", challenge_id=challenge.id))
    else:
        status = 422
    return render_template("challenges/staff/translate.html", form=form, challenge=challenge, locale=locale,
                           language=_language(locale)), status


def _language(locale: str) -> str:
    from marketplace.i18n import locale_display_name

    return locale_display_name(locale)


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
        "fund": user.has_role(Role.FINANCE_OFFICER, challenge.organization_id)
        and status in funding.FUNDABLE_STATES and not challenge.funded,
        "publish": manager and status == "cleared",
        "close": manager and status == "open",
        "amend": manager and status == "open",
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
    receipts = [(r, Money(r.amount_minor, r.currency)) for r in db.session.scalars(
        select(FundingReceipt).filter_by(challenge_id=challenge.id).order_by(FundingReceipt.received_on,
                                                                             FundingReceipt.id))]
    amendments = db.session.scalars(select(Amendment).filter_by(challenge_id=challenge.id)
                                    .order_by(Amendment.id.desc())).all()
    question_rows = questions.visible_questions(challenge, user)
    answer_forms = {q.id: AnswerForm(formdata=None, prefix=f"q{q.id}", answer=q.answer) for q in question_rows}
    answer_forms.update(forms.pop("answer_forms", {}))
    defaults = {
        "clearance_form": ClearanceForm(formdata=None),
        "receipt_form": ReceiptForm(formdata=None, amount=Money(
            challenge.funding_target_minor - funding.received_minor(challenge), challenge.award_currency).amount),
        "cancel_form": CancelForm(formdata=None),
        "amend_form": AmendForm(formdata=None),
    }
    defaults.update(forms)
    return render_template(
        "challenges/staff/manage.html", challenge=challenge, actions=possible_actions(challenge, user),
        road=MAIN_ROAD, status_labels=CHALLENGE_STATUS_LABELS, history=_history(challenge),
        received=Money(funding.received_minor(challenge), challenge.award_currency), receipts=receipts,
        amendments=amendments, questions=question_rows, answer_forms=answer_forms, problems=problems or [],
        clearance_refusal=challenge.clearance_refusal(user), action_form=ActionForm(formdata=None), **defaults,
        program=_program_of(challenge),
    ), status


def _program_of(challenge: Challenge):
    from marketplace.programs.models import Program

    return db.session.get(Program, challenge.program_id) if challenge.program_id else None


def _refused(challenge: Challenge, error: DomainError, *, audit_as: str | None = None, form=None,
             form_name: str | None = None):
    """Show a service's refusal on the manage page (with its status); audit it when it must stay on record."""
    if audit_as:
        audit_refusal(audit_as, challenge, current_user, error)
    else:
        db.session.rollback()
    if form is not None and form_name:
        show_domain_error(form, error)
        return render_manage(challenge, error.status, **{form_name: form})
    flash(str(error.detail or error.title), "error")
    details = [f"{field}: {message}" for field, messages in error.errors.items() for message in messages]
    return render_manage(challenge, error.status, problems=details)


def _done(challenge: Challenge, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(".manage", challenge_id=challenge.id))


def _simple_action(challenge_id: int, call, message: str, audit_as: str | None = None):
    """A button-only action (CSRF checked by the form): call the service, or show why not."""
    challenge = load_for_staff(challenge_id)
    if not ActionForm().validate_on_submit():
        return render_manage(challenge, 400)
    try:
        call(challenge)
    except DomainError as error:
        return _refused(challenge, error, audit_as=audit_as)
    return _done(challenge, message)


@bp.post("/staff/challenges/<int:challenge_id>/clearance-request")
@login_required
def request_clearance(challenge_id: int):
    return _simple_action(challenge_id, lambda c: services.request_clearance(c, current_user),
                          _("Clearance requested. A security officer of your center will review it."),
                          audit_as="challenge.clearance_request_refused")


@bp.post("/staff/challenges/<int:challenge_id>/clearance")
@login_required
def decide_clearance(challenge_id: int):
    challenge = load_for_staff(challenge_id)
    form = ClearanceForm()
    if not form.validate_on_submit():
        return render_manage(challenge, 422, clearance_form=form)
    decision = "approve" if form.approve.data else "reject" if form.reject.data else ""
    try:
        services.decide_clearance(challenge, current_user, decision=decision, note=form.note.data or "",
                                  acknowledge_warnings=bool(form.acknowledge_warnings.data))
    except DomainError as error:
        return _refused(challenge, error, audit_as="challenge.clearance_refused", form=form,
                        form_name="clearance_form")
    return _done(challenge, _("Cleared for publication.") if decision == "approve"
                 else _("Rejected; the challenge is back in draft with your note."))


@bp.post("/staff/challenges/<int:challenge_id>/funding")
@login_required
def start_funding(challenge_id: int):
    return _simple_action(challenge_id, lambda c: funding.start_funding(c, current_user),
                          _("Funding requested. Record the bank receipt when the money arrives."))


@bp.post("/staff/challenges/<int:challenge_id>/receipts")
@login_required
def record_receipt(challenge_id: int):
    challenge = load_for_staff(challenge_id)
    form = ReceiptForm()
    if not form.validate_on_submit():
        return render_manage(challenge, 422, receipt_form=form)
    try:
        amount = parse_money({"amount": format(form.amount.data, "f"), "currency": challenge.award_currency})
        funding.record_receipt(challenge, current_user, reference=form.reference.data, amount=amount,
                               received_on=form.received_on.data,
                               confirm_overfunding=form.confirm_overfunding.data)
    except DomainError as error:
        return _refused(challenge, error, form=form, form_name="receipt_form")
    return _done(challenge, _("Receipt recorded. The challenge is funded.") if challenge.funded
                 else _("Receipt recorded. The award is not fully funded yet."))


@bp.post("/staff/challenges/<int:challenge_id>/publish")
@login_required
def publish(challenge_id: int):
    return _simple_action(challenge_id, lambda c: services.publish(c, current_user),
                          _("Published. Solvers can now find the challenge."),
                          audit_as="challenge.publication_refused")


@bp.post("/staff/challenges/<int:challenge_id>/close")
@login_required
def close(challenge_id: int):
    return _simple_action(challenge_id, lambda c: services.close(c, current_user),
                          _("Closed. No more proposals are accepted."))


@bp.post("/staff/challenges/<int:challenge_id>/cancel")
@login_required
def cancel(challenge_id: int):
    challenge = load_for_staff(challenge_id)
    form = CancelForm()
    if not form.validate_on_submit():
        return render_manage(challenge, 422, cancel_form=form)
    try:
        services.cancel(challenge, current_user, reason=form.reason.data or "")
    except DomainError as error:
        return _refused(challenge, error, form=form, form_name="cancel_form")
    return _done(challenge, _("The challenge is cancelled."))


@bp.post("/staff/challenges/<int:challenge_id>/amend")
@login_required
def amend(challenge_id: int):
    challenge = load_for_staff(challenge_id)
    form = AmendForm()
    if not form.validate_on_submit():
        return render_manage(challenge, 422, amend_form=form)
    try:
        data = {"note": {challenge.default_locale: (form.note.data or "").strip()}}
        if form.award.data is not None:
            data["award"] = parse_money({"amount": format(form.award.data, "f"), "currency": challenge.award_currency},
                                        field="award")
        if form.deadline.data is not None:
            data["deadline"] = services.localize_deadline(form.deadline.data, str(_user_timezone()))
        services.amend(challenge, current_user, data)
    except DomainError as error:
        return _refused(challenge, error, form=form, form_name="amend_form")
    return _done(challenge, _("The amendment is published and mailed to every solver who accepted the agreement."))


@bp.post("/staff/questions/<int:question_id>/answer")
@login_required
def answer_question(question_id: int):
    question = db.session.get(Question, question_id)
    if question is None:
        raise NotFound(_l("No such question."))
    challenge = load_for_staff(question.challenge_id)
    form = AnswerForm(prefix=f"q{question.id}")
    if not form.validate_on_submit():
        return render_manage(challenge, 422, answer_forms={question.id: form})
    try:
        questions.answer(question, current_user, form.answer.data)
    except DomainError as error:
        db.session.rollback()
        show_domain_error(form, error)
        return render_manage(challenge, error.status, answer_forms={question.id: form})
    return _done(challenge, _("The answer is published to every solver of this challenge."))


# --- lists for staff -------------------------------------------------------------------------------

def _with_relations(statement):
    return statement.options(selectinload(Challenge.organization), selectinload(Challenge.author))


@bp.get("/staff/challenges")
@login_required
def staff_list():
    """Every challenge of the organizations where the user is staff, newest first."""
    org_ids = current_user.organization_ids()
    if not org_ids:
        raise NotFound(_l("This page is for the staff of an innovation center."))
    wanted = request.args.get("status", "")
    statement = select(Challenge).where(Challenge.organization_id.in_(org_ids))
    if wanted in CHALLENGE_STATUS_LABELS:
        statement = statement.where(Challenge.status == wanted)
    challenges = db.session.scalars(_with_relations(statement).order_by(Challenge.updated_at.desc()).limit(200)).all()
    counts = dict(db.session.execute(select(Challenge.status, func.count()).where(
        Challenge.organization_id.in_(org_ids)).group_by(Challenge.status)).all())
    return render_template("challenges/staff/list.html", challenges=challenges, counts=counts, wanted=wanted,
                           status_labels=CHALLENGE_STATUS_LABELS,
                           can_create=bool(current_user.organization_ids(Role.CENTER_MANAGER)))


@bp.get("/staff/clearance")
@login_required
def clearance_queue():
    """Challenges waiting for a security officer of the user's organizations, oldest request first."""
    org_ids = current_user.organization_ids(Role.SECURITY_OFFICER)
    if not org_ids:
        raise NotFound(_l("This page is for security officers."))
    challenges = db.session.scalars(_with_relations(select(Challenge).where(
        Challenge.organization_id.in_(org_ids), Challenge.status == "in_clearance")).order_by(
        Challenge.updated_at)).all()
    return render_template("challenges/staff/clearance_queue.html", challenges=challenges)


@bp.get("/staff/funding")
@login_required
def funding_queue():
    """Challenges of the user's organizations whose award is not yet held, with what has arrived."""
    org_ids = current_user.organization_ids(Role.FINANCE_OFFICER)
    if not org_ids:
        raise NotFound(_l("This page is for finance officers."))
    challenges = db.session.scalars(_with_relations(select(Challenge).where(
        Challenge.organization_id.in_(org_ids), Challenge.status.in_(funding.FUNDABLE_STATES),
        Challenge.funded.is_(False))).order_by(Challenge.deadline)).all()
    received = dict(db.session.execute(
        select(FundingReceipt.challenge_id, func.sum(FundingReceipt.amount_minor))
        .where(FundingReceipt.challenge_id.in_([c.id for c in challenges] or [-1]))
        .group_by(FundingReceipt.challenge_id)).all())
    rows = [(c, Money(int(received.get(c.id, 0)), c.award_currency)) for c in challenges]
    return render_template("challenges/staff/funding_queue.html", rows=rows)

