"""The home page: open challenges three ways and the figures that build trust, from the analytics snapshot."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.helpers import text_of


def _titles_in(html: str, shelf: str) -> list[str]:
    section = html[html.index(f'id="shelf-{shelf}"'):]
    section = section[:section.index("</section>")]
    return re.findall(r'class="ch-card-title"><a [^>]*>([^<]+)</a>', section)


def test_home_shows_open_challenges_closing_soon_highest_and_newest(client, make_org, make_user,
                                                                   challenge_factory):  # noqa: F811
    org = make_org()
    manager = make_user(roles=[("center_manager", org)])
    now = datetime.now(UTC)
    challenge_factory(org, manager, title={"en": "Far deadline, small"}, deadline=now + timedelta(days=90),
                      premium_pct="10")
    challenge_factory(org, manager, title={"en": "Soon, large"}, deadline=now + timedelta(days=5), premium_pct="20",
                      field="semiconductors")
    challenge_factory(org, manager, title={"en": "Draft only"}, status="draft")
    html = client.get("/?lang=en").get_data(as_text=True)
    assert _titles_in(html, "closing")[0] == "Soon, large" and _titles_in(html, "highest")[0] == "Soon, large"
    assert set(_titles_in(html, "newest")) == {"Far deadline, small", "Soon, large"}
    assert "Draft only" not in html
    assert '<span class="ch-field">Semiconductors</span>' in html  # the field in words, never its code
    assert '<span class="ch-field">半导体</span>' in client.get("/?lang=zh_Hans").get_data(as_text=True)
    text = text_of(client.get("/?lang=en"))
    assert "InnoBridge in figures" in text and "awards paid" in text and "countries of solvers" in text
    assert re.search(r"\b2 challenges posted", text)


def test_an_empty_platform_shows_no_empty_shelves(client):
    html = client.get("/?lang=en").get_data(as_text=True)
    assert 'id="shelf-closing"' not in html and "InnoBridge in figures" in html
