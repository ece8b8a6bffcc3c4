"""Forms of the program pages. They parse; the programs service judges (codes, uniqueness, roles)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

CLASSIFICATIONS = {
    "classified": _l("Classified: only its unclassified sub-problems are ever published"),
    "unclassified": _l("Unclassified"),
}


def parse_requirements(text: str | None) -> list[dict[str, str]]:
    """"R1 Detect defects below 50 nm" per line -> [{"code": "R1", "text": "Detect ..."}].

    A colon or dash after the code is allowed ("R1: ...", "R1 - ..."); blank lines are skipped.
    """
    requirements = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        code, _space, rest = line.partition(" ")
        requirements.append({"code": code.rstrip(":"), "text": rest.strip().lstrip(":-–— ").strip()})
    return requirements


class ProgramForm(FlaskForm):
    organization = SelectField(_l("Innovation center"), coerce=int, validators=[InputRequired()])
    title = StringField(_l("Title"), validators=[Length(max=200)])
    objective = TextAreaField(_l("Objective"), validators=[Length(max=20_000)],
                              description=_l("What the program must achieve once its parts are put together. "
                                             "Internal: never shown outside your center's staff."))
    classification = RadioField(_l("Classification"), default="classified")
    requirements = TextAreaField(_l("Requirements"), validators=[Length(max=100_000)],
                                 description=_l("One requirement per line: a short code, a space, then the text. "
                                                "For example: R1 Detect wafer defects below 50 nm at 100 wafers per "
                                                "hour."))
    submit = SubmitField(_l("Create the program"))

    def __init__(self, *args, organizations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.organization.choices = [(org.id, org.name) for org in organizations]
        self.classification.choices = list(CLASSIFICATIONS.items())


class RequirementForm(FlaskForm):
    code = StringField(_l("Code"), validators=[Length(max=20)], description=_l("Such as R5."))
    text = TextAreaField(_l("Requirement"), validators=[Length(max=4000)])
    submit = SubmitField(_l("Add the requirement"))
