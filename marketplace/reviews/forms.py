"""Forms of the review pages. Scores are radio groups named score-<criterion id>, read by the route."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from marketplace.labels import RECOMMENDATION_LABELS


class ActionForm(FlaskForm):
    """A button that needs only the CSRF token."""


class AgreementForm(FlaskForm):
    accept = BooleanField(_l("I have read the reviewer agreement and accept it"), validators=[DataRequired(
        message=_l("Tick the box to accept the agreement."))])
    submit = SubmitField(_l("Accept and continue"))


class AddReviewersForm(FlaskForm):
    people = TextAreaField(_l("Reviewers to add"), validators=[DataRequired(), Length(max=5000)],
                           description=_l("Account e-mail addresses or account numbers, separated by commas or "
                                          "new lines."))
    submit = SubmitField(_l("Add to the pool"))

    def entries(self) -> list[str]:
        raw = (self.people.data or "").replace("\n", ",").replace(";", ",")
        return [part.strip() for part in raw.split(",") if part.strip()]


class SettingsForm(FlaskForm):
    exclude_same_country = BooleanField(_l("Treat the same country as an author's as a conflict"))
    planned_awards = IntegerField(_l("Proposals the center expects to award"), default=1,
                                  validators=[InputRequired(), NumberRange(min=1, max=100)],
                                  description=_l("Sets the award cut in the ranking and its grey zone."))
    review_due_at = DateTimeLocalField(_l("Reviews due"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    submit = SubmitField(_l("Save settings"))


class AssignmentForm(FlaskForm):
    per_proposal = IntegerField(_l("Reviewers per proposal"), default=3,
                                validators=[InputRequired(), NumberRange(min=1, max=10)])
    max_per_reviewer = IntegerField(_l("At most proposals per reviewer"), default=10,
                                    validators=[InputRequired(), NumberRange(min=1, max=500)])
    min_per_reviewer = IntegerField(_l("At least proposals per reviewer"), default=0,
                                    validators=[InputRequired(), NumberRange(min=0, max=500)])
    one_per_institution = BooleanField(_l("At most one reviewer per institution on each proposal"))
    due_at = DateTimeLocalField(_l("Reviews due"), format="%Y-%m-%dT%H:%M", validators=[Optional()],
                                description=_l("Empty: the saved deadline, or three weeks from now."))
    submit = SubmitField(_l("Assign reviewers"))


class ReviewForm(FlaskForm):
    comment = TextAreaField(_l("Comment for the authors"), validators=[Length(max=20_000)],
                            description=_l("The authors read it, without your name. Be specific and kind."))
    recommendation = RadioField(_l("Recommendation"), validators=[Optional()],
                                choices=[SelectChoice(code, text) for code, text in RECOMMENDATION_LABELS.items()])
    save = SubmitField(_l("Save draft"))
    submit = SubmitField(_l("Submit review"))


class ConflictForm(FlaskForm):
    note = TextAreaField(_l("What is the conflict? (seen only by the center's staff)"),
                         validators=[Length(max=2000)])
    submit = SubmitField(_l("Declare a conflict and hand this proposal on"))


class QuestionForm(FlaskForm):
    question = TextAreaField(_l("Your question to the authors"), validators=[DataRequired(), Length(max=4000)],
                             description=_l("The authors will not know who asks; every reviewer of this proposal "
                                            "sees the answer."))
    submit = SubmitField(_l("Send the question"))


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Your answer"), validators=[DataRequired(), Length(max=4000)],
                           description=_l("Every reviewer of your proposal reads it. Do not name yourselves."))
    submit = SubmitField(_l("Send the answer"))


class ExclusionForm(FlaskForm):
    email = StringField(_l("E-mail address of the person to exclude"),
                        validators=[DataRequired(), Email(), Length(max=254)])
    reason = StringField(_l("Why (seen only by the center's staff)"), validators=[Length(max=2000)])
    submit = SubmitField(_l("Exclude"))


def number_or_raw(value: str | None):
    """A form's number as int; an empty field as None; anything else as sent (the service refuses it)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return value
