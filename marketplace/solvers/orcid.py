"""ORCID iDs: parsed from what people paste, checked with ISO 7064 MOD 11-2, stored as 0000-0002-1825-0097."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from marketplace.errors import ValidationFailed

_PREFIXES = ("https://orcid.org/", "http://orcid.org/", "orcid.org/", "https://www.orcid.org/")
_SHAPE = re.compile(r"^\d{15}[\dX]$")
# Four groups of four separated by hyphens or spaces, or the 16 characters run together.
_WRITTEN = re.compile(r"\d{4}([- ])\d{4}\1\d{4}\1\d{3}[\dX]|\d{15}[\dX]", re.IGNORECASE)


def check_digit(base_digits: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 15 digits ('X' stands for 10)."""
    total = 0
    for digit in base_digits:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def is_valid(orcid: str) -> bool:
    compact = orcid.replace("-", "")
    return bool(_SHAPE.match(compact)) and check_digit(compact[:15]) == compact[15]


def normalise_orcid(raw: str | None) -> str | None:
    """The iD in its canonical hyphenated form, None for blank input; ValidationFailed when wrong."""
    if raw is None:
        return None
    text = str(raw).strip()
    if not text:
        return None
    for prefix in _PREFIXES:
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
            break
    if not _WRITTEN.fullmatch(text):
        message = _l("An ORCID iD has 16 digits in four groups, like 0000-0002-1825-0097 (the last may be X).")
        raise ValidationFailed(message, errors={"orcid": [message]})
    compact = text.replace("-", "").replace(" ", "").upper()
    if check_digit(compact[:15]) != compact[15]:
        message = _l("This ORCID iD's check digit is wrong: please copy it again from your ORCID record.")
        raise ValidationFailed(message, errors={"orcid": [message]})
    return "-".join(compact[i:i + 4] for i in range(0, 16, 4))


def orcid_url(orcid: str) -> str:
    return f"https://orcid.org/{orcid}"
