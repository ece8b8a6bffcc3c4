from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.accounts import services
from marketplace.countries import country_problems


def rule(check):
    """Turn one of the services' `*_problems` functions into a marshmallow validator."""

    def validator(value):
        problems = check(value)
        if problems:
            raise ma.ValidationError(problems)

    return validator


class PasswordRule(ma.Schema):
    @ma.validates_schema(skip_on_field_errors=False)
    def password_policy(self, data, **kwargs):
        if "password" in data:
            problems = services.password_problems(data["password"], data.get("email"))
            if problems:
                raise ma.ValidationError(problems, field_name="password")


class RegisterIn(PasswordRule):
    email = ma.fields.Email(required=True, validate=validate.Length(max=254))
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(max=1024))
    display_name = ma.fields.String(required=True, validate=rule(services.name_problems))
    country = ma.fields.String(required=True, validate=rule(country_problems))
    locale = ma.fields.String(load_default="en", validate=rule(services.locale_problems))
    timezone = ma.fields.String(load_default="UTC", validate=validate.Length(max=64))


class TokenIn(ma.Schema):
    email = ma.fields.String(required=True, validate=validate.Length(max=254))
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(max=1024))


class TokenOut(ma.Schema):
    token = ma.fields.String()
    expires_at = ma.fields.AwareDateTime()


class ConfirmIn(ma.Schema):
    token = ma.fields.String(required=True, validate=validate.Length(max=2000))


class ResetRequestIn(ma.Schema):
    email = ma.fields.String(required=True, validate=validate.Length(max=254))


class ResetIn(ma.Schema):  # the password policy needs the account: checked by the service
    token = ma.fields.String(required=True, validate=validate.Length(max=2000))
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(max=1024))


class RoleOut(ma.Schema):
    role = ma.fields.String()
    organization = ma.fields.Function(lambda grant: grant.organization.slug if grant.organization else None)


class UserOut(ma.Schema):
    id = ma.fields.Integer()
    email = ma.fields.String()
    display_name = ma.fields.String()
    country = ma.fields.String()
    locale = ma.fields.String()
    timezone = ma.fields.String()
    email_confirmed = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()
    roles = ma.fields.Method("all_roles")

    def all_roles(self, user):
        # Everyone is a solver; the stored grants add staff roles.
        return [{"role": "solver", "organization": None}] + RoleOut(many=True).dump(user.roles)


class SettingsIn(ma.Schema):
    display_name = ma.fields.String(required=True, validate=rule(services.name_problems))
    country = ma.fields.String(required=True, validate=rule(country_problems))
    locale = ma.fields.String(required=True, validate=rule(services.locale_problems))
    timezone = ma.fields.String(required=True, validate=validate.Length(max=64))


class OrganizationIn(ma.Schema):
    slug = ma.fields.String(required=True, validate=validate.Length(min=3, max=60))
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    country = ma.fields.String(required=True, validate=rule(country_problems))
    premium_pct = ma.fields.Decimal(load_default=None, as_string=True, allow_nan=False)


class OrganizationOut(ma.Schema):
    id = ma.fields.Integer()
    slug = ma.fields.String()
    name = ma.fields.String()
    country = ma.fields.String()
    premium_pct = ma.fields.Decimal(as_string=True)


class ApiTokenOut(ma.Schema):
    id = ma.fields.Integer()
    created_at = ma.fields.AwareDateTime()
    last_used_at = ma.fields.AwareDateTime(allow_none=True)
    expires_at = ma.fields.AwareDateTime()
    current = ma.fields.Boolean()


class PasswordChangeIn(ma.Schema):  # the policy needs the account: checked by the service
    current_password = ma.fields.String(required=True, load_only=True, validate=validate.Length(max=1024))
    new_password = ma.fields.String(required=True, load_only=True, validate=validate.Length(max=1024))


class EmailChangeIn(ma.Schema):
    new_email = ma.fields.String(required=True, validate=validate.Length(max=254))
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(max=1024))


class EmailChangeOut(ma.Schema):
    pending_email = ma.fields.String()
