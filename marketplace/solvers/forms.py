"""Forms of the solver pages. The profile form turns its text areas into the API's shape and
hands them to the same service the API uses; the service's messages come back next to the fields."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from marketplace.countries import country_choices
from marketplace.form_bases import GetForm
from marketplace.labels import RESEARCH_KIND_LABELS, profile_field_label
from marketplace.solvers import profiles
from marketplace.solvers.models import VISIBILITY_FIELDS, ExpertProfile
from marketplace.solvers.vocabulary import FIELDS, VOCABULARY, field_label, normalise_tag

LIST_SEPARATOR = ","
COLUMN_SEPARATOR = "|"
COAUTHOR_SEPARATOR = ";"


def _split_list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").replace("，", ",").split(LIST_SEPARATOR) if part.strip()]


def _columns(line: str, count: int) -> list[str]:
    parts = [part.strip() for part in line.split(COLUMN_SEPARATOR)]
    return (parts + [""] * count)[:count] if len(parts) <= count else parts


def _kind_code(text: str) -> str:
    """A research kind from its code or its name in the reader's language ("Patent", "Patentschrift"...)."""
    wanted = text.strip().casefold()
    for code, label in RESEARCH_KIND_LABELS.items():
        if wanted in (code, str(label).casefold()):
            return code
    return wanted


def parse_research(text: str | None) -> tuple[list[dict], list[str]]:
    """Lines "year | kind | title | link | co-author; co-author" -> (entries, problems)."""
    entries, problems = [], []
    for number, line in enumerate((line for line in (text or "").splitlines() if line.strip()), start=1):
        columns = _columns(line, 5)
        if len(columns) > 5:
            problems.append(_("Line %(line)d: use at most five columns separated by |.", line=number))
            continue
        year, kind, title, link, coauthors = columns
        if not year.isdigit():
            problems.append(_("Line %(line)d: start with the year, like 2024 | publication | Title.", line=number))
            continue
        entries.append({"year": int(year), "kind": _kind_code(kind), "title": title, "link": link or None,
                        "coauthors": [name.strip() for name in coauthors.split(COAUTHOR_SEPARATOR) if name.strip()]})
    return entries, problems


def format_research(rows: list[dict]) -> str:
    lines = []
    for row in rows:
        columns = [str(row["year"]), row["kind"], row["title"], row.get("link") or "",
                   f"{COAUTHOR_SEPARATOR} ".join(row.get("coauthors") or ())]
        lines.append(f" {COLUMN_SEPARATOR} ".join(columns).rstrip(f" {COLUMN_SEPARATOR}"))
    return "\n".join(lines)


def parse_affiliations(text: str | None) -> tuple[list[dict], list[str]]:
    """Lines "institution | domain | start YYYY-MM | end YYYY-MM or empty" -> (entries, problems)."""
    entries, problems = [], []
    for number, line in enumerate((line for line in (text or "").splitlines() if line.strip()), start=1):
        columns = _columns(line, 4)
        if len(columns) > 4:
            problems.append(_("Line %(line)d: use at most four columns separated by |.", line=number))
            continue
        name, domain, start, end = columns
        entries.append({"name": name, "domain": domain or None, "start": start, "end": end or None})
    return entries, problems


def format_affiliations(rows: list[dict]) -> str:
    return "\n".join(f" {COLUMN_SEPARATOR} ".join([row["name"], row.get("domain") or "", row["start"],
                                                   row.get("end") or ""]).rstrip(f" {COLUMN_SEPARATOR}")
                     for row in rows)


class ProfileForm(FlaskForm):
    headline = StringField(_l("Headline"), validators=[Optional(), Length(max=profiles.MAX_HEADLINE)],
                           description=_l("One line about your work, e.g. “Analog IC designer, low-noise readout”."))
    bio = TextAreaField(_l("About me"), validators=[Optional(), Length(max=profiles.MAX_LONG_TEXT)],
                        description=_l("Markdown works here: **bold**, *italic*, lists and links."))
    expertise = SelectMultipleField(_l("Expertise from the vocabulary"), validate_choice=True)
    free_tags = StringField(
        _l("Other expertise"), validators=[Optional(), Length(max=2000)],
        description=_l("Tags the vocabulary lacks, separated by commas, e.g. cryo-cmos, spintronics."))
    orcid = StringField(_l("ORCID iD"), validators=[Optional(), Length(max=60)],
                        description=_l("16 digits like 0000-0002-1825-0097; we check its check digit."))
    affiliation = StringField(_l("Current affiliation"), validators=[Optional(), Length(max=profiles.MAX_AFFILIATION)])
    affiliation_history = TextAreaField(
        _l("Affiliation history"), validators=[Optional(), Length(max=20_000)],
        description=_l("One per line: institution | web domain | start YYYY-MM | end YYYY-MM (empty while current). "
                       "Used to avoid conflicts of interest in review."))
    research_history = TextAreaField(
        _l("Research history"), validators=[Optional(), Length(max=200_000)],
        description=_l("One entry per line: year | kind | title | link | co-authors separated by ; "
                       "(kinds: publication, patent, project, grant, thesis, other)."))
    latest_progress = TextAreaField(_l("Latest progress"), validators=[Optional(), Length(max=profiles.MAX_LONG_TEXT)],
                                    description=_l("What you are working on now. Markdown works here."))
    early_career = BooleanField(_l("I am an early-career researcher"),
                                description=_l("A doctoral student, a postdoc, or within about seven years of your "
                                               "doctorate."))
    languages = StringField(_l("Languages spoken"), validators=[Optional(), Length(max=400)],
                            description=_l("Language codes separated by commas, e.g. en, de, zh."))
    private_fields = SelectMultipleField(_l("Keep private (only you and the platform administrators see them)"),
                                         validate_choice=True)
    submit = SubmitField(_l("Save profile"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.expertise.choices = [SelectChoice(tag) for tags in VOCABULARY.values() for tag in tags]
        self.private_fields.choices = [SelectChoice(field, profile_field_label(field)) for field in VISIBILITY_FIELDS]
        self.line_problems: dict[str, list[str]] = {}

    @staticmethod
    def vocabulary() -> list[tuple[str, str, tuple[str, ...]]]:
        return [(code, field_label(code), VOCABULARY.get(code, ())) for code in FIELDS]

    def fill(self, profile: ExpertProfile) -> None:
        controlled = {tag for tags in VOCABULARY.values() for tag in tags}
        self.headline.data, self.bio.data = profile.headline, profile.bio
        self.expertise.data = [tag for tag in profile.expertise or () if tag in controlled]
        self.free_tags.data = ", ".join(tag for tag in profile.expertise or () if tag not in controlled)
        self.orcid.data, self.affiliation.data = profile.orcid or "", profile.affiliation
        self.affiliation_history.data = format_affiliations(profile.affiliation_history or [])
        self.research_history.data = format_research(
            [{"year": e.year, "kind": e.kind, "title": e.title, "link": e.link, "coauthors": e.coauthors}
             for e in profile.research])
        self.latest_progress.data, self.early_career.data = profile.latest_progress, profile.early_career
        self.languages.data = ", ".join(profile.languages or ())
        self.private_fields.data = [field for field in VISIBILITY_FIELDS if not profile.is_public(field)]

    def to_data(self) -> dict | None:
        """The API-shaped profile, or None when a text area could not be read (errors are on the fields)."""
        research, research_problems = parse_research(self.research_history.data)
        affiliations, affiliation_problems = parse_affiliations(self.affiliation_history.data)
        self.research_history.errors = list(self.research_history.errors) + research_problems
        self.affiliation_history.errors = list(self.affiliation_history.errors) + affiliation_problems
        if research_problems or affiliation_problems:
            return None
        free = [normalise_tag(tag) for tag in _split_list(self.free_tags.data)]
        private = set(self.private_fields.data or ())
        return {
            "headline": self.headline.data or "",
            "bio": self.bio.data or "",
            "expertise": list(self.expertise.data or ()) + free,
            "orcid": self.orcid.data or None,
            "affiliation": self.affiliation.data or "",
            "affiliation_history": affiliations,
            "research_history": research,
            "latest_progress": self.latest_progress.data or "",
            "early_career": bool(self.early_career.data),
            "languages": _split_list(self.languages.data),
            "visibility": {field: "private" if field in private else "public" for field in VISIBILITY_FIELDS},
        }

    def show_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Put the service's messages next to the fields; entries of a list get their line number."""
        for key, messages in errors.items():
            name, _dot, rest = key.partition(".")
            index = rest.partition(".")[0]
            target = {"expertise": "free_tags", "visibility": "private_fields"}.get(name, name)
            if target not in self:
                self.form_errors.extend(messages)
                continue
            if index.isdigit():
                messages = [_("Line %(line)d: %(message)s", line=int(index) + 1, message=m) for m in messages]
            self[target].errors = list(self[target].errors) + list(messages)


class ExpertSearchForm(GetForm):
    q = StringField(_l("Words"), validators=[Optional(), Length(max=200)],
                    description=_l("Names, topics, institutions, titles; every word must match."))
    expertise = StringField(_l("Expertise tag"), validators=[Optional(), Length(max=400)])
    country = SelectField(_l("Country"), validators=[Optional()])
    early_career = SelectField(_l("Career stage"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [SelectChoice("", _l("Any country"))] + [
            SelectChoice(code, name) for code, name in country_choices(blank=None)]
        self.expertise.render_kw = {"list": "sv-expertise-tags", "autocomplete": "off"}
        self.early_career.choices = [SelectChoice("", _l("Any")), SelectChoice("yes", _l("Early-career only")),
                                     SelectChoice("no", _l("Established only"))]


class FollowForm(FlaskForm):
    kind = RadioField(_l("Follow"), choices=[SelectChoice("field", _l("A field")),
                                             SelectChoice("tag", _l("An expertise tag")),
                                             SelectChoice("keyword", _l("A keyword"))], default="keyword",
                      validators=[DataRequired()])
    value = StringField(_l("Field, tag or keyword"), validators=[DataRequired(), Length(max=200)],
                        description=_l("e.g. sensors, mems, “readout circuit” or 传感器."))
    submit = SubmitField(_l("Follow"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.value.render_kw = {"list": "sv-follow-suggestions", "autocomplete": "off"}


class DigestForm(FlaskForm):
    digest = RadioField(_l("How should we tell you?"), choices=[
        SelectChoice("no", _l("One e-mail per matching challenge, as soon as it is published")),
        SelectChoice("yes", _l("One digest e-mail with all new matching challenges"))], validators=[DataRequired()])
    save = SubmitField(_l("Save"))


class ActionForm(FlaskForm):
    """A CSRF-protected button (remove, mark as read)."""

    submit = SubmitField(_l("OK"))
