from __future__ import annotations

import marshmallow as ma
from flask_login import current_user
from flask_smorest import Blueprint

from marketplace.accounts.services import staffed_organization
from marketplace.api import PageArgs, login_required_api, page_of
from marketplace.extensions import db
from marketplace.programs import services

blp = Blueprint("programs_api", __name__, url_prefix="/api/v1", description="Programs (internal)")


class RequirementIn(ma.Schema):
    code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=20))
    text = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=4000))


class ProgramIn(ma.Schema):
    organization = ma.fields.String(required=True)
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    objective = ma.fields.String(load_default="", validate=ma.validate.Length(max=20000))
    classification = ma.fields.String(required=True, validate=ma.validate.OneOf(["classified", "unclassified"]))
    requirements = ma.fields.List(ma.fields.Nested(RequirementIn), load_default=list,
                                  validate=ma.validate.Length(max=200))


class RequirementOut(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    text = ma.fields.String()


class ProgramOut(ma.Schema):
    id = ma.fields.Integer()
    organization = ma.fields.Function(lambda p: p.organization.slug)
    title = ma.fields.String()
    objective = ma.fields.String()
    classification = ma.fields.String()
    requirements = ma.fields.List(ma.fields.Nested(RequirementOut))
    created_at = ma.fields.AwareDateTime()


@blp.post("/programs")
@blp.arguments(ProgramIn)
@blp.response(201, ProgramOut)
@login_required_api
def create_program(data):
    organization = staffed_organization(data.pop("organization"), current_user)
    program = services.create_program(organization, current_user, **data)
    db.session.commit()
    return program


@blp.get("/programs")
@blp.arguments(PageArgs, location="query")
@login_required_api
def list_programs(args):
    return page_of(db.session, services.programs_for(current_user), args["page"], args["per_page"],
                   ProgramOut().dump)


@blp.get("/programs/<int:program_id>")
@blp.response(200, ProgramOut)
@login_required_api
def get_program(program_id: int):
    return services.get_visible(program_id, current_user)


@blp.post("/programs/<int:program_id>/requirements")
@blp.arguments(RequirementIn)
@blp.response(201, RequirementOut)
@login_required_api
def add_requirement(data, program_id: int):
    program = services.get_visible(program_id, current_user)
    requirement = services.add_requirement(program, current_user, **data)
    db.session.commit()
    return requirement


@blp.get("/programs/<int:program_id>/composition")
@login_required_api
def composition(program_id: int):
    return services.composition(services.get_visible(program_id, current_user))
