"""Helpers for page tests: post forms like a browser does, read what the page says."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from tests.helpers import csrf_token_from


def post_form(client, url: str, data: dict, *, prefix: str | None = None, page: str | None = None, **kwargs):
    """POST `data` to `url` with a CSRF token read from `page` (default: `url`), like a browser would.

    Forms that share a page carry a prefix (e.g. "clearance"): their fields are sent as "<prefix>-<name>".
    """
    token = csrf_token_from(client.get(page or url))
    fields = {f"{prefix}-{name}" if prefix else name: value for name, value in data.items()}
    fields["csrf_token"] = token
    if prefix:
        fields[f"{prefix}-csrf_token"] = token
    return client.post(url, data=fields, **kwargs)


def text_of(response) -> str:
    """The page's visible text, roughly: tags dropped, entities decoded, whitespace folded."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def field_error(response, field_id: str) -> str | None:
    """The message shown under a field (id="<field_id>-error"), or None."""
    match = re.search(rf'id="{re.escape(field_id)}-error">(.*?)</p>', response.get_data(as_text=True), re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip() if match else None


class _Outline(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: list[str] = []
        self.headings: list[int] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))


def structure_problems(response) -> list[str]:
    """Duplicate ids, not exactly one h1, and headings that skip a level (h2 -> h4)."""
    outline = _Outline()
    outline.feed(response.get_data(as_text=True))
    problems = [f"duplicate id {i!r}" for i in sorted({i for i in outline.ids if outline.ids.count(i) > 1})]
    if outline.headings.count(1) != 1:
        problems.append(f"{outline.headings.count(1)} h1 elements")
    for before, after in zip(outline.headings, outline.headings[1:], strict=False):
        if after > before + 1:
            problems.append(f"heading h{before} followed by h{after}")
    return problems
