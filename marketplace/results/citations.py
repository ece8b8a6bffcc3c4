"""Citing an open result: BibTeX and CSL-JSON (the format Zotero, Pandoc and citeproc read).

Authors are the winners named with consent; a result without named winners is cited under the
publishing center, as a corporate author.
"""

from __future__ import annotations

import json
import re

from marketplace.results.models import ResultRecord
from marketplace.results.services import public_url

PUBLISHER = "InnoBridge"
_BIBTEX_SPECIAL = re.compile(r"([\\{}%&$#_~^])")
_BIBTEX_REPLACEMENTS = {"\\": r"\textbackslash{}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def cite_key(result: ResultRecord) -> str:
    return f"innobridge-result-{result.id}"


def _bibtex_escape(text: str) -> str:
    text = " ".join(text.split())  # no newlines inside a field
    return _BIBTEX_SPECIAL.sub(lambda m: _BIBTEX_REPLACEMENTS.get(m.group(1), "\\" + m.group(1)), text)


def _authors(result: ResultRecord) -> list[str]:
    return [w.name for w in result.named_winners]


def bibtex(result: ResultRecord, locale: str | None = None) -> str:
    shown, title = result.localized("title", locale)
    _, abstract = result.localized("abstract", shown)
    authors = _authors(result)
    author = " and ".join(_bibtex_escape(a) for a in authors) if authors else "{" + _bibtex_escape(
        result.organization.name) + "}"
    moment = result.published_at or result.created_at
    notes = [f"Open result of InnoBridge challenge {result.challenge_id}"]
    if result.patent_application:
        notes.append(f"patent application {result.patent_application}")
    fields = [
        ("title", "{" + _bibtex_escape(title) + "}"),
        ("author", author),
        ("year", str(moment.year)),
        ("month", MONTHS[moment.month - 1]),
        ("publisher", _bibtex_escape(PUBLISHER)),
        ("institution", _bibtex_escape(result.organization.name)),
        ("howpublished", r"\url{" + public_url(f"/results/{result.id}") + "}"),
        ("url", public_url(f"/results/{result.id}")),
        ("abstract", _bibtex_escape(abstract)),
        ("language", shown),
        ("keywords", _bibtex_escape(result.field)),
        ("note", _bibtex_escape("; ".join(notes))),
    ]
    body = ",\n".join(f"  {name} = {value if name == 'month' else '{' + value + '}'}" for name, value in fields)
    return f"@misc{{{cite_key(result)},\n{body}\n}}\n"


def _csl_name(name: str) -> dict:
    """"Family, Given" splits into parts; anything else (one word, CJK names) stays literal."""
    if "," in name:
        family, given = (part.strip() for part in name.split(",", 1))
        if family and given:
            return {"family": family, "given": given}
    return {"literal": name}


def csl_item(result: ResultRecord, locale: str | None = None) -> dict:
    shown, title = result.localized("title", locale)
    _, abstract = result.localized("abstract", shown)
    moment = result.published_at or result.created_at
    item = {
        "id": cite_key(result),
        "type": "report",
        "genre": "Open result",
        "title": title,
        "abstract": abstract,
        "author": [_csl_name(a) for a in _authors(result)] or [{"literal": result.organization.name}],
        "issued": {"date-parts": [[moment.year, moment.month, moment.day]]},
        "publisher": PUBLISHER,
        "authority": result.organization.name,
        "URL": public_url(f"/results/{result.id}"),
        "language": shown.replace("_", "-"),
        "keyword": result.field,
    }
    if result.patent_application:
        item["note"] = f"Patent application {result.patent_application}"
    return item


def csl_json(result: ResultRecord, locale: str | None = None) -> str:
    """CSL-JSON is a list of items, even for one."""
    return json.dumps([csl_item(result, locale)], ensure_ascii=False, indent=2)
