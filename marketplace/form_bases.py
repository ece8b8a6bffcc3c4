"""Form pieces the feature packages share: the bases of forms sent with GET (they only read: search, filter,
page a list, so no CSRF token), and forms whose fields are known only at request time."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SearchField, SelectField
from wtforms.validators import Length, NumberRange, Optional


def search_words(max_length: int, example) -> SearchField:
    """The words of a public search (`q`): optional, in any language; `example` says what one may type."""
    return SearchField(_l("Search"), validators=[Optional(), Length(max=max_length)], description=example)


class GetForm(FlaskForm):
    """A filter or search form: its values travel in the query string, and it changes nothing."""

    class Meta:
        csrf = False


class PublicSearchForm(GetForm):
    """The form of a public list's `search_form` macro (challenges, open results).

    Every such list is filtered by field and paged; a subclass adds its `q = search_words(...)` and own filters.
    """

    field = SelectField(_l("Field"), validators=[Optional()])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=10_000)], default=1)

    def __init__(self, *args, fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.field.choices = [("", _l("All fields"))] + [(f, f) for f in fields]


def with_fields(base, fields: dict, formdata=None):
    """A `base` form with `fields` (name -> unbound field) added: rows known only at request time, one field each.

    The fields go on a new subclass made for this request, so `base` itself never gains any.
    """
    return type(base.__name__, (base,), dict(fields))(formdata=formdata)
