"""Exports API: CSV or XLSX of a challenge's proposals, ranking, payouts and analytics figures, and of a
program's and the platform's figures. Streamed; 404 for anyone not allowed."""

from __future__ import annotations

import marshmallow as ma
from flask_login import current_user
from flask_smorest import Blueprint

from marketplace.api import login_required_api
from marketplace.challenges.models import Challenge
from marketplace.exports import services
from marketplace.extensions import db

blp = Blueprint("exports_api", __name__, url_prefix="/api/v1", description="Exports (CSV, XLSX)")


class FormatArgs(ma.Schema):
    format = ma.fields.String(load_default="csv", validate=ma.validate.OneOf(services.FORMATS))


@blp.get("/exports/challenges/<int:challenge_id>/<any(proposals, ranking, payouts, analytics):kind>")
@blp.arguments(FormatArgs, location="query")
@login_required_api
def challenge_export(args, challenge_id: int, kind: str):
    """proposals and ranking: center managers; payouts: managers and finance officers; analytics: center staff."""
    challenge = db.session.get(Challenge, challenge_id)
    tables = services.challenge_tables(kind, challenge, current_user)
    name = f"challenge-{challenge_id}-{kind}"
    return services.response(tables, args["format"], name, actor=current_user, entity=("challenge", challenge_id))


@blp.get("/exports/programs/<int:program_id>/analytics")
@blp.arguments(FormatArgs, location="query")
@login_required_api
def program_export(args, program_id: int):
    from marketplace.programs.models import Program

    tables = services.program_tables(db.session.get(Program, program_id), current_user)
    return services.response(tables, args["format"], f"program-{program_id}-analytics", actor=current_user,
                             entity=("program", program_id))


@blp.get("/exports/platform/analytics")
@blp.arguments(FormatArgs, location="query")
@login_required_api
def platform_export(args):
    tables = services.platform_tables(current_user)
    return services.response(tables, args["format"], "platform-analytics", actor=current_user,
                             entity=("platform", None))
