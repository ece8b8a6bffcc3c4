"""A new user in a real browser: register, confirm by mail, sign out and in, read the site in Chinese and Arabic."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _

from tests.factories import TEST_PASSWORD
from tests.helpers import link_in_mail, outbox

pytestmark = pytest.mark.browser

CJK = re.compile(r"[\u4e00-\u9fff]")


def in_catalog(app, locale: str, message: str) -> str:
    with app.test_request_context(), force_locale(locale):
        return _(message)


def switch_language(page, locale: str) -> None:
    page.select_option("#language-select", locale)
    with page.expect_navigation():
        page.click(".language-switcher button[type=submit]")


def test_register_confirm_sign_in_and_switch_languages(page, live_server, app):
    # Register through the form.
    page.goto(f"{live_server}/auth/register")
    page.fill("#display_name", "Anna Schmidt")
    page.fill("#email", "anna@tum.example")
    page.select_option("#country", "DE")
    page.select_option("#locale", "en")
    page.fill("#password", TEST_PASSWORD)
    page.fill("#confirm", TEST_PASSWORD)
    with page.expect_navigation():
        page.click("main form [type=submit]")
    assert page.url == f"{live_server}/"
    assert "anna@tum.example" in page.text_content(".flashes")

    # The confirmation mail waits in the outbox; its link confirms on open.
    [mail] = outbox(app)
    link = link_in_mail(mail.body_text)
    assert link.startswith(f"{live_server}/auth/confirm/")
    page.goto(link)
    assert page.text_content("h1") == "Your e-mail address is confirmed"

    # Sign out (a POST form with its CSRF token, in the menu under the user's name), then sign in again.
    page.click(".nav-account > summary")
    with page.expect_navigation():
        page.click("form[action='/auth/logout'] button")
    assert page.locator("form[action='/auth/logout']").count() == 0
    page.goto(f"{live_server}/auth/login")
    page.fill("#email", "anna@tum.example")
    page.fill("#password", TEST_PASSWORD)
    with page.expect_navigation():
        page.click("main form [type=submit]")
    assert page.locator("form[action='/auth/logout']").count() == 1

    # 中文: the interface is Chinese, from the zh_Hans catalog.
    switch_language(page, "zh_Hans")
    assert page.get_attribute("html", "lang") == "zh-Hans"
    sign_out = in_catalog(app, "zh_Hans", "Sign out")
    assert CJK.search(sign_out), "the zh_Hans catalog has no Chinese for 'Sign out'"
    assert page.text_content("form[action='/auth/logout'] button").strip() == sign_out
    assert CJK.search(page.text_content("main"))

    # العربية: right to left.
    switch_language(page, "ar")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.get_attribute("html", "lang") == "ar"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert page.text_content("form[action='/auth/logout'] button").strip() == in_catalog(app, "ar", "Sign out")
