"""In the browser: a visitor's challenge page on a desktop and on a phone (390x844), in en, zh_Hans and ar.

The public facts are visible; on the phone the award, the deadline and the primary action sit above the
fold (their bounding boxes end within the first screen) and nothing scrolls sideways. One page load per case.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
ACCEPT_LANGUAGE = {"en": "en-US", "zh_Hans": "zh-CN", "ar": "ar"}


@pytest.mark.parametrize("device", ["desktop", "phone"])
@pytest.mark.parametrize("locale", ["en", "zh_Hans", "ar"])
def test_the_public_facts_and_the_next_step_are_in_view(browser, live_server, make_org, make_user, request,
                                                        challenge_factory, device, locale):  # noqa: F811
    org = make_org("sh-icc", name="Shanghai IC Innovation Center")
    manager = make_user(roles=[("center_manager", org)])
    challenge = challenge_factory(org, manager, target_trl=4)

    viewport = VIEWPORTS[device]
    context = browser.new_context(locale=ACCEPT_LANGUAGE[locale], viewport=viewport,
                                  is_mobile=device == "phone", has_touch=device == "phone")
    context.set_default_timeout(5000)
    page = context.new_page()
    try:
        response = page.goto(f"{live_server}/challenges/{challenge.id}?lang={locale}")
        assert response.status == 200
        assert page.get_attribute("html", "lang") == locale.replace("_", "-")
        assert page.get_attribute("html", "dir") == ("rtl" if locale == "ar" else "ltr")

        # The public facts, visible to a visitor.
        for selector in ("h1#challenge-title", ".ch-key-award", ".ch-key-deadline time", ".ch-key-deadline .ch-left",
                         ".ch-seeker", ".lead", "#eligibility-heading", ".ch-criteria", "#judging h3",
                         ".ch-glance-facts", "#changes-heading", "#questions-heading", "#agreement-heading"):
            assert page.locator(selector).first.is_visible(), selector
        assert "413" in page.inner_text(".ch-key-amount")  # CN¥413,417.72 in the locale's digits and separators
        assert "60 %" in page.inner_text(".ch-criteria")
        assert page.locator(".ch-criteria tbody tr").count() == 2
        assert "Shanghai IC Innovation Center" in page.inner_text(".ch-seeker")
        if locale == "zh_Hans":
            assert "用于晶圆缺陷检测的低噪声读出电路" in page.inner_text("h1")
            assert "噪声性能" in page.inner_text(".ch-criteria")
        else:
            assert "Low-noise readout circuit" in page.inner_text("h1")
        assert page.locator(".ch-prose").count() == 0  # the detailed description waits for the agreement

        # Award, deadline and the primary action first: above the fold on the phone.
        action = page.locator(".ch-key-action a.button").first
        assert "/auth/login?next=/challenges/" in action.get_attribute("href")
        for name, locator in (("award", page.locator(".ch-key-amount")),
                              ("deadline", page.locator(".ch-key-deadline time")),
                              ("time left", page.locator(".ch-key-deadline .ch-left")),
                              ("primary action", action)):
            box = locator.bounding_box()
            assert box is not None, name
            assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], (name, box)
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (name, box)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # no sideways scrolling
    except AssertionError:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"challenge-page-{device}-{locale}.png"), full_page=True)
        raise
    finally:
        context.close()


def test_a_signed_in_solver_on_a_phone_sees_the_next_step_above_the_longer_menu(
        browser, live_server, make_org, make_user, challenge_factory):  # noqa: F811
    from tests.factories import TEST_PASSWORD

    org = make_org("sh-icc", name="Shanghai IC Innovation Center")
    challenge = challenge_factory(org, make_user(roles=[("center_manager", org)]))
    solver = make_user(country="DE")
    viewport = VIEWPORTS["phone"]
    context = browser.new_context(locale="en-US", viewport=viewport, is_mobile=True, has_touch=True)
    context.set_default_timeout(5000)
    page = context.new_page()
    try:
        # Sign in from the challenge: the form sends the solver back to it.
        page.goto(f"{live_server}/auth/login?next=/challenges/{challenge.id}")
        page.fill("#email", solver.email)
        page.fill("#password", TEST_PASSWORD)
        with page.expect_navigation():
            page.click("main form [type=submit]")
        assert page.url.endswith(f"/challenges/{challenge.id}")
        page.click("details.nav-menu > summary")  # the menu is folded on a phone
        assert page.locator(".main-nav a[href='/me/dashboard']").is_visible()
        page.click("details.nav-menu > summary")
        action = page.locator(".ch-key-action a.button").first
        assert action.get_attribute("href") == "#agreement"
        for locator in (page.locator(".ch-key-amount"), page.locator(".ch-key-deadline time"), action):
            box = locator.bounding_box()
            assert box is not None and box["y"] + box["height"] <= viewport["height"], box
    except AssertionError:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "challenge-page-phone-signed-in.png"), full_page=True)
        raise
    finally:
        context.close()
