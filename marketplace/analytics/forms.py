from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, SubmitField
from wtforms.validators import InputRequired

from marketplace.challenges.forms import finite


class BonusForm(FlaskForm):
    pct = DecimalField(_l("Early-career bonus (percent)"), places=None, validators=[InputRequired(), finite],
                       description=_l("Added to the award of a winner whose profile says early-career; 0 for none. "
                                      "It is part of what must be funded."))
    submit = SubmitField(_l("Save the bonus"))
