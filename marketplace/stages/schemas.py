from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.api import RowId
from marketplace.challenges.schemas import StageIn
from marketplace.money import MoneyField


class StageCriterionOut(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    weight = ma.fields.Integer()


class StageOut(ma.Schema):
    id = ma.fields.Integer()
    position = ma.fields.Integer()
    name = ma.fields.String()
    description = ma.fields.String()
    deadline = ma.fields.String()
    status = ma.fields.String(metadata={"enum": ["upcoming", "open", "judging", "decided"]})
    advance = ma.fields.Integer(allow_none=True)
    award = ma.fields.Dict(allow_none=True)
    final = ma.fields.Boolean()
    criteria = ma.fields.List(ma.fields.Nested(StageCriterionOut))
    advanced = ma.fields.Integer(allow_none=True)
    decided_at = ma.fields.String(allow_none=True)
    names = ma.fields.Dict()
    descriptions = ma.fields.Dict()


class StageListOut(ma.Schema):
    current_stage_id = ma.fields.Integer(allow_none=True)
    items = ma.fields.List(ma.fields.Nested(StageOut))


class StagePlanIn(ma.Schema):
    stages = ma.fields.List(ma.fields.Nested(StageIn), required=True, validate=validate.Length(min=1, max=5))


class MilestoneShareIn(ma.Schema):
    proposal_id = RowId(required=True)
    share_pct = ma.fields.Raw(required=True)  # checked exactly (Decimal) by the service


class AdvanceIn(ma.Schema):
    finalists = ma.fields.List(RowId(), required=True, validate=validate.Length(min=1, max=1000))
    awards = ma.fields.List(ma.fields.Nested(MilestoneShareIn), load_default=list, validate=validate.Length(max=1000))
    override_reason = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))


class MilestoneAwardOut(ma.Schema):
    id = ma.fields.Integer()
    proposal_id = ma.fields.Integer()
    share_pct = ma.fields.String()
    amount = MoneyField()


class AdvanceOut(ma.Schema):
    stage = ma.fields.Nested(StageOut)
    next_stage = ma.fields.Nested(StageOut)
    finalists = ma.fields.List(ma.fields.Integer())
    awards = ma.fields.List(ma.fields.Nested(MilestoneAwardOut))


class StageFiguresItemOut(ma.Schema):
    stage_id = ma.fields.Integer()
    position = ma.fields.Integer()
    name = ma.fields.String()
    status = ma.fields.String()
    proposals = ma.fields.Integer()
    advanced = ma.fields.Integer(allow_none=True)
    advance_rate = ma.fields.String(allow_none=True, metadata={"description": "percent, one decimal"})
    milestone_pool = ma.fields.Dict(allow_none=True)
    milestone_awarded = ma.fields.Dict()
    milestone_paid = ma.fields.Dict()


class StageFiguresOut(ma.Schema):
    challenge_id = ma.fields.Integer()
    currency = ma.fields.String()
    items = ma.fields.List(ma.fields.Nested(StageFiguresItemOut))
