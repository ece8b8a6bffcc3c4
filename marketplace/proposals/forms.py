from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DecimalField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from marketplace.form_bases import with_fields
from marketplace.i18n import LANGUAGES


def _locales():
    return [(code, name) for code, (name, _dir) in LANGUAGES.items()]


class ProposalForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    abstract = TextAreaField(_l("Abstract"), validators=[Length(max=5000)],
                             description=_l("A short summary reviewers read first. Markdown is allowed."))
    body = TextAreaField(_l("Proposal"), validators=[Length(max=200_000)],
                         description=_l("The full proposal. Markdown is allowed; attach files below."))
    locale = SelectField(_l("Language of the proposal"))
    team_emails = StringField(_l("Co-authors (e-mail addresses, separated by commas)"), validators=[Length(max=2600)],
                              description=_l("Each co-author needs an InnoBridge account and gets an invitation."))
    # Optional: the draft and its first file in one step (checked like every upload: type, size, caps).
    file = FileField(_l("Add a file"), validators=[Optional()],
                     description=_l("PDF, images, Office documents, zip, plain text or CSV; at most 25 MB."))
    submit = SubmitField(_l("Save draft"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = _locales()

    def emails(self) -> list[str]:
        return [e.strip() for e in (self.team_emails.data or "").split(",") if e.strip()]


class EditForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    abstract = TextAreaField(_l("Abstract"), validators=[Length(max=5000)])
    body = TextAreaField(_l("Proposal"), validators=[Length(max=200_000)])
    locale = SelectField(_l("Language of the proposal"))
    submit = SubmitField(_l("Save changes"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = _locales()


class UploadForm(FlaskForm):
    file = FileField(_l("Add a file"), validators=[FileRequired()],
                     description=_l("PDF, images, Office documents, zip, plain text or CSV; at most 25 MB."))
    submit = SubmitField(_l("Upload"))


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (submit, withdraw, agree, remove)."""

    confirm = BooleanField(_l("I confirm"), validators=[Optional()])


class InviteForm(FlaskForm):
    email = StringField(_l("E-mail address of the co-author"), validators=[DataRequired(), Email(), Length(max=254)])
    submit = SubmitField(_l("Invite"))


class InvitationForm(FlaskForm):
    decision = HiddenField(validators=[DataRequired()])


class ShareForm(FlaskForm):
    """One share field per accepted member is added at request time."""

    submit = SubmitField(_l("Propose these shares"))


def share_form_for(members, formdata=None):
    return with_fields(ShareForm, {
        f"share_{member.user_id}": DecimalField(
            member.user.display_name if member.user else member.email, places=2,
            validators=[DataRequired(), NumberRange(min=0.01, max=100)], default=member.share_pct)
        for member in members}, formdata)
