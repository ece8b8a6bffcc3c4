"""In the browser: a finalist's journey through a three-stage challenge, on a desktop and on a 390x844 phone, in
English, Chinese and Arabic.

A visitor reads the public timeline (an ordered list, the current stage marked, its line on the reading side:
left in English, right in Arabic); the finalist of stage 1 signs in, starts the stage 2 proposal from the stage 1
one with one button, submits it and sees the receipt; someone who did not advance sees why they cannot take
part, and no button that would end in an error. Nothing scrolls sideways and axe-core finds nothing.
"""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _

from marketplace.extensions import db
from tests.browser.journeys import (
    LOCALES,
    axe_violations,
    no_sideways_scroll,
    open_device,
    set_locale,
    shoot,
    sign_in,
    too_wide,
)
from tests.stages.conftest import staged  # noqa: F401 - fixture
from tests.stages.test_stage_solver_pages import _advance_first

pytestmark = pytest.mark.browser

NOT_A_FINALIST = "Only the finalists of the previous stage can take part in this stage."


def _in_locale(app, locale: str, message: str, **values) -> str:
    with app.test_request_context(), force_locale(locale):
        return _(message, **values)


def _user(app, user_id):
    from marketplace.accounts.models import User

    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def _check_timeline(page, locale: str) -> None:
    timeline = page.locator("ol.st-timeline")
    assert timeline.is_visible()
    stages = timeline.locator("> li")
    assert stages.count() == 3
    assert timeline.locator("> li[aria-current=step]").count() == 1
    assert "st-open" in stages.nth(1).get_attribute("class")  # stage 2 takes proposals now
    assert stages.nth(0).locator("time").count() == 1
    # The line runs along the side the reader starts from.
    side = "Right" if locale == "ar" else "Left"
    assert stages.first.evaluate(f"li => getComputedStyle(li).border{side}Width") == "3px"
    names = timeline.inner_text()
    assert ("概念" in names and "原型" in names) if locale == "zh_Hans" else ("Concept" in names and "Pilot" in names)
    assert page.locator("#stage-note").is_visible()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_finalist_starts_submits_and_gets_a_receipt_and_the_others_see_why_not(browser, live_server, app, client,
                                                                                 api_token, staged, device):  # noqa: F811
    world = staged
    _advance_first(client, app, api_token, world)
    finalist, other = _user(app, world.solvers["thermal"]), _user(app, world.solvers["readout"])
    context, page = open_device(browser, device)
    try:
        # A visitor reads the timeline in every language.
        for locale in LOCALES:
            response = page.goto(f"{live_server}/challenges/{world.challenge_id}?lang={locale}")
            assert response.status == 200
            assert page.get_attribute("html", "dir") == ("rtl" if locale == "ar" else "ltr")
            _check_timeline(page, locale)
            assert no_sideways_scroll(page)
            assert axe_violations(page) == []
            shoot(page, f"stages-timeline-{device}-{locale}")

        # The finalist, in Chinese, starts the stage 2 proposal from the stage 1 one.
        set_locale(app, finalist, "zh_Hans")
        sign_in(page, live_server, finalist, f"/challenges/{world.challenge_id}")
        assert page.url.endswith(f"/challenges/{world.challenge_id}")
        shoot(page, f"stages-finalist-{device}-zh_Hans")
        button = page.locator(".ch-key-action .st-carry-on button")
        assert button.is_visible(), page.inner_text(".ch-key")
        box = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]
        assert no_sideways_scroll(page)
        assert axe_violations(page) == []
        with page.expect_navigation():
            button.click()
        assert "/proposals/" in page.url
        new_id = int(page.url.rstrip("/").rsplit("/", 1)[-1])
        assert new_id != world.proposals["thermal"]
        assert page.locator("#proposal-stage").is_visible()
        assert "原型" in page.inner_text("#proposal-stage")

        # In Arabic, the finalist submits it and reads the receipt.
        set_locale(app, finalist, "ar")
        page.goto(f"{live_server}/proposals/{new_id}")
        assert page.get_attribute("html", "dir") == "rtl"
        submit = page.get_by_role("button", name=_in_locale(app, "ar", "Submit proposal"))
        with page.expect_navigation():
            submit.click()
        receipt = page.locator("#receipt")
        assert receipt.is_visible()
        assert len(receipt.locator("code.hash").inner_text().strip()) == 64
        assert no_sideways_scroll(page)
        assert axe_violations(page) == []
        shoot(page, f"stages-receipt-{device}-ar")

        # Back on the challenge page the button gave way to the proposal.
        set_locale(app, finalist, "en")
        page.goto(f"{live_server}/challenges/{world.challenge_id}")
        assert page.locator(".st-carry-on").count() == 0
        assert page.locator(f".ch-key-action a[href='/proposals/{new_id}']").is_visible()

        # Someone who did not advance sees why, in their language, and no button to write a proposal.
        for locale in LOCALES:
            set_locale(app, other, locale)
            if locale == LOCALES[0]:
                sign_in(page, live_server, other, f"/challenges/{world.challenge_id}")
            else:
                page.goto(f"{live_server}/challenges/{world.challenge_id}")
            alert = page.locator(".ch-alert-bad[role=alert]")
            assert alert.is_visible()
            assert _in_locale(app, locale, NOT_A_FINALIST) in alert.inner_text()
            assert page.locator(".st-carry-on").count() == 0
            assert page.locator(f"a[href='/challenges/{world.challenge_id}/proposals/new']").count() == 0
            assert no_sideways_scroll(page)
            assert axe_violations(page) == []
            shoot(page, f"stages-not-a-finalist-{device}-{locale}")
    finally:
        context.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_stage_2_reviewer_reads_the_stage_1_proposal_and_its_mean_scores_blind(browser, live_server, app, client,
                                                                                api_token, staged, device):  # noqa: F811
    from tests.stages.test_stage_solver_pages import _a_review_of, _second_stage_under_review

    world = staged
    created = _second_stage_under_review(client, app, api_token, world)
    review_id, reviewer_id = _a_review_of(app, created["thermal"])
    reviewer = _user(app, reviewer_id)
    context, page = open_device(browser, device)
    try:
        sign_in(page, live_server, reviewer)
        for locale in LOCALES:
            set_locale(app, reviewer, locale)
            page.goto(f"{live_server}/reviews/{review_id}")
            earlier = page.locator("#earlier-stage")
            assert earlier.is_visible()
            assert earlier.locator("tbody tr").count() == 2  # Novelty and Feasibility, stage 1's criteria
            assert earlier.locator("tbody").inner_text().count("8.0") == 2
            earlier.locator("summary").click()
            assert earlier.locator(".rv-earlier-text h3").is_visible()
            text = page.inner_text("main")
            assert "Bruno Costa" not in text and "usp.example" not in text
            shoot(page, f"stages-reviewer-{device}-{locale}")
            assert no_sideways_scroll(page), too_wide(page)
            assert axe_violations(page) == []
            shoot(page, f"stages-reviewer-{device}-{locale}")
    finally:
        context.close()
