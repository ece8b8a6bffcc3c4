"""Program pages for a center's staff: the list, a new program, and the composition view.

A program never leaves its organization's staff: anyone else gets 404, whatever the id.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import distinct, func, select

from marketplace.accounts.models import Organization
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.page_actions import run_action
from marketplace.permissions import Role
from marketplace.programs import services
from marketplace.programs.forms import CLASSIFICATIONS, ProgramForm, RequirementForm, parse_requirements
from marketplace.programs.models import Program, Requirement

bp = Blueprint("programs", __name__, template_folder="templates")


def _require_staff() -> None:
    if not current_user.organization_ids():
        raise NotFound(_l("This page is for the staff of an innovation center."))


def _managed_organizations() -> list[Organization]:
    ids = current_user.organization_ids(Role.CENTER_MANAGER)
    return list(db.session.scalars(select(Organization).where(Organization.id.in_(ids or {-1}))
                                   .order_by(Organization.name)))


@bp.route("/programs", methods=["GET", "POST"])
@login_required
def index():
    """The programs of the user's organizations, and (for center managers) a form to start one."""
    _require_staff()
    organizations = _managed_organizations()
    form = ProgramForm(organizations=organizations)
    if request.method == "GET":
        return _index_page(form, organizations)
    if not organizations:
        raise NotFound(_l("Only center managers create programs."))

    def create():
        organization = next(org for org in organizations if org.id == form.organization.data)
        return services.create_program(
            organization, current_user, title=form.title.data or "", objective=form.objective.data or "",
            classification=form.classification.data, requirements=parse_requirements(form.requirements.data))

    return run_action(
        create, form=form,
        success=_("The program is created. Now decompose it: one unclassified challenge per requirement."),
        redirect_to=lambda program: url_for(".detail", program_id=program.id),
        refused=lambda refusal: _index_page(form, organizations, refusal.status))


def _index_page(form: ProgramForm, organizations: list[Organization], status: int = 200):
    from marketplace.challenges.models import Challenge, challenge_requirements

    programs = db.session.scalars(services.programs_for(current_user)).all()
    covered = dict(db.session.execute(
        select(Requirement.program_id, func.count(distinct(Requirement.id)))
        .join(challenge_requirements, challenge_requirements.c.requirement_id == Requirement.id)
        .join(Challenge, Challenge.id == challenge_requirements.c.challenge_id)
        .where(Requirement.program_id.in_([p.id for p in programs] or [-1]), Challenge.status != "cancelled")
        .group_by(Requirement.program_id)).all())
    return render_template("programs/index.html", programs=programs, covered=covered, form=form,
                           can_create=bool(organizations), classifications=CLASSIFICATIONS), status


@bp.get("/programs/<int:program_id>")
@login_required
def detail(program_id: int):
    return render_detail(services.get_visible(program_id, current_user))


def render_detail(program: Program, status: int = 200, requirement_form: RequirementForm | None = None):
    composition = services.composition(program)
    items = composition["requirements"]
    summary = {
        "total": len(items),
        "uncovered": sum(1 for item in items if item["uncovered"]),
        "solved": sum(1 for item in items if item["solved"]),
    }
    return render_template("programs/detail.html", program=program, composition=composition, summary=summary,
                           can_edit=program.can_edit(current_user), classifications=CLASSIFICATIONS,
                           requirement_form=requirement_form or RequirementForm(formdata=None)), status


@bp.post("/programs/<int:program_id>/requirements")
@login_required
def add_requirement(program_id: int):
    program = services.get_visible(program_id, current_user)
    form = RequirementForm()
    return run_action(
        lambda: services.add_requirement(program, current_user, code=(form.code.data or "").strip(),
                                         text=form.text.data or ""), form=form,
        success=lambda requirement: _("Requirement %(code)s added. It is not covered by any challenge yet.",
                                      code=requirement.code),
        redirect_to=lambda requirement: url_for(".detail", program_id=program.id, _anchor=f"req-{requirement.code}"),
        refused=lambda refusal: render_detail(program, refusal.status, form))
