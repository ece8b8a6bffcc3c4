"""The Atom feed of published results (RFC 4287), newest first, in the reader's language where it exists."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from flask_babel import gettext as _

from marketplace.db import utcnow
from marketplace.results.models import ResultRecord
from marketplace.results.services import public_url

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ET.register_namespace("", ATOM)


def _el(parent, tag: str, text: str | None = None, **attrs) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        element.text = text
    return element


def atom_feed(results: list[ResultRecord], locale: str) -> bytes:
    feed = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: locale.replace("_", "-")})
    _el(feed, "id", public_url("/results"))
    _el(feed, "title", _("InnoBridge open results"))
    _el(feed, "subtitle", _("What came of the challenges: results published by the innovation centers."))
    _el(feed, "link", rel="self", href=public_url("/results/feed.atom"), type="application/atom+xml")
    _el(feed, "link", rel="alternate", href=public_url("/results"), type="text/html")
    newest = max((r.updated_at or r.published_at for r in results), default=None) or utcnow()
    _el(feed, "updated", newest.isoformat())
    _el(feed, "generator", "InnoBridge")
    for result in results:
        shown, title = result.localized("title", locale)
        abstract = result.localized("abstract", shown)[1]
        entry = _el(feed, "entry")
        entry.set(XML_LANG, shown.replace("_", "-"))
        url = public_url(f"/results/{result.id}")
        _el(entry, "id", url)
        _el(entry, "title", title)
        _el(entry, "link", rel="alternate", href=url, type="text/html")
        _el(entry, "published", result.published_at.isoformat())
        _el(entry, "updated", (result.updated_at or result.published_at).isoformat())
        authors = [w.name for w in result.named_winners] or [result.organization.name]
        for name in authors:
            _el(_el(entry, "author"), "name", name)
        _el(entry, "category", term=result.field)
        _el(entry, "summary", abstract, type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
