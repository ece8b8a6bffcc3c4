from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.api import RowId
from marketplace.challenges.authoring import IP_TERMS
from marketplace.content_locales import LocalizedText
from marketplace.money import MAX_AMOUNT, CurrencyField, MoneyField
from marketplace.pricing.services import CHALLENGE_TYPES


class CriterionIn(ma.Schema):
    name = LocalizedText(max_length=200, required=True)
    weight = ma.fields.Integer(required=True, strict=True)


class AppealsIn(ma.Schema):
    window_days = ma.fields.Integer(strict=True, load_default=3, validate=validate.Range(min=1, max=30))


class EligibilityIn(ma.Schema):
    excluded_countries = ma.fields.List(ma.fields.String(validate=validate.Length(equal=2)), load_default=list,
                                        validate=validate.Length(max=250))


class StageIn(ma.Schema):
    name = LocalizedText(max_length=200, load_default=dict)
    description = LocalizedText(max_length=5000, load_default=dict)  # what the stage expects
    deadline = ma.fields.DateTime(required=True)
    criteria = ma.fields.List(ma.fields.Nested(CriterionIn), required=True, validate=validate.Length(min=1, max=12))
    award = MoneyField(load_default=None, allow_none=True)  # the stage's milestone pool
    advance = ma.fields.Integer(strict=True, load_default=None, allow_none=True)


class ChallengeBase(ma.Schema):
    program_id = RowId(allow_none=True)
    requirement_codes = ma.fields.List(ma.fields.String(validate=validate.Length(max=20)),
                                       validate=validate.Length(max=100))
    requirement_codes_public = ma.fields.Boolean()  # show the program's requirement codes in public text
    default_locale = ma.fields.String(validate=validate.Length(max=16))
    title = LocalizedText(max_length=200)
    summary = LocalizedText(max_length=2000)
    description = LocalizedText(max_length=50_000)
    challenge_type = ma.fields.String(validate=validate.OneOf(CHALLENGE_TYPES))
    field = ma.fields.String(validate=validate.Length(min=1, max=60))
    deadline = ma.fields.DateTime()
    award_currency = CurrencyField()
    premium_pct = ma.fields.Decimal(allow_nan=False)
    criteria = ma.fields.List(ma.fields.Nested(CriterionIn), validate=validate.Length(max=12))
    eligibility = ma.fields.Nested(EligibilityIn)
    seeker_anonymous = ma.fields.Boolean()
    invite_only = ma.fields.Boolean()
    ip_terms = ma.fields.String(validate=validate.OneOf(IP_TERMS))
    target_trl = ma.fields.Integer(allow_none=True, strict=True)
    appeals = ma.fields.Nested(AppealsIn, allow_none=True)  # {"window_days": N}; null: no appeals


class ChallengeCreateIn(ChallengeBase):
    organization = ma.fields.String(required=True)
    # Ordered; without it, one stage made of `deadline` and `criteria`.
    stages = ma.fields.List(ma.fields.Nested(StageIn), validate=validate.Length(min=1, max=5))

    class Meta:
        # These are required on create; PATCH takes any subset.
        required_on_create = ("default_locale", "title", "summary", "challenge_type", "field", "deadline",
                              "award_currency", "criteria")

    @ma.validates_schema
    def required_fields(self, data, **kwargs):
        staged = ("deadline", "criteria") if data.get("stages") else ()  # each stage has its own
        missing = [f for f in self.Meta.required_on_create if f not in data and f not in staged]
        if missing:
            raise ma.ValidationError({f: ["Missing data for required field."] for f in missing})


class ChallengePatchIn(ChallengeBase):
    pass


class AmendmentIn(ma.Schema):
    note = LocalizedText(max_length=5000, required=True)
    award = MoneyField()
    deadline = ma.fields.DateTime()
    title = LocalizedText(max_length=200)
    summary = LocalizedText(max_length=2000)
    description = LocalizedText(max_length=50_000)
    criteria = ma.fields.List(ma.fields.Nested(CriterionIn), validate=validate.Length(min=1, max=12))


class ClearanceIn(ma.Schema):
    decision = ma.fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    note = ma.fields.String(load_default="", validate=validate.Length(max=4000))
    acknowledge_warnings = ma.fields.Boolean(load_default=False)  # the screening's warnings were read


class AgreementIn(ma.Schema):
    version = ma.fields.String(required=True, validate=validate.Length(max=60))
    accept = ma.fields.Boolean(required=True)


class QuestionIn(ma.Schema):
    text = ma.fields.String(required=True, validate=validate.Length(min=1, max=4000))


class AnswerIn(ma.Schema):
    answer = ma.fields.String(required=True, validate=validate.Length(min=1, max=20000))


class CancelIn(ma.Schema):
    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ListArgs(ma.Schema):
    q = ma.fields.String(load_default="", validate=validate.Length(max=500))
    field = ma.fields.String(validate=validate.Length(max=60))
    challenge_type = ma.fields.String(validate=validate.OneOf(CHALLENGE_TYPES))
    # Bounded: a huge amount cannot be quantized to minor units (decimal.InvalidOperation, a 500).
    # metadata: apispec would render the Decimal bounds as strings, an invalid OpenAPI document.
    min_award = ma.fields.Decimal(allow_nan=False, validate=validate.Range(min=0, max=MAX_AMOUNT),
                                  metadata={"minimum": 0, "maximum": MAX_AMOUNT})
    currency = CurrencyField()
    locale = ma.fields.String(validate=validate.Length(max=16))
    sort = ma.fields.String(load_default="relevance",
                            validate=validate.OneOf(["relevance", "newest", "deadline", "award"]))
    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000))
    per_page = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    # Keyset paging: the `next_cursor` of the previous page (any depth; `page` then only labels the page).
    cursor = ma.fields.String(validate=validate.Length(max=200))


# --- what GET /challenges/{id} answers (documentation of the public facts; the presenter builds it) -------

class OpenOut(ma.Schema):
    """Documents an answer without closing it: more fields may come (staff, other features), additionalProperties."""

    class Meta:
        unknown = ma.INCLUDE


class MoneyOut(OpenOut):
    amount = ma.fields.String(metadata={"description": "decimal string with the currency's minor digits"})
    currency = ma.fields.String()


class CriterionOut(OpenOut):
    id = ma.fields.Integer()
    name = ma.fields.String(metadata={"description": "in the shown locale"})
    weight = ma.fields.Integer(metadata={"description": "percent; the weights add up to 100"})


class EligibilityOut(OpenOut):
    excluded_countries = ma.fields.List(ma.fields.String())
    sanctioned_countries = ma.fields.List(ma.fields.String())
    in_words = ma.fields.List(ma.fields.String(), metadata={
        "description": "who may take part, as sentences in the negotiated language"})


class SeekerOut(OpenOut):
    slug = ma.fields.String()
    name = ma.fields.String()


class ChallengePublicOut(OpenOut):
    """The public facts every caller gets; `description` only after the agreement (and for staff)."""

    id = ma.fields.Integer()
    status = ma.fields.String()
    funded = ma.fields.Boolean()
    award = ma.fields.Nested(MoneyOut)
    deadline = ma.fields.DateTime(metadata={"description": "the current stage's deadline"})
    deadline_note = ma.fields.String(metadata={
        "description": "time left while open, else closed/awarded with the date, in the negotiated language"})
    closed_at = ma.fields.DateTime(allow_none=True)
    decided_at = ma.fields.DateTime(allow_none=True, metadata={"description": "when the awards were decided"})
    default_locale = ma.fields.String()
    available_locales = ma.fields.List(ma.fields.String())
    locale = ma.fields.String(metadata={"description": "the locale of title, summary and criteria names"})
    title = ma.fields.String()
    summary = ma.fields.String()
    description = ma.fields.String(metadata={"description": "only after accepting the agreement, and for staff"})
    challenge_type = ma.fields.String()
    field = ma.fields.String()
    target_trl = ma.fields.Integer(allow_none=True)
    ip_terms = ma.fields.String()
    ip_terms_text = ma.fields.String(metadata={"description": "the IP terms in plain words"})
    criteria = ma.fields.List(ma.fields.Nested(CriterionOut), metadata={"description": "the current stage's"})
    stages = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "ordered: id, position, name, deadline, status (upcoming|open|judging|decided), advance, "
                       "award (milestone pool; the final award on the last stage), criteria"})
    current_stage_id = ma.fields.Integer(allow_none=True)
    eligibility = ma.fields.Nested(EligibilityOut)
    seeker = ma.fields.Nested(SeekerOut, allow_none=True, metadata={"description": "null when anonymous"})
    agreement_version = ma.fields.String(allow_none=True)
    agreement_accepted = ma.fields.Boolean()
    premium_pct = ma.fields.String()
    published_at = ma.fields.DateTime(allow_none=True)
