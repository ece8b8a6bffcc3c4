"""In the browser: a solver picks their payee country by name in their language (and confirms a country other
than their account's), and a finance officer reads the ledger with its chart; desktop and 390x844 phone."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
GERMANY = {"en": "Germany", "zh_Hans": "德国", "ar": "ألمانيا"}


def _open(browser, device: str):
    viewport = VIEWPORTS[device]
    context = browser.new_context(locale="en-US", viewport=viewport, is_mobile=device == "phone",
                                  has_touch=device == "phone")
    context.set_default_timeout(5000)
    return context, context.new_page()


def _sign_in(page, live_server, user) -> None:
    page.goto(f"{live_server}/auth/login")
    page.fill("#email", user.email)
    page.fill("#password", TEST_PASSWORD)
    with page.expect_navigation():
        page.click("main form [type=submit]")


@pytest.mark.parametrize("device", ["desktop", "phone"])
@pytest.mark.parametrize("locale", ["en", "zh_Hans", "ar"])
def test_the_payee_country_is_chosen_by_name_and_a_different_one_is_confirmed(browser, live_server, make_user,
                                                                               device, locale):
    solver = make_user(country="DE", locale=locale)
    context, page = _open(browser, device)
    try:
        _sign_in(page, live_server, solver)
        page.goto(f"{live_server}/me/payee")
        select = page.locator("select#residence_country")
        assert select.is_visible()
        assert select.evaluate("s => s.options[s.selectedIndex].text") == GERMANY[locale]
        page.fill("#legal_name", "Anna Schmidt")
        select.select_option("FR")
        page.fill("#date_of_birth", "1990-03-15")
        page.select_option("#tax_form", "W-8BEN")
        page.fill("#account_number", "FR1420041010050500013M02606")
        page.fill("#swift_bic", "BNPAFRPPXXX")
        with page.expect_navigation():
            page.click("main form [type=submit]")
        confirm = page.locator("#confirm_country")
        assert confirm.is_visible(), "a country other than the account's is confirmed first"
        assert page.locator("#confirm_country-error").is_visible()
        confirm.check()
        with page.expect_navigation():
            page.click("main form [type=submit]")
        assert page.url.endswith("/me/payments")
        assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[device]["width"]
    except AssertionError:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"payee-{device}-{locale}.png"), full_page=True)
        raise
    finally:
        context.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_finance_officer_reads_the_ledger_with_its_chart_and_filters_it(browser, live_server, app, client,
                                                                        make_org, make_user, api_token,
                                                                        challenge_factory, device):  # noqa: F811
    from tests.payments.world import World

    world = World(app, client, make_org, make_user, api_token, challenge_factory)
    challenge = world.challenge(status="cleared")
    world.fund_by_wire(challenge)
    context, page = _open(browser, device)
    try:
        _sign_in(page, live_server, world.finance_a)
        page.goto(f"{live_server}/finance/ledger?lang=en")
        assert page.locator("h1").inner_text() == "Ledger"
        assert page.locator("figure.chart svg").first.is_visible()
        assert f"escrow:challenge:{challenge.id}" in page.inner_text("#balances-heading + *, section")
        page.select_option("#kind", "payout")
        with page.expect_navigation():
            page.click("form.filters button[type=submit]")
        assert "kind=payout" in page.url
        assert "No movement matches these filters." in page.inner_text("main")
        page.select_option("#kind", "funding")
        with page.expect_navigation():
            page.click("form.filters button[type=submit]")
        assert page.locator("table.journal tbody").count() == 1
        assert "kind=funding" in page.locator("a[download]").get_attribute("href")
    except AssertionError:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"ledger-{device}.png"), full_page=True)
        raise
    finally:
        context.close()
