"""Forms of the award pages: they parse what a browser sends; the services judge it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from marketplace.form_bases import with_fields


class AcceptForm(FlaskForm):
    """The winner's acceptance of the IP assignment, of the text version shown."""

    version = StringField(validators=[DataRequired(), Length(max=60)])
    submit = SubmitField(_l("I accept this assignment"))


class DecisionForm(FlaskForm):
    """One share field per eligible proposal is added at request time (share_<proposal id>)."""

    reason = TextAreaField(_l("Reason"), validators=[Length(max=5000)],
                           description=_l("Required for a partial award or no award; kept on record."))
    override_reason = TextAreaField(
        _l("Reason to decide before every review is in"), validators=[Length(max=5000)],
        description=_l("Needed only while assigned reviews are outstanding; audited and shown with the decision."))
    feedback_enabled = BooleanField(_l("Share the reviewers' feedback with every solver"), default=True)
    submit = SubmitField(_l("Decide the awards"))


def decision_form_for(proposals, formdata=None):
    return with_fields(DecisionForm, {
        f"share_{proposal.id}": DecimalField(
            _l("Share of the award for proposal %(id)d (percent)", id=proposal.id), places=2,
            validators=[Optional(), NumberRange(min=0, max=100)])
        for proposal in proposals}, formdata)
