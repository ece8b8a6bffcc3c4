"""Forms of the result pages. They parse what a browser sends; the services judge it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from marketplace.challenges.forms import locale_choices
from marketplace.form_bases import PublicSearchForm, search_words


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ResultForm(FlaskForm):
    """A result's text in one language, and (in the default language) its IP status and named winners."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    abstract = TextAreaField(_l("Abstract"), validators=[Length(max=20_000)],
                             description=_l("What was found, in words a researcher in the field understands. "
                                            "Public: leave out anything classified or confidential."))
    licence_terms = TextAreaField(_l("Licence terms"), validators=[Length(max=5_000)],
                                  description=_l("How others may use the result, such as “non-exclusive licences "
                                                 "on FRAND terms”."))
    field = StringField(_l("Field"), validators=[DataRequired(), Length(max=60)])
    patent_application = StringField(_l("Patent application number"), validators=[Optional(), Length(max=60)],
                                     description=_l("As the patent office prints it, such as CN202710012345.6. "
                                                    "Leave empty when none was filed."))
    open_for_licensing = BooleanField(_l("Open for licensing"))
    licensing_contact = StringField(_l("Contact for licensing"), validators=[Optional(), Length(max=254)],
                                    description=_l("An e-mail address; shown publicly."))
    named_winner_ids = MultiCheckboxField(_l("Winners to name"), coerce=int,
                                          description=_l("Each winner you name is asked for consent; the result "
                                                         "can be published only once every named winner agreed."))
    submit = SubmitField(_l("Save the result"))

    def __init__(self, *args, winners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.named_winner_ids.choices = [(w.user_id, w.user.display_name) for w in winners]


class NewResultForm(ResultForm):
    locale = SelectField(_l("Language of this text"), validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = locale_choices()


class ConsentForm(FlaskForm):
    consent = SelectField(_l("May the center name you on this result?"), validators=[DataRequired()])
    cited_name = StringField(_l("Your name as it should be cited"), validators=[Optional(), Length(max=200)],
                             description=_l("Such as “Schmidt, Anna”. Leave empty to use your display name."))
    submit = SubmitField(_l("Save my answer"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.consent.choices = [("yes", _l("Yes, name me")), ("no", _l("No, do not name me"))]


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Why is the result withdrawn?"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Withdraw the result"))


class ResultSearchForm(PublicSearchForm):
    """The showcase's search and filters."""

    q = search_words(200, _l("Words in any language, such as “readout circuit” or “传感器”."))
    licensing = SelectField(_l("Licensing"), validators=[Optional()])
    patent = SelectField(_l("Patent"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.licensing.choices = [("", _l("Any")), ("open", _l("Open for licensing")),
                                  ("closed", _l("Not open for licensing"))]
        self.patent.choices = [("", _l("Any")), ("filed", _l("Patent application filed")),
                               ("none", _l("No patent application"))]
