"""API shapes of the expert profile, the expert database, interests, alert settings and notifications.

The schemas check types and sizes; the rules (ORCID checksum, tag vocabulary, dates) live in
the services, so the profile page and the API refuse the same things with the same messages.
"""

from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from marshmallow import validate

from marketplace.api import PageArgs, RowId
from marketplace.solvers import profiles
from marketplace.solvers.models import VISIBILITY_FIELDS


class ResearchEntryIn(ma.Schema):
    year = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True, validate=validate.Length(max=profiles.MAX_TITLE))
    kind = ma.fields.String(required=True, validate=validate.Length(max=20))
    link = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    coauthors = ma.fields.List(ma.fields.String(validate=validate.Length(max=200)), load_default=list,
                               validate=validate.Length(max=profiles.MAX_COAUTHORS))


class AffiliationIn(ma.Schema):
    name = ma.fields.String(required=True, validate=validate.Length(max=200))
    domain = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=253))
    start = ma.fields.String(required=True, validate=validate.Length(max=7))
    end = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=7))


class ProfileIn(ma.Schema):
    """PUT /me/profile. Fields left out keep their stored value (so a client that does not know
    `visibility` never makes a private field public by omission)."""

    headline = ma.fields.String(validate=validate.Length(max=profiles.MAX_HEADLINE))
    bio = ma.fields.String(validate=validate.Length(max=profiles.MAX_LONG_TEXT))
    expertise = ma.fields.List(ma.fields.String(validate=validate.Length(max=200)), validate=validate.Length(max=200))
    orcid = ma.fields.String(allow_none=True, validate=validate.Length(max=60))
    affiliation = ma.fields.String(validate=validate.Length(max=profiles.MAX_AFFILIATION))
    research_history = ma.fields.List(ma.fields.Nested(ResearchEntryIn),
                                      validate=validate.Length(max=profiles.MAX_RESEARCH))
    latest_progress = ma.fields.String(validate=validate.Length(max=profiles.MAX_LONG_TEXT))
    early_career = ma.fields.Boolean()
    languages = ma.fields.List(ma.fields.String(validate=validate.Length(max=35)), validate=validate.Length(max=50))
    visibility = ma.fields.Dict(keys=ma.fields.String(validate=validate.OneOf(VISIBILITY_FIELDS)),
                                values=ma.fields.String(validate=validate.OneOf(("public", "private"))))
    affiliation_history = ma.fields.List(ma.fields.Nested(AffiliationIn),
                                         validate=validate.Length(max=profiles.MAX_AFFILIATIONS))


class ExpertArgs(PageArgs):
    q = ma.fields.String(load_default="", validate=validate.Length(max=200))
    expertise = ma.fields.String(load_default="", validate=validate.Length(max=400))  # comma-separated: all of them
    country = ma.fields.String(load_default="", validate=validate.Length(max=100))  # comma-separated: any of them
    early_career = ma.fields.Boolean(load_default=None, allow_none=True)


class InterestIn(ma.Schema):
    kind = ma.fields.String(required=True, validate=validate.OneOf(("field", "tag", "keyword")))
    value = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))


class InterestQuery(ma.Schema):
    kind = ma.fields.String(required=True, validate=validate.OneOf(("field", "tag", "keyword")))
    value = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))


class InterestOut(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    value = ma.fields.String()
    created_at = ma.fields.AwareDateTime()


class AlertSettingsIn(ma.Schema):
    digest = ma.fields.Boolean(required=True)


class AlertSettingsOut(ma.Schema):
    digest = ma.fields.Boolean()
    last_digest_at = ma.fields.AwareDateTime(allow_none=True)


class NotificationArgs(PageArgs):
    unread = ma.fields.Boolean(load_default=False)


class ReadIn(ma.Schema):
    ids = ma.fields.List(RowId(), load_default=list, validate=validate.Length(max=1000))
    all = ma.fields.Boolean(load_default=False)

    @ma.validates_schema
    def something_to_mark(self, data, **kwargs):
        if not data.get("ids") and not data.get("all"):
            raise ma.ValidationError(str(_l("Send the ids to mark as read, or all: true.")), field_name="ids")
