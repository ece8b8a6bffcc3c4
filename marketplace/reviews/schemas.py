"""Request bodies of the review API (responses are built in presenters.py)."""

from __future__ import annotations

from datetime import UTC

import marshmallow as ma
from marshmallow import validate

from marketplace.api import RowId


class ReviewersIn(ma.Schema):
    user_ids = ma.fields.List(RowId(), required=True, validate=validate.Length(min=1, max=200))


class AssignmentIn(ma.Schema):
    per_proposal = ma.fields.Integer(strict=True, load_default=3)
    max_per_reviewer = ma.fields.Integer(strict=True, load_default=10)
    min_per_reviewer = ma.fields.Integer(strict=True, load_default=0)
    one_per_institution = ma.fields.Boolean(load_default=False)
    due_at = ma.fields.AwareDateTime(default_timezone=UTC, load_default=None, allow_none=True)


class SettingsIn(ma.Schema):
    exclude_same_country = ma.fields.Boolean()
    planned_awards = ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=100))
    review_due_at = ma.fields.AwareDateTime(default_timezone=UTC, allow_none=True)


class AgreementIn(ma.Schema):
    version = ma.fields.String(required=True, validate=validate.Length(max=40))
    accept = ma.fields.Boolean(required=True)


class ReviewIn(ma.Schema):
    # Scores are checked by the service: criterion ids of this challenge, whole numbers 1..10.
    scores = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(allow_none=True), load_default=dict)
    comment = ma.fields.String(load_default=None, allow_none=True)
    recommendation = ma.fields.String(allow_none=True)


class ConflictIn(ma.Schema):
    note = ma.fields.String(load_default="", validate=validate.Length(max=2000))


class ClarificationIn(ma.Schema):
    question = ma.fields.String(required=True)


class AnswerIn(ma.Schema):
    answer = ma.fields.String(required=True)


class ExclusionIn(ma.Schema):
    user_id = RowId(load_default=None)
    email = ma.fields.String(load_default=None, validate=validate.Length(max=254))
    reason = ma.fields.String(load_default="", validate=validate.Length(max=2000))

    @ma.validates_schema
    def one_person(self, data, **kwargs):
        if (data.get("user_id") is None) == (not data.get("email")):
            raise ma.ValidationError("Give either user_id or email.", "user_id")


class RankingArgs(ma.Schema):
    awards = ma.fields.Integer(load_default=None, validate=validate.Range(min=0, max=100))
    bootstrap = ma.fields.Integer(load_default=200, validate=validate.Range(min=0, max=2000))


class SuggestionArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class AwardItemIn(ma.Schema):
    proposal_id = RowId(required=True)
    share_pct = ma.fields.Raw(required=True)  # a number or a decimal string, checked exactly by the service


class AwardsIn(ma.Schema):
    awards = ma.fields.List(ma.fields.Nested(AwardItemIn), required=True, validate=validate.Length(max=50))
    reason = ma.fields.String(load_default="")
    feedback_enabled = ma.fields.Boolean(load_default=True)
    # Required while assigned reviews are outstanding (else 409); stored with the decision and audited.
    override_reason = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))
