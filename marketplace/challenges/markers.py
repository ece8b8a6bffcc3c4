"""Classification-marker screening: a pure function over texts (no database, no Flask).

    find(fields, markers, internal_codes=()) -> [Finding(marker, field, locale, span, severity)]

`fields` is {"title": {"en": "..."}, "criteria#2": {"zh_Hans": "..."}, ...}. Every public text of the
platform is screened through `clearance.screen_public_text`, which calls this module.

Normalisation, before matching, with every match mapped back to the span the author wrote:
- NFKC (full-width ＳＥＣＲＥＴ and ｓｅｃｒｅｔ become ASCII; the ideographic space a space),
- traditional Chinese forms fold to simplified (絕密, 機密, 祕密),
- zero-width and other invisible format characters are dropped (机\u200b密 is 机密),
- whitespace, punctuation and symbols between the characters of a marker are skipped
  (机 密, S E C R E T, C.O.N.F.I.D.E.N.T.I.A.L), case is ignored for finding.

Severity:
- "block": a Chinese marker (绝密, 机密, 秘密) in any form; a multi-word English marker (TOP SECRET)
  in any case; a single English word written in capitals (SECRET), spaced or dotted out
  (s e c r e t), or after a label such as "Classification:" / "密级："; an internal requirement code.
- "warn": a single English word in ordinary prose ("restricted to EU residents", "a secret
  ingredient"); the clearing officer must acknowledge it, and on paths without clearance it is
  published and audited (see clearance.screen_public_text).
- nothing: words that only contain a marker (secretion, secretary, confidentiality, unrestricted).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

DEFAULT_MARKERS = ("绝密", "机密", "秘密", "TOP SECRET", "SECRET", "CONFIDENTIAL", "RESTRICTED")
BLOCK, WARN = "block", "warn"
_TRADITIONAL_TO_SIMPLIFIED = str.maketrans({"絕": "绝", "機": "机", "祕": "秘"})
_GAP = r"[\W_]"  # whitespace, punctuation, symbols (format characters are already gone)
_LABEL = re.compile(r"(?:classification|classified|classify|marking|marked|security\s+level|level|label|密级|"
                    r"保密等级|等级)\s*[:：=\-]+\s*[\"'“‘(\[]*$", re.IGNORECASE)
_LABEL_WINDOW = 40


@dataclass(frozen=True)
class Finding:
    marker: str
    field: str
    locale: str
    span: str  # the text as written, e.g. "S E C R E T" or "机 密"
    severity: str  # BLOCK or WARN
    kind: str = "marker"  # or "requirement_code"

    def as_dict(self) -> dict:
        return {"marker": self.marker, "field": self.field, "locale": self.locale, "span": self.span,
                "severity": self.severity, "kind": self.kind}


def normalise(text: str) -> tuple[str, list[int]]:
    """The normalised text and, for each of its characters, the index of the original one."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if unicodedata.category(char) == "Cf":
            continue
        for folded in unicodedata.normalize("NFKC", char).translate(_TRADITIONAL_TO_SIMPLIFIED):
            chars.append(folded)
            origin.append(index)
    return "".join(chars), origin


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def _letters(word: str) -> str:
    return f"{_GAP}*".join(re.escape(c) for c in word)


def _pattern(marker: str) -> re.Pattern:
    marker, _origin = normalise(marker)
    if any(_is_cjk(c) for c in marker):
        return re.compile(_letters(marker.replace(" ", "")))
    words = f"{_GAP}+".join(_letters(w) for w in marker.split())
    return re.compile(rf"(?<![^\W_]){words}(?![^\W_])", re.IGNORECASE)


def _severity(marker: str, matched: str, before: str) -> str:
    if any(_is_cjk(c) for c in marker) or len(marker.split()) > 1:
        return BLOCK
    if matched.isupper() or re.search(_GAP, matched) or _LABEL.search(before[-_LABEL_WINDOW:]):
        return BLOCK
    return WARN


def _scan(text: str, compiled, field: str, locale: str) -> list[Finding]:
    normal, origin = normalise(text)
    found: list[Finding] = []
    for marker, pattern in compiled:
        for match in pattern.finditer(normal):
            span = text[origin[match.start()]: origin[match.end() - 1] + 1]
            found.append(Finding(marker, field, locale, span,
                                 _severity(marker, match.group(), normal[: match.start()])))
        normal = pattern.sub(lambda m: "\x00" * len(m.group()), normal)  # TOP SECRET is not SECRET again
    return found


def _code_pattern(code: str) -> re.Pattern:
    normal, _origin = normalise(code.strip())
    return re.compile(rf"(?<![^\W_]){re.escape(normal)}(?![^\W_])")


def _scan_codes(text: str, codes, field: str, locale: str) -> list[Finding]:
    normal, origin = normalise(text)
    return [Finding(code, field, locale, text[origin[m.start()]: origin[m.end() - 1] + 1], BLOCK,
                    "requirement_code")
            for code, pattern in codes for m in pattern.finditer(normal)]


def find(fields: dict[str, dict[str, str]], markers=DEFAULT_MARKERS, internal_codes=()) -> list[Finding]:
    """Every finding in every field and locale, blocks and warnings, in field order."""
    compiled = [(m, _pattern(m)) for m in sorted(markers, key=len, reverse=True)]
    codes = [(c, _code_pattern(c)) for c in internal_codes if c and c.strip()]
    found: list[Finding] = []
    for field, texts in fields.items():
        for locale, text in (texts or {}).items():
            if text:
                found += _scan(text, compiled, field, locale) + _scan_codes(text, codes, field, locale)
    return found
