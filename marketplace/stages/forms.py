"""Forms of the manager's stage pages. They parse what a browser sends; stages.services judges it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import DateTimeLocalField
from wtforms.validators import InputRequired, Length, Optional

from marketplace.challenges.forms import DEADLINE_FORMATS, CriterionRow, filled_criteria, finite
from marketplace.stages.services import MAX_DESCRIPTION, MAX_NAME, MAX_STAGES

CRITERIA_ROWS = 4  # empty rows shown per stage; a stage may have up to 12 criteria


class StageRow(Form):
    """One stage of the plan, in the challenge's default language. `source` is the id of the stored stage the row
    came from, so its other languages' texts stay with it when stages are added or removed around it."""

    source = HiddenField()
    name = StringField(_l("Stage name"), validators=[Optional(), Length(max=MAX_NAME)])
    description = TextAreaField(_l("What is expected"), validators=[Optional(), Length(max=MAX_DESCRIPTION)],
                                description=_l("What the proposals of this stage deliver; finalists are told "
                                               "it when they are invited."))
    deadline = DateTimeLocalField(_l("Deadline"), format=DEADLINE_FORMATS, validators=[InputRequired()])
    advance = IntegerField(_l("How many proposals advance"), validators=[Optional()])
    award = DecimalField(_l("Milestone award pool (optional)"), places=None, validators=[Optional(), finite],
                         description=_l("Split among the finalists of this stage when it is decided."))
    criteria = FieldList(FormField(CriterionRow), min_entries=CRITERIA_ROWS, max_entries=12)
    remove = SubmitField(_l("Remove this stage"))

    def criteria_rows(self) -> list[tuple[str, int | None]]:
        return filled_criteria(self.criteria)


class StagePlanForm(FlaskForm):
    stages = FieldList(FormField(StageRow), min_entries=1, max_entries=MAX_STAGES)
    add_stage = SubmitField(_l("Add a stage"))
    submit = SubmitField(_l("Save the stage plan"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.section_errors: dict[str, list[str]] = {}  # errors about a stage's criteria table, by its id

    def removed_index(self) -> int | None:
        return next((i for i, row in enumerate(self.stages) if row.form.remove.data), None)


class AdvanceForm(FlaskForm):
    """The finalists (checkboxes), their milestone shares (share_<id>, added per proposal) and the override reason.
    `summary_of` holds the choice the confirmation text was written for: a changed choice is summarised again
    before anything happens."""

    finalists = SelectMultipleField(_l("Finalists"), coerce=int, validate_choice=False)
    override_reason = TextAreaField(_l("Reason to advance before every review is in"),
                                    validators=[Optional(), Length(max=5000)],
                                    description=_l("Needed only while assigned reviews are outstanding; audited."))
    summary_of = HiddenField()
    preview = SubmitField(_l("Update the summary"))
    submit = SubmitField(_l("Advance the stage"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.section_errors: dict[str, list[str]] = {}  # "shares": errors about the split as a whole

    def share(self, proposal_id: int):
        return self._fields.get(f"share_{proposal_id}")


def advance_form_for(proposal_ids: list[int], *, pool: bool, formdata=None, **data) -> AdvanceForm:
    """The advance form with one share field per proposal of the stage when the stage has a milestone pool."""
    class _Advance(AdvanceForm):
        pass

    if pool:
        for pid in proposal_ids:
            setattr(_Advance, f"share_{pid}", DecimalField(
                _l("Share of the milestone award for proposal %(id)d (percent)", id=pid), places=None,
                validators=[Optional(), finite]))
    return _Advance(formdata=formdata, **data)
