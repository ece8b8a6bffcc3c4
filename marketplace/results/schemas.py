from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.api import PageArgs, RowId
from marketplace.challenges.schemas import ChallengeBase
from marketplace.content_locales import LocalizedText


class ResultIn(ma.Schema):
    default_locale = ma.fields.String(validate=validate.Length(max=16))
    title = LocalizedText(max_length=300)
    abstract = LocalizedText(max_length=20_000)
    licence_terms = LocalizedText(max_length=5_000)
    field = ma.fields.String(validate=validate.Length(min=1, max=60))
    patent_application = ma.fields.String(allow_none=True, validate=validate.Length(max=60))
    open_for_licensing = ma.fields.Boolean()
    licensing_contact = ma.fields.String(validate=validate.Length(max=254))
    named_winner_ids = ma.fields.List(RowId(), validate=validate.Length(max=100))


class ResultListArgs(PageArgs):
    q = ma.fields.String(validate=validate.Length(max=200))
    field = ma.fields.String(validate=validate.Length(max=60))
    organization = ma.fields.String(validate=validate.Length(max=60))
    licensing = ma.fields.String(validate=validate.OneOf(("open", "closed")))
    patent = ma.fields.String(validate=validate.OneOf(("filed", "none")))
    locale = ma.fields.String(validate=validate.Length(max=16))


class ConsentIn(ma.Schema):
    consent = ma.fields.Boolean(required=True)
    cited_name = ma.fields.String(validate=validate.Length(max=200))


class WithdrawIn(ma.Schema):
    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=2000))


class FollowOnIn(ChallengeBase):
    """Anything a center wants different from the prefilled follow-on (all optional)."""
