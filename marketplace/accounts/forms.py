from __future__ import annotations

import zoneinfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from marketplace.countries import country_choices
from marketplace.i18n import LANGUAGES


def language_choices() -> list[tuple[str, str]]:
    return [(code, name) for code, (name, _dir) in LANGUAGES.items()]


def timezone_choices() -> list[tuple[str, str]]:
    return [(tz, tz.replace("_", " ")) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz or tz == "UTC"]


class RegisterForm(FlaskForm):
    display_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Email(), Length(max=254)])
    country = SelectField(_l("Country of residence"), validators=[DataRequired()])
    locale = SelectField(_l("Preferred language"))
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)],
                             description=_l("At least 12 characters; avoid common passwords."))
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))])
    submit = SubmitField(_l("Create account"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()
        self.locale.choices = language_choices()


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField(_l("Sign in"))


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Email(), Length(max=254)])
    submit = SubmitField(_l("Send reset link"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))])
    submit = SubmitField(_l("Change password"))


class SettingsForm(FlaskForm):
    display_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    country = SelectField(_l("Country of residence"), validators=[DataRequired()])
    locale = SelectField(_l("Preferred language"))
    timezone = SelectField(_l("Time zone"))
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()
        self.locale.choices = language_choices()
        self.timezone.choices = timezone_choices()


class ResendConfirmationForm(FlaskForm):
    submit = SubmitField(_l("Send the confirmation mail again"))


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=1024)],
                                 description=_l("At least 12 characters; avoid common passwords."))
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(), EqualTo("new_password", message=_l("The passwords do not match."))])
    submit = SubmitField(_l("Change password"))


class EmailChangeForm(FlaskForm):
    new_email = EmailField(_l("New e-mail address"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField(_l("Send confirmation link"))


class RevokeTokenForm(FlaskForm):
    submit = SubmitField(_l("Revoke"))
