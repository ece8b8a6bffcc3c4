"""In the browser: a challenge goes through clearance by a second person, funding and publication,
then a solver finds it by searching in Chinese, accepts the agreement and submits a proposal
with an attachment."""

from __future__ import annotations

import re

import pytest

from tests.factories import TEST_PASSWORD
from tests.proposals.test_api_proposals import PDF

pytestmark = pytest.mark.browser


def sign_in(page, live_server, user) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server}/auth/login")
    page.fill("#email", user.email)
    page.fill("#password", TEST_PASSWORD)
    with page.expect_navigation():
        page.click("main form [type=submit]")


def click_and_wait(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_clearance_funding_publication_search_and_submission(page, live_server, make_org, make_user,
                                                             challenge_factory, tmp_path):  # noqa: F811
    org = make_org("sh-icc")
    manager = make_user(roles=[("center_manager", org)])
    challenge = challenge_factory(org, manager, status="draft")
    officer, finance = challenge_factory.officers(org)
    manage = f"{live_server}/staff/challenges/{challenge.id}"

    # The author asks for clearance.
    sign_in(page, live_server, manager)
    page.goto(manage)
    click_and_wait(page, "form[action$='/clearance-request'] button")
    assert "In clearance" in page.inner_text(".ch-road")

    # A security officer who is not the author clears it.
    sign_in(page, live_server, officer)
    page.goto(f"{live_server}/staff/clearance")
    click_and_wait(page, f"a[href='/staff/challenges/{challenge.id}']")
    page.fill("textarea[name='clearance-note']", "Nothing classified; fine to publish.")
    click_and_wait(page, "input[name='clearance-approve'], button[name='clearance-approve']")
    assert "Cleared" in page.inner_text(".ch-road")

    # A finance officer records the bank receipt for the whole award.
    sign_in(page, live_server, finance)
    page.goto(manage)
    page.fill("input[name='receipt-reference']", "BOC-2027-0001")
    page.fill("input[name='receipt-amount']", challenge.award.as_dict()["amount"])
    page.fill("input[name='receipt-received_on']", "2026-11-05")
    click_and_wait(page, "input[name='receipt-submit'], button[name='receipt-submit']")
    assert "Funded" in page.inner_text(".ch-head-links")

    # The manager publishes.
    sign_in(page, live_server, manager)
    page.goto(manage)
    page.click("details.confirm-action:has(form[action$='/publish']) > summary")  # publishing asks first
    assert "Solvers everywhere can find" in page.inner_text("details.confirm-action[open]")
    click_and_wait(page, "form[action$='/publish'] button")
    assert "Open" in page.inner_text(".ch-road")

    # A solver in Germany finds it by a Chinese query, accepts the agreement and submits with a file.
    solver = make_user(country="DE")
    sign_in(page, live_server, solver)
    page.goto(f"{live_server}/challenges?q=" + "晶圆")
    click_and_wait(page, f"main a[href='/challenges/{challenge.id}']")
    page.check("input[name='agreement-accept']")
    click_and_wait(page, "form[action$='/agreement'] [type=submit]")
    click_and_wait(page, f"a[href='/challenges/{challenge.id}/proposals/new']")
    page.fill("#title", "A chopper-stabilised readout chain")
    page.fill("#abstract", "Two stages, 1.6 nV/√Hz.")
    click_and_wait(page, "main form [type=submit]")
    attachment = tmp_path / "design.pdf"
    attachment.write_bytes(PDF)
    page.set_input_files("input[type=file]", str(attachment))
    click_and_wait(page, "form[enctype='multipart/form-data'] [type=submit]")
    assert "design.pdf" in page.inner_text(".file-list")
    click_and_wait(page, "form[action$='/submit'] button")
    assert re.search(r"Version 1", page.inner_text("main"))
