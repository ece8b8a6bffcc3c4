"""Locales of user content (challenge texts and the like): any locale Babel knows, in Babel's spelling."""

from __future__ import annotations

from functools import cache

import marshmallow as ma
from babel import Locale, UnknownLocaleError
from flask_babel import lazy_gettext as _l


@cache
def is_content_locale(identifier: str) -> bool:
    if not isinstance(identifier, str) or not 2 <= len(identifier) <= 16:
        return False
    try:
        return str(Locale.parse(identifier)) == identifier
    except (UnknownLocaleError, ValueError, TypeError):
        return False


def pick(texts: dict[str, str], wanted: str | None, default_locale: str) -> tuple[str, str]:
    """Text in `wanted` (or its language), else the default locale. Returns (locale, text)."""
    if wanted and texts.get(wanted):
        return wanted, texts[wanted]
    if wanted:
        language = wanted.split("_")[0]
        for locale, text in texts.items():
            if locale.split("_")[0] == language and text:
                return locale, text
    return default_locale, texts.get(default_locale, "")


class LocalizedText(ma.fields.Dict):
    """{"en": "...", "zh_Hans": "..."}: known locales, non-empty strings of bounded length."""

    def __init__(self, max_length: int = 200, **kwargs):
        super().__init__(keys=ma.fields.String(), values=ma.fields.String(validate=ma.validate.Length(max=max_length)),
                         **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        texts = super()._deserialize(value, attr, data, **kwargs)
        unknown = [locale for locale in texts if not is_content_locale(locale)]
        if unknown:
            raise ma.ValidationError(str(_l("Unknown locale: %(locales)s", locales=", ".join(sorted(unknown)))))
        return {locale: text.strip() for locale, text in texts.items()}
