"""Countries: the one home of what a country code is and how a country is named.

Codes are ISO 3166-1 alpha-2 (pycountry decides which exist); names come from the CLDR data in
Babel, in the viewer's language, so a Chinese solver picks 德国 and an Arabic one ألمانيا.
Every country field in the product (registration, account, profile search, payee, excluded
countries) offers `country_choices()` and is checked by `country_problems()` on the server.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import pycountry
from babel import Locale
from flask_babel import lazy_gettext as _l


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


def is_country(code) -> bool:
    return isinstance(code, str) and code.upper() in country_codes()


def country_problems(code) -> list[str]:
    if not is_country(code):
        return [str(_l("Use a two-letter ISO 3166-1 country code, such as DE or CN."))]
    return []


@lru_cache(maxsize=16)
def _names(locale_id: str) -> dict[str, str]:
    try:
        territories = Locale.parse(locale_id).territories
    except (ValueError, TypeError):
        territories = {}
    return {c.alpha_2: territories.get(c.alpha_2) or getattr(c, "common_name", None) or c.name
            for c in pycountry.countries}


def _current_locale_id() -> str:
    from marketplace.i18n import current_locale_id

    return current_locale_id()


def country_name(code: str | None, locale_id: str | None = None) -> str:
    """The country's name in `locale_id` (the viewer's language by default); unknown codes as given."""
    if not code:
        return ""
    return _names(locale_id or _current_locale_id()).get(code.upper(), code)


def _sort_key(name: str) -> str:
    # Accents and case do not change the order ("Österreich" sorts with "O").
    return "".join(ch for ch in unicodedata.normalize("NFKD", name.casefold()) if not unicodedata.combining(ch))


@lru_cache(maxsize=16)
def _choices(locale_id: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(_names(locale_id).items(), key=lambda pair: _sort_key(pair[1])))


def country_choices(blank: str | None = "—") -> list[tuple[str, str]]:
    """(code, localized name) for a select, sorted by name; a first empty choice unless `blank` is None."""
    choices = list(_choices(_current_locale_id()))
    return ([("", str(blank))] if blank is not None else []) + choices
