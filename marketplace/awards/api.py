"""Awards API: an award as its solvers and its center see it, and each solver's IP assignment."""

from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import select

from marketplace.api import login_required_api
from marketplace.awards import ip_assignment
from marketplace.awards.models import Award, AwardRecipient
from marketplace.awards.presenters import award_json
from marketplace.errors import ValidationFailed
from marketplace.extensions import db

blp = Blueprint("awards_api", __name__, url_prefix="/api/v1", description="Awards and IP assignment")


class IpAssignmentIn(ma.Schema):
    accept = ma.fields.Boolean(required=True)
    version = ma.fields.String(load_default=None)


@blp.get("/awards/<int:award_id>")
@login_required_api
def get_award(award_id: int):
    award = ip_assignment.get_visible(award_id, current_user)
    return award_json(award, current_user)


@blp.get("/awards/<int:award_id>/ip-assignment")
@login_required_api
def get_ip_assignment(award_id: int):
    """The text to accept (for a recipient), and what was accepted."""
    award = ip_assignment.get_visible(award_id, current_user)
    recipient = ip_assignment.recipient_of(award, current_user)
    body = {"version": ip_assignment.text_version(ip_assignment.award_challenge(award)),
            "ip_assigned": award.ip_assigned}
    if recipient is not None:
        body.update({
            "text": recipient.ip_text if recipient.ip_accepted_at else ip_assignment.assignment_text(award, recipient),
            "accepted": recipient.ip_accepted_at is not None,
            "accepted_at": recipient.ip_accepted_at and recipient.ip_accepted_at.isoformat(),
            "accepted_version": recipient.ip_text_version,
        })
    return body


@blp.post("/awards/<int:award_id>/ip-assignment")
@blp.arguments(IpAssignmentIn)
@login_required_api
def accept_ip_assignment(data, award_id: int):
    award = ip_assignment.get_visible(award_id, current_user)
    if data["accept"] is not True:
        raise ValidationFailed(_l("Send accept: true to accept the assignment."),
                               errors={"accept": [_l("Send true to accept the assignment.")]})
    recipient, created = ip_assignment.accept(award, current_user, version=data["version"])
    db.session.commit()
    return {"award_id": award.id, "recipient_id": recipient.id, "accepted": True,
            "accepted_at": recipient.ip_accepted_at.isoformat(), "version": recipient.ip_text_version,
            "text": recipient.ip_text, "ip_assigned": award.ip_assigned}, 201 if created else 200


@blp.get("/me/awards")
@login_required_api
def my_awards():
    awards = db.session.scalars(select(Award).join(AwardRecipient, AwardRecipient.award_id == Award.id)
                                .where(AwardRecipient.user_id == current_user.id).order_by(Award.id.desc())).all()
    return {"items": [award_json(a, current_user) for a in awards]}
