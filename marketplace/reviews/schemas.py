"""Request bodies of the review API (responses are built in presenters.py)."""

from __future__ import annotations

from datetime import UTC

import marshmallow as ma
from marshmallow import validate

from marketplace.api import PageArgs, PageOut, RowId


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


class StageArgs(ma.Schema):
    stage_id = ma.fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1),
                                 metadata={"description": "another stage than the current one"})


class RankingArgs(StageArgs):
    awards = ma.fields.Integer(load_default=None, validate=validate.Range(min=0, max=100))
    bootstrap = ma.fields.Integer(load_default=200, validate=validate.Range(min=0, max=2000))


class SuggestionArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


# --- appeals of provisional scores (appeals_api.py) -----------------------------------------------------

class AppealIn(ma.Schema):
    criterion_id = RowId(required=True)
    reason = ma.fields.String(required=True, metadata={"maxLength": 2000})  # length checked by the service
    review = ma.fields.Integer(strict=True, load_default=None, allow_none=True,
                               metadata={"description": "the reviewer's number in the scores (needed when several "
                                                        "reviewers scored the criterion)"})


class AppealAnswerIn(ma.Schema):
    outcome = ma.fields.String(required=True, validate=validate.OneOf(["upheld", "rescored"]))
    score = ma.fields.Raw(load_default=None, allow_none=True,
                          metadata={"type": "integer", "minimum": 1, "maximum": 10})  # checked like a review's
    response = ma.fields.String(required=True, metadata={"maxLength": 5000})


class AppealListArgs(PageArgs):
    status = ma.fields.String(validate=validate.OneOf(["open", "upheld", "rescored"]))


class AppealOut(ma.Schema):
    id = ma.fields.Integer()
    challenge_id = ma.fields.Integer()
    proposal_id = ma.fields.Integer()
    criterion_id = ma.fields.Integer()
    criterion = ma.fields.String()
    status = ma.fields.String(metadata={"enum": ["open", "upheld", "rescored"]})
    status_label = ma.fields.String()
    reason = ma.fields.String()
    original_score = ma.fields.Integer()
    new_score = ma.fields.Integer(allow_none=True)
    response = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    answer_due_at = ma.fields.AwareDateTime()
    answered_at = ma.fields.AwareDateTime(allow_none=True)
    answered_as = ma.fields.String(allow_none=True)
    review = ma.fields.Integer(metadata={"description": "the reviewer's number (authors only)"})
    review_id = ma.fields.Integer(metadata={"description": "staff and the reviewer only"})
    pseudonym = ma.fields.String(metadata={"description": "staff and the reviewer only"})
    reviewer_id = ma.fields.Integer(metadata={"description": "staff only"})
    appellant_id = ma.fields.Integer(metadata={"description": "staff only"})


class AppealPageOut(PageOut):
    items = ma.fields.List(ma.fields.Nested(AppealOut))


class ReleasedScoresOut(ma.Schema):
    """When a challenge's provisional scores were released and its appeal window closes."""

    challenge_id = ma.fields.Integer()
    released_at = ma.fields.AwareDateTime()
    appeals_close_at = ma.fields.AwareDateTime()


class ScoreReleaseOut(ReleasedScoresOut):
    window_days = ma.fields.Integer()


class ProvisionalScoreOut(ma.Schema):
    review = ma.fields.Integer()
    score = ma.fields.Integer()
    appeal_id = ma.fields.Integer(allow_none=True)


class ProvisionalCriterionOut(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    weight = ma.fields.Integer()
    scores = ma.fields.List(ma.fields.Nested(ProvisionalScoreOut))
    mean = ma.fields.Float(allow_none=True)


class ProvisionalReviewOut(ma.Schema):
    number = ma.fields.Integer()
    scores = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    comment = ma.fields.String()
    recommendation = ma.fields.String(allow_none=True)
    recommendation_label = ma.fields.String()


class ProvisionalScoresOut(ReleasedScoresOut):
    proposal_id = ma.fields.Integer()
    window_open = ma.fields.Boolean()
    raw_score = ma.fields.Float(allow_none=True)
    calibrated_score = ma.fields.Float(allow_none=True)
    criteria = ma.fields.List(ma.fields.Nested(ProvisionalCriterionOut))
    reviews = ma.fields.List(ma.fields.Nested(ProvisionalReviewOut))
    appeals = ma.fields.List(ma.fields.Nested(AppealOut))
