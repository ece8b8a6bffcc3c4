"""Staff pages that author a challenge: a new draft and editing it (each language's texts: translation_routes.py).

For center managers of the challenge's organization (the others get 404 or 403). The forms are
turned into the shape challenges.services takes; a service's refusal is shown on the form's fields.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import Organization
from marketplace.challenges import services
from marketplace.challenges.authoring import localize_deadline
from marketplace.challenges.forms import ChallengeForm, NewChallengeForm, split_codes
from marketplace.challenges.models import Challenge
from marketplace.challenges.staff_routes import bp, load_for_staff, local_time, user_timezone
from marketplace.errors import Forbidden, NotFound
from marketplace.extensions import db
from marketplace.page_actions import run_action
from marketplace.permissions import Role
from marketplace.pricing import services as pricing

# Service field names that the form calls differently.
FIELD_ALIASES = {"eligibility": "excluded_countries", "currency": "award_currency"}


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
        "deadline": localize_deadline(form.deadline.data, str(user_timezone())),
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
    form.deadline.data = local_time(challenge.deadline)
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
    if local_time(data["deadline"]) != local_time(challenge.deadline):
        changes["deadline"] = data["deadline"]
    return changes


def _render_form(template_form, challenge: Challenge | None, status: int):
    return render_template("challenges/staff/edit.html", form=template_form, challenge=challenge,
                           timezone=str(user_timezone()), low_high=pricing.premium_range()), status


def _manage_url(challenge: Challenge) -> str:
    return url_for("challenge_staff.manage", challenge_id=challenge.id)


@bp.route("/staff/challenges/new", methods=["GET", "POST"])
@login_required
def new():
    organizations = _managed_organizations()
    form = NewChallengeForm(organizations=organizations, programs=_programs_of(organizations),
                            known_fields=pricing.known_fields())
    if request.method == "GET":
        _prefill_new(form, organizations)
        return _render_form(form, None, 200)
    data = _authoring_data(form) if form.validate_on_submit() else None
    if data is None:
        return _render_form(form, None, 422)
    organization = next(org for org in organizations if org.id == form.organization.data)
    return run_action(lambda: services.create_challenge(organization, current_user, data), form=form, validate=False,
                      aliases=FIELD_ALIASES, success=_("The draft is saved. Request clearance when it is ready."),
                      redirect_to=_manage_url, refused=lambda refusal: _render_form(form, None, refusal.status))


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
    if request.method == "GET":
        _fill_from(form, challenge)
        return _render_form(form, challenge, 200)
    data = None
    if form.validate_on_submit():
        form.program_id.data = challenge.program_id  # the program is chosen once, at creation
        data = _authoring_data(form, challenge)
    if data is None:
        return _render_form(form, challenge, 422)
    changes = _changes(data, challenge)
    if not changes:
        flash(_("Nothing changed."), "info")
        return redirect(_manage_url(challenge))
    saved = (_("Saved. The challenge went back to clearance because it had changed after clearance.")
             if challenge.status == "cleared" else _("Saved."))
    return run_action(lambda: services.update_challenge(challenge, current_user, changes), form=form, validate=False,
                      aliases=FIELD_ALIASES, success=saved, redirect_to=_manage_url(challenge),
                      refused=lambda refusal: _render_form(form, challenge, refusal.status))
