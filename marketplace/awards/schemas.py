"""Request bodies of the awards decision API (decision_api.py)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.api import RowId


class AwardItemIn(ma.Schema):
    proposal_id = RowId(required=True)
    share_pct = ma.fields.Raw(required=True)  # a number or a decimal string, checked exactly by the service


class AwardsIn(ma.Schema):
    awards = ma.fields.List(ma.fields.Nested(AwardItemIn), required=True, validate=validate.Length(max=50))
    reason = ma.fields.String(load_default="")
    feedback_enabled = ma.fields.Boolean(load_default=True)
    # Required while assigned reviews are outstanding (else 409); stored with the decision and audited.
    override_reason = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))
