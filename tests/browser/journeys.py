"""Helpers for the journey tests: devices, sign-in, axe-core, screenshots and the reader's language.

One browser context per device; a test signs in once and changes the user's saved language between
page loads (the saved preference wins over ?lang=, as it does for a real user).
Screenshots are taken only when SHOTS_DIR is set (e.g. SHOTS_DIR=/tmp/shots-d): they are for people
to look at, not for the test to compare.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.factories import TEST_PASSWORD

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
LOCALES = ("en", "zh_Hans", "ar")
ALL_LOCALES = ("en", "zh_Hans", "de", "ja", "ko", "fr", "es", "ar")
# Stored codes that must never reach a reader as they are (each has a translated word).
RAW_CODES = re.compile(r"\b(ai-hardware|under_review|not_awarded|no_award|in_clearance|zh_Hans|finance_officer|"
                       r"security_officer|center_manager)\b")


def open_device(browser, device: str):
    """(context, page) for `device` ("desktop" 1280x900, "phone" 390x844 with touch)."""
    phone = device == "phone"
    context = browser.new_context(locale="en-US", viewport=VIEWPORTS[device], is_mobile=phone, has_touch=phone)
    context.set_default_timeout(5000)
    return context, context.new_page()


def sign_in(page, live_server: str, user, next_path: str | None = None) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server}/auth/login" + (f"?next={next_path}" if next_path else ""))
    page.fill("#email", user.email)
    page.fill("#password", TEST_PASSWORD)
    with page.expect_navigation():
        page.click("main form [type=submit]")


def set_locale(app, user, locale: str) -> None:
    """The user's saved language (what the account page sets)."""
    from marketplace.accounts.models import User
    from marketplace.extensions import db

    with app.app_context():
        db.session.get(User, user.id).locale = locale
        db.session.commit()


def axe_violations(page, selector: str | None = None) -> list[str]:
    """axe-core's violations on the page (or inside `selector`), one line each: rule, impact, first targets."""
    from axe_playwright_python.base import AXE_SCRIPT

    page.evaluate(AXE_SCRIPT)
    results = page.evaluate("context => axe.run(context || document, {resultTypes: ['violations']})", selector)
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:3]]}" for v in results["violations"]]


def no_sideways_scroll(page) -> bool:
    """Nothing wider than the device (a phone's layout viewport would otherwise grow to fit the page)."""
    width = page.viewport_size["width"]
    return page.evaluate("w => document.documentElement.scrollWidth <= w", width)


def too_wide(page) -> list[str]:
    """Elements past the device's width that nothing clips (why a page scrolls sideways), for messages."""
    return page.evaluate("""w => {
        const page = [document.documentElement, document.body];
        const clipped = e => {
            for (let a = e.parentElement; a; a = a.parentElement) {
                if (getComputedStyle(a).overflowX !== 'visible') return !page.includes(a);
            }
            return false;
        };
        const name = e => e.tagName.toLowerCase() + (typeof e.className === 'string' ? '.' + e.className : '');
        return [...document.querySelectorAll('body *')]
            .filter(e => e.checkVisibility() && e.getBoundingClientRect().right > w + 1 && !clipped(e))
            .slice(-5).map(e => name(e) + ' ' + Math.round(e.getBoundingClientRect().right));
    }""", page.viewport_size["width"])


def interface_text(page) -> str:
    """The text of <main> that the interface wrote: without user content marked with its own language,
    nor identifiers shown as code (ledger account codes, which the account filter takes)."""
    return page.evaluate("""() => {
        const main = document.querySelector('main').cloneNode(true);
        main.querySelectorAll('[lang], code, option').forEach(e => e.remove());
        return main.textContent;
    }""")


def shoot(page, name: str) -> None:
    """A full-page screenshot in $SHOTS_DIR, for people to look at; nothing when it is unset."""
    folder = os.environ.get("SHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def open_menu(page) -> None:
    """On a phone the signed-in menu is folded away: open it (no script involved)."""
    toggle = page.locator("details.nav-menu > summary")
    if toggle.is_visible() and page.locator("details.nav-menu[open]").count() == 0:
        toggle.click()
