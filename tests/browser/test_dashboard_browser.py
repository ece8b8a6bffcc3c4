"""In the browser: a solver's "My dashboard", reached from the menu, says where each proposal stands.

One solver with six proposals, one in each state the dashboard shows (draft, submitted, under review,
awarded with its amount, not awarded with the feedback link, paid), read on a desktop and on a 390x844
phone in English, Chinese and Arabic. Every state is a translated word, dates are the locale's, nothing
scrolls sideways, English titles keep their direction in the Arabic page, and axe-core finds nothing.
One world and one sign-in per device; the language changes between page loads.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import render_template_string
from flask_babel import force_locale
from flask_babel import gettext as _

from marketplace.extensions import db
from tests.browser.journeys import (
    LOCALES,
    RAW_CODES,
    axe_violations,
    interface_text,
    no_sideways_scroll,
    open_device,
    open_menu,
    set_locale,
    shoot,
    sign_in,
)

pytestmark = pytest.mark.browser

# English words (or codes) of the page's own making that a Chinese or Arabic reader must never meet.
STATE_CODES = re.compile(r"\b(draft|submitted|under.review|awarded|not.awarded|paid|withdrawn|cancelled|versions?|"
                         r"files?)\b", re.IGNORECASE)
SUBMITTED_AT = datetime(2026, 11, 5, 14, 30, tzinfo=UTC)
TITLES = {"draft": "Draft readout chain", "submitted": "Chopper-stabilised readout chain",
          "under_review": "Correlated double sampling front end", "awarded": "Auto-zero amplifier array",
          "not_awarded": "Lock-in detection scheme", "paid": "Low-noise JFET preamplifier"}


def _proposal(app, challenge, author, state: str, *, status: str = "submitted") -> int:
    from marketplace.proposals.models import Proposal, ProposalVersion

    with app.app_context():
        proposal = Proposal(challenge_id=challenge.id, lead_id=author.id, status=status, title=TITLES[state],
                            locale="en", version=1)
        db.session.add(proposal)
        db.session.flush()
        if status == "submitted":
            db.session.add(ProposalVersion(proposal_id=proposal.id, number=1, title=proposal.title, abstract="",
                                           body="", locale="en", submitted_at=SUBMITTED_AT,
                                           submitted_by_id=author.id))
        db.session.commit()
        return proposal.id


def _set(app, model, row_id: int, **values) -> None:
    with app.app_context():
        row = db.session.get(model, row_id)
        for name, value in values.items():
            setattr(row, name, value)
        db.session.commit()


@pytest.fixture
def dashboard_world(app, client, make_org, make_user, api_token, challenge_factory):  # noqa: F811
    """(world, solver, {state: (proposal id, award amount or None)})."""
    from marketplace.awards.models import Award
    from marketplace.challenges.models import Challenge
    from marketplace.proposals.models import Proposal
    from tests.payments.world import World

    world = World(app, client, make_org, make_user, api_token, challenge_factory)
    solver, rival = world.solver("DE", name="Anna Schmidt"), world.solver("FR", name="Jean Martin")
    proposals = {
        "draft": _proposal(app, world.challenge(status="open"), solver, "draft", status="draft"),
        "submitted": _proposal(app, world.challenge(status="open"), solver, "submitted"),
    }
    judging = world.challenge(status="open")
    proposals["under_review"] = _proposal(app, judging, solver, "under_review")
    _set(app, Challenge, judging.id, status="judging")

    amounts = {}
    for state in ("awarded", "paid"):
        challenge = world.challenge(status="cleared")
        world.fund_by_wire(challenge)
        [award_id] = world.ready_award(challenge, [([solver], "100")])
        with app.app_context():
            award = db.session.get(Award, award_id)
            proposals[state], amounts[state] = award.proposal_id, (award.amount_minor, award.currency)
        _set(app, Proposal, proposals[state], title=TITLES[state])
        if state == "paid":
            assert world.post(f"/awards/{award_id}/release", world.finance_a).status_code == 200
            assert world.post(f"/awards/{award_id}/approve", world.finance_b).status_code == 200
            assert world.post(f"/awards/{award_id}/payout-confirmation", world.finance_a,
                              json={"reference": "BOC-PAY-1"}).status_code == 200
    lost = world.challenge(status="cleared")
    world.fund_by_wire(lost)
    world.ready_award(lost, [([rival], "100")])
    proposals["not_awarded"] = _proposal(app, lost, solver, "not_awarded")
    return world, solver, {state: (pid, amounts.get(state)) for state, pid in proposals.items()}


def _expected(app, locale: str, state: str, amount) -> str:
    """The badge's words in `locale`, as the page should say them (the amount formatted for the locale)."""
    from marketplace.i18n import format_money
    from marketplace.labels import proposal_journey_label
    from marketplace.money import Money

    with app.test_request_context(), force_locale(locale):
        word = proposal_journey_label(state)
        if amount is None:
            return word
        money = Money(*amount)
        return f"{word}: {format_money(money.amount, money.currency, locale)}"


def _in_locale(app, locale: str, message: str) -> str:
    with app.test_request_context(), force_locale(locale):
        return _(message)


def _short_date(app, locale: str) -> str:
    with app.test_request_context(), force_locale(locale):
        return render_template_string("{{ when|datetime('short') }}", when=SUBMITTED_AT)


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_my_dashboard_says_where_each_proposal_stands(browser, live_server, app, dashboard_world, device):
    _world, solver, proposals = dashboard_world
    context, page = open_device(browser, device)
    try:
        sign_in(page, live_server, solver)
        assert page.url.endswith("/me/dashboard"), "a solver lands on their dashboard"
        for locale in LOCALES:
            set_locale(app, solver, locale)
            page.goto(f"{live_server}/challenges")
            open_menu(page)
            menu_item = page.locator(".main-nav a[href='/me/dashboard']")
            assert menu_item.is_visible()
            assert menu_item.inner_text().strip() == _in_locale(app, locale, "My dashboard")
            with page.expect_navigation():
                menu_item.click()
            assert page.locator("h1").inner_text() == _in_locale(app, locale, "My dashboard")
            assert page.get_attribute("html", "dir") == ("rtl" if locale == "ar" else "ltr")

            for state, (proposal_id, amount) in proposals.items():
                card = page.locator(f"article.proposal-card:has(a[href='/proposals/{proposal_id}'])")
                assert card.locator("h3").inner_text() == TITLES[state]
                assert card.locator(".badge").first.inner_text().strip() == _expected(app, locale, state, amount)
            lost = page.locator(f"article.proposal-card a[href='/proposals/{proposals['not_awarded'][0]}#feedback']")
            assert lost.inner_text() == _in_locale(app, locale, "Read the reviewers' feedback")

            main = page.inner_text("main")
            assert not RAW_CODES.search(main), RAW_CODES.search(main)
            if locale != "en":  # every state is a word of the page's language
                assert not STATE_CODES.search(interface_text(page)), STATE_CODES.search(interface_text(page))
            assert _short_date(app, locale) in main, "dates in the reader's locale"
            if locale == "ar":  # English titles keep their own direction inside the Arabic page
                for title in page.locator("article.proposal-card h3 a").all():
                    assert title.get_attribute("dir") == "auto" and title.get_attribute("lang") == "en"
                    assert title.evaluate("a => getComputedStyle(a).unicodeBidi") == "isolate"
            assert no_sideways_scroll(page)
            assert axe_violations(page) == []
            shoot(page, f"dashboard-{device}-{locale}")
    finally:
        context.close()
