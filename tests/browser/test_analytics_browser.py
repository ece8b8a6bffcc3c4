"""In the browser: a center manager opens a challenge's analytics page and finds its charts, each an
accessible SVG image with a title and a description, whose figures also open as a table."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from marketplace.extensions import db
from tests.browser.test_challenge_flow_browser import sign_in

pytestmark = pytest.mark.browser


def test_the_analytics_page_shows_accessible_charts(page, live_server, world, app):
    from marketplace.analytics.models import ChallengeView

    challenge = world.challenge()
    for country, early in (("DE", True), ("JP", False), ("BR", True), ("DE", False)):
        world.propose(challenge, world.solver(country, early_career=early))
    with app.app_context():
        today = date.today()
        db.session.add_all([ChallengeView(challenge_id=challenge.id, day=today - timedelta(days=n), views=3 + n)
                            for n in range(6)])
        db.session.commit()

    sign_in(page, live_server, world.manager)
    page.goto(f"{live_server}/staff/analytics/challenges/{challenge.id}")
    assert page.inner_text("h1") == "Low-noise readout circuit for wafer defect sensors"

    charts = page.locator("figure.chart svg[role='img']")
    assert charts.count() >= 5
    for index in range(charts.count()):
        chart = charts.nth(index)
        labelled_by = chart.get_attribute("aria-labelledby").split()
        assert len(labelled_by) == 2  # its <title> and its <desc>
        assert page.locator(f"#{labelled_by[0]}").text_content().strip()
        assert page.locator(f"#{labelled_by[1]}").text_content().strip()

    views = page.locator("#views-chart-title").locator("xpath=..")
    assert views.locator("polyline.chart-line").count() == 1
    assert views.locator("circle.chart-dot").count() == 6
    assert "Highest: 8" in page.locator("#views-chart-desc").text_content()
    assert page.locator("#views-chart-desc").text_content().endswith("Latest: 3.")

    countries = page.locator("#countries-chart-desc").text_content()
    assert "Germany: 2 (early-career: 1)" in countries and "Brazil: 1 (early-career: 1)" in countries

    # The table fallback: closed at first, the same figures once opened.
    table = page.locator("#countries-chart-caption").locator("xpath=..").locator("details.chart-data")
    assert not table.locator("table").is_visible()
    table.locator("summary").click()
    assert table.locator("table").is_visible()
    assert table.locator("tbody tr").count() == 3

    # Exports are offered to the manager.
    assert page.locator(f"a[href='/staff/exports/challenges/{challenge.id}/proposals.csv']").count() == 1
