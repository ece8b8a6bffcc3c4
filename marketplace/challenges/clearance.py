"""The classification gate: screen every locale of every text field for classification markers.

Text is normalised before matching: NFKC folds full-width forms (ＳＥＣＲＥＴ, ｓｅｃｒｅｔ) to ASCII,
and the traditional forms of the Chinese markers (絕密, 機密) are folded to simplified. Latin
markers match as whole words, case-insensitively; Chinese markers match as substrings (Chinese
has no spaces between words).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flask import current_app

DEFAULT_MARKERS = ("绝密", "机密", "秘密", "TOP SECRET", "SECRET", "CONFIDENTIAL", "RESTRICTED")
_TRADITIONAL_TO_SIMPLIFIED = str.maketrans({"絕": "绝", "機": "机", "祕": "秘"})


@dataclass(frozen=True)
class MarkerHit:
    marker: str
    field: str
    locale: str


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_TRADITIONAL_TO_SIMPLIFIED)


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _pattern(marker: str) -> re.Pattern:
    marker = normalise(marker)
    if _has_cjk(marker):
        return re.compile(re.escape(marker))
    words = r"\s+".join(re.escape(w) for w in marker.split())
    return re.compile(rf"(?<![\w]){words}(?![\w])", re.IGNORECASE)


def markers() -> tuple[str, ...]:
    return tuple(current_app.config.get("CLASSIFICATION_MARKERS") or DEFAULT_MARKERS)


def screen(fields: dict[str, dict[str, str]], marker_list: tuple[str, ...] | None = None) -> list[MarkerHit]:
    """fields: {"title": {"en": "..."}, ...} -> every (marker, field, locale) found.

    A hit for "TOP SECRET" is not repeated as "SECRET" in the same place.
    """
    compiled = [(m, _pattern(m)) for m in sorted(marker_list or markers(), key=len, reverse=True)]
    hits: list[MarkerHit] = []
    for field, texts in fields.items():
        for locale, text in texts.items():
            remaining = normalise(text or "")
            for marker, pattern in compiled:
                if pattern.search(remaining):
                    hits.append(MarkerHit(marker, field, locale))
                    remaining = pattern.sub(" ", remaining)
    return hits
