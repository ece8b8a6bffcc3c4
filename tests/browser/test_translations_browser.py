"""In the browser, on a desktop and a phone: a manager invites a translator for Arabic, the translator finds the
work in their own (Arabic) pages, translates title, summary, description and criteria, and a visitor reads the
challenge in Arabic, right to left, marked as translated and not yet reviewed; a German visitor reads the
original with a note naming its language. axe-core finds nothing on the translator's pages.
"""

from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext

from tests.browser.journeys import axe_violations, no_sideways_scroll, open_device, set_locale, shoot, sign_in, too_wide

pytestmark = pytest.mark.browser

ARABIC = {"title": "دائرة قراءة منخفضة الضوضاء لمستشعرات عيوب الرقائق",
          "summary": "سلسلة قراءة بضوضاء أقل من 2 نانوفولت.",
          "description": "الوصف الكامل للتحدي.",
          "criteria-0": "أداء الضوضاء", "criteria-1": "قابلية التصنيع"}


def _in(app, locale: str, message: str) -> str:
    with app.test_request_context(), force_locale(locale):
        return gettext(message)


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_an_invited_translator_translates_and_visitors_read_it_marked(browser, live_server, app, make_org, make_user,
                                                                      challenge_factory, device):
    org = make_org("sh-icc", name="Shanghai IC Innovation Center")
    manager = make_user(roles=[("center_manager", org)], name="Mia Manager")
    translator = make_user("layla@example.org", name="Layla Translator", country="EG")
    challenge = challenge_factory(org, manager)  # open, in English and Chinese
    context, page = open_device(browser, device)
    try:
        # The manager invites Layla for Arabic from the manage page.
        set_locale(app, manager, "en")
        sign_in(page, live_server, manager, f"/staff/challenges/{challenge.id}")
        page.fill("#translator-email", translator.email)
        page.select_option("#translator-locale", "ar")
        with page.expect_navigation():
            page.click(".ch-invite-translator [type=submit]")
        assert "Layla Translator" in page.inner_text("#translations")
        assert no_sideways_scroll(page), too_wide(page)
        shoot(page, f"translations-manage-{device}")

        # Layla, reading Arabic, finds the work from her dashboard and translates.
        set_locale(app, translator, "ar")
        sign_in(page, live_server, translator)
        page.goto(f"{live_server}/me/dashboard")
        assert page.get_attribute("html", "dir") == "rtl"
        with page.expect_navigation():
            page.click("a[href='/me/translations']")
        assert _in(app, "ar", "Not translated yet") in page.inner_text("main table")
        assert axe_violations(page) == [] and no_sideways_scroll(page), too_wide(page)
        with page.expect_navigation():
            page.click(f"a[href='/staff/challenges/{challenge.id}/texts/ar']")
        assert "Low-noise readout circuit" in page.inner_text(".ch-reference")  # the original beside the form
        # The English original keeps its own direction inside the Arabic page (its full stop stays at its end).
        assert page.eval_on_selector(".ch-reference p", "e => getComputedStyle(e).direction") == "ltr"
        assert page.eval_on_selector("#title", "e => [e.lang, e.dir]") == ["ar", "auto"]
        assert axe_violations(page) == [] and no_sideways_scroll(page), too_wide(page)
        for name, value in ARABIC.items():
            page.fill(f"#{name}", value)
        shoot(page, f"translations-translate-ar-{device}")
        with page.expect_navigation():
            page.click(".ch-translate [type=submit]")
        assert page.url.endswith("/me/translations")
        assert _in(app, "ar", "Translated, not reviewed") in page.inner_text("main table")

        # A visitor reading Arabic reads the translation, right to left, marked as not yet reviewed.
        page.context.clear_cookies()
        page.goto(f"{live_server}/challenges/{challenge.id}?lang=ar")
        assert page.get_attribute("html", "dir") == "rtl"
        assert page.inner_text("h1#challenge-title") == ARABIC["title"]
        note = page.inner_text(".ch-translation-note")
        assert _in(app, "ar", "The translation is not yet reviewed.") in note
        assert "أداء الضوضاء" in page.inner_text(".ch-criteria")
        assert no_sideways_scroll(page), too_wide(page)
        shoot(page, f"translations-public-ar-{device}")

        # A German visitor reads the English original, told which language it is in; no translation mark.
        page.goto(f"{live_server}/challenges/{challenge.id}?lang=de")
        assert "Low-noise readout circuit" in page.inner_text("h1#challenge-title")
        assert "Englisch" in page.inner_text(".ch-language-note")
        assert page.locator(".ch-translation-note").count() == 0
    finally:
        context.close()
