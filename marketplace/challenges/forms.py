"""Forms of the challenge pages. They parse what a browser sends; the services judge it.

Type-level checks only (a number, a date, a length the column can hold); every rule about
challenges (weights add up to 100, a future deadline, the premium range, eligibility) is the
service's, and its messages are put next to the fields by `page_actions.show_on_form`.
"""

from __future__ import annotations

import re

from babel.numbers import get_currency_name
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import DateTimeLocalField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, StopValidation

from marketplace.countries import country_choices
from marketplace.form_bases import PublicSearchForm, search_words
from marketplace.i18n import LANGUAGES, current_locale_id, locale_display_name
from marketplace.labels import CHALLENGE_TYPE_LABELS, IP_TERMS_LABELS
from marketplace.money import MAX_AMOUNT

DEADLINE_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
AWARD_CURRENCIES = ("CNY", "USD", "EUR", "GBP", "JPY", "CHF", "KRW", "SGD", "HKD")
CRITERIA_ROWS = 6


def finite(form, field) -> None:
    """Decimal() accepts "NaN" and "Infinity"; no amount or percentage is either."""
    if field.data is not None and not field.data.is_finite():
        raise StopValidation(_l("Enter a number, such as 15 or 12.5."))


def optional_int(value) -> int | None:
    """Coerce a select's value; the empty choice renders as "" or "None"."""
    return int(value) if value not in (None, "", "None") else None


def locale_choices() -> list[tuple[str, str]]:
    return [(code, f"{locale_display_name(code)} ({code})") for code in LANGUAGES]


def currency_choices() -> list[tuple[str, str]]:
    locale = current_locale_id()
    return [(code, f"{code} · {get_currency_name(code, locale=locale)}") for code in AWARD_CURRENCIES]


def split_codes(raw: str | None, *, upper: bool = False) -> list[str]:
    """"KP, ir  SY" -> ["KP", "ir", "SY"] (or upper-cased): comma- or space-separated codes."""
    return [code.upper() if upper else code for code in re.split(r"[\s,;]+", raw or "") if code]


class CriterionRow(Form):
    """One row of the criteria table; a row without a name is ignored."""

    name = StringField(_l("Criterion"), validators=[Optional(), Length(max=200)])
    weight = IntegerField(_l("Weight (percent)"), validators=[Optional()])


class ChallengeForm(FlaskForm):
    """Edit a challenge: texts in its default language, rules, award and eligibility."""

    program_id = SelectField(_l("Program"), coerce=optional_int,
                             description=_l("Internal only: never shown to solvers."))
    requirement_codes = StringField(_l("Requirements covered"), validators=[Length(max=400)],
                                    description=_l("Codes of the program's requirements, such as R1, R3."))
    requirement_codes_public = BooleanField(_l("Solvers may see these requirement codes in the text"),
                                            description=_l("Otherwise a code in the public text stops clearance."))
    default_locale = SelectField(_l("Default language"), validators=[DataRequired()],
                                 description=_l("Solvers whose language is missing see the text in this one."))
    title = StringField(_l("Title"), validators=[Length(max=200)])
    summary = TextAreaField(_l("Summary"), validators=[Length(max=2000)],
                            description=_l("Public: shown in listings and before the agreement."))
    description = TextAreaField(_l("Full description"), validators=[Length(max=50_000)],
                                description=_l("Markdown. Shown only to solvers who accepted the agreement."))
    challenge_type = SelectField(_l("Challenge type"), validators=[DataRequired()])
    field = StringField(_l("Field"), validators=[DataRequired(), Length(max=60)],
                        description=_l("The field decides which benchmark rates set the award."))
    deadline = DateTimeLocalField(_l("Deadline"), format=DEADLINE_FORMATS, validators=[InputRequired()])
    award_currency = SelectField(_l("Award currency"), validators=[DataRequired()])
    premium_pct = DecimalField(_l("Premium over the benchmark (percent)"), places=None, validators=[Optional(), finite])
    criteria = FieldList(FormField(CriterionRow), min_entries=CRITERIA_ROWS, max_entries=12)
    excluded_countries = SelectMultipleField(_l("Excluded countries"), validate_choice=False,
                                             description=_l("Residents of the countries you select may not take "
                                                            "part. The platform's sanctions list always applies."))
    ip_terms = RadioField(_l("Intellectual property"), default="assignment")
    target_trl = SelectField(_l("Target technology readiness level"),
                             coerce=optional_int,
                             description=_l("Reduction-to-practice challenges only: TRL 1 (basic principles) "
                                            "to 9 (proven in operation)."))
    seeker_anonymous = BooleanField(_l("Hide our name from solvers (anonymous seeker)"))
    invite_only = BooleanField(_l("Invite-only (not listed publicly)"))
    submit = SubmitField(_l("Save changes"))

    def __init__(self, *args, programs=(), known_fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.program_id.choices = [(None, _l("No program"))] + [
            (p.id, f"{p.title} · {p.organization.name}") for p in programs]
        self.default_locale.choices = locale_choices()
        self.challenge_type.choices = [(code, label) for code, label in CHALLENGE_TYPE_LABELS.items()]
        self.award_currency.choices = currency_choices()
        self.excluded_countries.choices = country_choices(blank=None)
        self.ip_terms.choices = [(code, label) for code, label in IP_TERMS_LABELS.items()]
        self.target_trl.choices = [(None, _l("Not applicable"))] + [(n, str(n)) for n in range(1, 10)]
        self.field.render_kw = {"list": "known-fields", "autocomplete": "off"}
        self.known_fields = list(known_fields)
        self.section_errors: dict[str, list[str]] = {}  # errors about a group of fields (the criteria)

    def criteria_rows(self) -> list[tuple[str, int | None]]:
        return filled_criteria(self.criteria)


def filled_criteria(criteria) -> list[tuple[str, int | None]]:
    """A FieldList of CriterionRow as (name, weight) pairs; empty rows are dropped (challenge and stage forms)."""
    rows = []
    for row in criteria:
        name = (row.form.name.data or "").strip()
        if name or row.form.weight.data is not None:
            rows.append((name, row.form.weight.data))
    return rows


class NewChallengeForm(ChallengeForm):
    """The edit form plus the organization, which is chosen once."""

    organization = SelectField(_l("Innovation center"), coerce=int, validators=[InputRequired()])
    submit = SubmitField(_l("Save draft"))

    def __init__(self, *args, organizations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.organization.choices = [(org.id, org.name) for org in organizations]


class TranslationForm(FlaskForm):
    """One language's version of a challenge's texts (and its criteria names)."""

    title = StringField(_l("Title"), validators=[Length(max=200)])
    summary = TextAreaField(_l("Summary"), validators=[Length(max=2000)])
    description = TextAreaField(_l("Full description"), validators=[Length(max=50_000)],
                                description=_l("Markdown."))
    criteria = FieldList(StringField(validators=[Length(max=200)]), max_entries=12)
    submit = SubmitField(_l("Save translation"))


class PrefixedForm(FlaskForm):
    """A form that shares its page with others: a prefix keeps every id (the CSRF field's too) unique."""

    form_prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", self.form_prefix)
        super().__init__(*args, **kwargs)


class ActionForm(FlaskForm):
    """A button that changes a state: only the CSRF token travels."""

    submit = SubmitField()


class ClearanceForm(PrefixedForm):
    form_prefix = "clearance"

    note = TextAreaField(_l("Note"), validators=[Length(max=4000)],
                         description=_l("Required when you reject: the author reads it."))
    acknowledge_warnings = BooleanField(_l("I have read the screening warnings and the text may be published"))
    approve = SubmitField(_l("Approve for publication"))
    reject = SubmitField(_l("Reject and return to draft"))


class CancelForm(PrefixedForm):
    form_prefix = "cancel"

    reason = TextAreaField(_l("Reason"), validators=[Length(max=2000)],
                           description=_l("Solvers who accepted the agreement can read it."))
    submit = SubmitField(_l("Cancel the challenge"))


class AmendForm(PrefixedForm):
    form_prefix = "amend"

    award = DecimalField(_l("New award"), places=None, validators=[Optional(), finite],
                         description=_l("Leave empty to keep the award. It may only rise."))
    deadline = DateTimeLocalField(_l("New deadline"), format=DEADLINE_FORMATS, validators=[Optional()],
                                  description=_l("Leave empty to keep the deadline. It may only move later."))
    note = TextAreaField(_l("What changes, and why"), validators=[Length(max=5000)],
                        description=_l("Published in the change log and mailed to every solver who accepted."))
    submit = SubmitField(_l("Publish the amendment"))


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Answer"), validators=[DataRequired(), Length(max=20_000)],
                           description=_l("Public to every solver of this challenge."))
    submit = SubmitField(_l("Publish the answer"))


class AgreementForm(PrefixedForm):
    form_prefix = "agreement"

    version = HiddenField(validators=[DataRequired()])
    accept = BooleanField(_l("I have read this agreement and accept it."),
                          validators=[DataRequired(message=_l("Tick the box to accept the agreement."))])
    submit = SubmitField(_l("Accept and read the full challenge"))


class QuestionForm(PrefixedForm):
    form_prefix = "question"

    text = TextAreaField(_l("Your question"), validators=[DataRequired(), Length(max=4000)],
                         description=_l("Questions and answers are public to every solver; do not include "
                                        "details of your own solution."))
    submit = SubmitField(_l("Ask the center"))


class BrowseForm(PublicSearchForm):
    """The browse page's search and filters."""

    q = search_words(500, _l("Words in any language, such as “wafer inspection” or “传感器”."))
    challenge_type = SelectField(_l("Challenge type"), validators=[Optional()])
    currency = SelectField(_l("Award currency"), validators=[Optional()])
    min_award = DecimalField(_l("Minimum award"), places=None,
                             validators=[Optional(), finite, NumberRange(min=0, max=MAX_AMOUNT)])
    sort = SelectField(_l("Sort by"), validators=[Optional()], default="relevance")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.challenge_type.choices = [("", _l("All types"))] + list(CHALLENGE_TYPE_LABELS.items())
        self.currency.choices = [("", _l("Any currency"))] + [(code, code) for code in AWARD_CURRENCIES]
        self.sort.choices = [("relevance", _l("Relevance")), ("newest", _l("Newest")),
                             ("deadline", _l("Deadline soonest")), ("award", _l("Highest award"))]
