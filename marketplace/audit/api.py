from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import select

from marketplace.api import MAX_DATABASE_ID, PageArgs, login_required_api, page_of, problem
from marketplace.audit.models import AuditEntry
from marketplace.audit.scope import may_read_audit, readable_entries
from marketplace.audit.services import verify_chain
from marketplace.extensions import db

blp = Blueprint("audit_api", __name__, url_prefix="/api/v1", description="Audit log")


class AuditQuery(PageArgs):
    # "kind" or "kind:id"; the id must fit the INTEGER column (a larger one overflows the database).
    entity = ma.fields.String(validate=ma.validate.Regexp(r"^[a-z_]{1,40}(:[1-9]\d{0,9})?$"))

    @ma.validates("entity")
    def entity_id_in_range(self, value, **_kwargs):
        _kind, _sep, ident = value.partition(":")
        if ident.isdigit() and int(ident) > MAX_DATABASE_ID:
            raise ma.ValidationError(str(_l("No entity has this id.")))


class AuditEntryOut(ma.Schema):
    id = ma.fields.Integer()
    created_at = ma.fields.AwareDateTime()
    actor_id = ma.fields.Integer(allow_none=True)
    action = ma.fields.String()
    entity = ma.fields.String()
    data = ma.fields.Dict()
    ip_address = ma.fields.String(allow_none=True)
    organization_id = ma.fields.Integer(allow_none=True)
    prev_hash = ma.fields.String()
    hash = ma.fields.String()


@blp.get("/audit")
@blp.arguments(AuditQuery, location="query")
@login_required_api
def list_entries(args):
    if not may_read_audit(current_user):
        return problem(403, "Forbidden", str(_l("Only administrators and security officers can read the audit log.")))
    # Security officers read their own organizations' trail; administrators read everything.
    statement = readable_entries(select(AuditEntry), current_user).order_by(AuditEntry.id.desc())
    if args.get("entity"):
        kind, _sep, ident = args["entity"].partition(":")
        statement = statement.where(AuditEntry.entity_type == kind)
        if ident:
            statement = statement.where(AuditEntry.entity_id == int(ident))
    return page_of(db.session, statement, args["page"], args["per_page"], AuditEntryOut().dump)


@blp.get("/audit/verify")
@login_required_api
def verify():
    if not may_read_audit(current_user):
        return problem(403, "Forbidden", str(_l("Only administrators and security officers can read the audit log.")))
    report = verify_chain()
    body = {"ok": report.ok, "entries": report.entries}
    if not report.ok:
        body["first_bad_id"] = report.first_bad_id
    return body
