"""Forms of the payment pages: they parse what a browser sends; the services judge it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, DecimalField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from marketplace.challenges.forms import PrefixedForm, finite, optional_int
from marketplace.countries import country_choices
from marketplace.form_bases import GetForm

TAX_FORM_CHOICES = [SelectChoice("none", _l("None: I declare my country of residence")),
                    SelectChoice("W-8BEN", _l("W-8BEN (not a US person)")),
                    SelectChoice("W-9", _l("W-9 (US person)"))]


class PayeeForm(FlaskForm):
    legal_name = StringField(_l("Full legal name"), validators=[DataRequired(), Length(max=200)],
                             description=_l("As on your passport or identity card."))
    residence_country = SelectField(_l("Country of residence"), validators=[DataRequired()])
    confirm_country = BooleanField(_l("Yes, I live in this country, not in the one on my account"))
    date_of_birth = DateField(_l("Date of birth"), validators=[DataRequired()])
    tax_form = SelectField(_l("Tax form"), choices=TAX_FORM_CHOICES, validators=[DataRequired()])
    tax_id = StringField(_l("Taxpayer identification number"), validators=[Optional(), Length(max=60)],
                         description=_l("Required with a W-9; optional otherwise."))
    account_number = StringField(_l("IBAN or account number"), validators=[Optional(), Length(max=60)],
                                 description=_l("Needed when your award is paid by bank wire."))
    swift_bic = StringField(_l("SWIFT/BIC code"), validators=[Optional(), Length(max=20)])
    bank_name = StringField(_l("Bank name"), validators=[Optional(), Length(max=120)])
    submit = SubmitField(_l("Save payee details"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.residence_country.choices = country_choices()


class ActionForm(FlaskForm):
    """A button that changes a state: only the CSRF token travels."""

    submit = SubmitField()


class ReferenceForm(FlaskForm):
    reference = StringField(_l("Bank reference of the wire"), validators=[DataRequired(), Length(max=140)])
    submit = SubmitField(_l("Record the wire"))


class CancelAwardForm(FlaskForm):
    reason = TextAreaField(_l("Why is the award cancelled?"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Cancel the award"))


class JournalForm(GetForm):
    """The ledger page's filters."""

    challenge_id = SelectField(_l("Challenge"), coerce=optional_int, validators=[Optional()])
    kind = SelectField(_l("Movement"), validators=[Optional()])
    account = StringField(_l("Account"), validators=[Optional(), Length(max=80)],
                          description=_l("An account code or its beginning, such as escrow or payable:user:7."))
    since = DateField(_l("First day"), validators=[Optional()])
    until = DateField(_l("Last day"), validators=[Optional()])
    submit = SubmitField(_l("Show"))

    def __init__(self, *args, challenges=(), kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.challenge_id.choices = [(None, _l("All challenges"))] + [
            (challenge_id, f"#{challenge_id} {title}") for challenge_id, title in challenges]
        self.kind.choices = [("", _l("All movements"))] + list(kinds)

    def validate_until(self, field):
        if field.data and self.since.data and self.since.data > field.data:
            raise ValidationError(_l("The first day comes after the last."))


class ReceiptForm(PrefixedForm):
    """A bank receipt of a challenge's funding, on the challenge's manage page."""

    form_prefix = "receipt"

    reference = StringField(_l("Bank reference"), validators=[DataRequired(), Length(max=120)])
    amount = DecimalField(_l("Amount received"), places=None, validators=[InputRequired(), finite])
    received_on = DateField(_l("Received on"), validators=[InputRequired()])
    confirm_overfunding = BooleanField(_l("Record it even if it is more than what is outstanding"))
    submit = SubmitField(_l("Record the receipt"))
