"""In the browser: the staff pages, on a desktop and on a 390x844 phone, in English, Chinese and Arabic.

- Each role lands on its own work after signing in: the manager on the challenges (with those waiting for
  them), the security officer on the clearance queue, the finance officer on the finance overview (and the
  funding queue and the ledger with its chart one click away), the reviewer on their assignments.
- Irreversible actions (publish, close early, approve and pay) say what happens, and to whom, before the
  real button can be pressed.
- The signed-in header of someone with every staff role fits one line at 1280 px in all eight languages and
  folds into a menu that opens without script on a phone.
Codes are shown as translated words, nothing scrolls sideways and axe-core finds nothing on any of these
pages. One world per test; the language changes between page loads.
"""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _

from marketplace.extensions import db
from tests.browser.journeys import (
    ALL_LOCALES,
    LOCALES,
    RAW_CODES,
    VIEWPORTS,
    axe_violations,
    interface_text,
    no_sideways_scroll,
    open_device,
    open_menu,
    set_locale,
    shoot,
    sign_in,
    too_wide,
)

pytestmark = pytest.mark.browser

ISO_DATE = re.compile(r"\b20\d\d-\d\d-\d\d\b")
TITLE = "Low-noise readout circuit for wafer defect sensors"  # the challenges' own text, in English only
# In a Chinese or Arabic page any of these Latin words is a stored code that escaped translation.
LATIN_CODES = re.compile(r"\b(awarded|manual|funded|cleared|judging|open|closed|draft|submitted|assigned|"
                         r"wire|stripe|funding|allocation|payout|semiconductors|sensors|materials)\b")


def _in_locale(app, locale: str, message: str, **values) -> str:
    with app.test_request_context(), force_locale(locale):
        return _(message, **values)


def _grant(app, user, role: str, org) -> None:
    from marketplace.accounts import services
    from marketplace.accounts.models import Organization, User

    with app.test_request_context():
        services.grant_role(db.session.get(User, user.id), role, db.session.get(Organization, org.id))
        db.session.commit()


class StaffWorld:
    """A center with work waiting for each role (see the module docstring)."""

    def __init__(self, app, client, make_org, make_user, api_token, challenge_factory):  # noqa: F811
        from tests.payments.world import World

        money = World(app, client, make_org, make_user, api_token, challenge_factory)
        self.app, self.org, self.manager = app, money.org, money.manager
        self.finance, self.approver = money.finance_a, money.finance_b
        self.officer, _finance = challenge_factory.officers(money.org)
        self.in_clearance = money.challenge(status="in_clearance")
        self.to_fund = money.challenge(status="cleared")
        self.to_publish = money.challenge(status="funded")
        self.open = money.challenge(status="open")
        decided = money.challenge(status="cleared")
        money.fund_by_wire(decided)
        self.winner = money.solver("DE", name="Anna Schmidt")
        [self.award_id] = money.ready_award(decided, [([self.winner], "100")])
        assert money.post(f"/awards/{self.award_id}/release", self.finance).status_code == 200
        self.reviewer, self.review_id = self._assignment(make_user, money)

    def _assignment(self, make_user, money):
        """A reviewer (with the role) assigned to a proposal of a closed challenge of this center."""
        from marketplace.accounts.models import User
        from marketplace.challenges import agreements
        from marketplace.challenges import services as challenges
        from marketplace.proposals import services as proposals
        from marketplace.reviews import pool
        from marketplace.reviews.assignment import service as assigning

        reviewer = make_user("grace@navy.example", name="Grace Hopper", country="US",
                             roles=[("reviewer", self.org)])
        lead = make_user("chen.yu@fudan.example", name="Chen Yu", country="CN")
        closed = money.challenge(status="open")
        with self.app.test_request_context():
            challenge, author = db.session.get(type(closed), closed.id), db.session.get(User, lead.id)
            agreements.accept(challenge, author, version=challenge.agreement_version)
            proposal = proposals.create_proposal(challenge, author, {
                "title": "Metal-oxide nanowire gas sensor array", "abstract": "Tin oxide nanowires.",
                "body": "A gas sensor array of metal oxide nanowires.", "locale": "en"})
            proposals.submit(proposal, author)
            manager = db.session.get(User, self.manager.id)
            challenges.close(challenge, manager)
            pool.add_reviewers(challenge, manager, [reviewer.id])
            pool.accept_agreement(challenge, db.session.get(User, reviewer.id), version=pool.AGREEMENT_VERSION)
            outcome = assigning.run_assignment(challenge, manager, assigning.AssignmentRequest(per_proposal=1))
            db.session.commit()
            [review] = outcome.reviews
            return reviewer, review.id


@pytest.fixture
def staff(app, client, make_org, make_user, api_token, challenge_factory):  # noqa: F811
    return StaffWorld(app, client, make_org, make_user, api_token, challenge_factory)


def _excerpt(text: str, found) -> str:
    return " ".join(text[max(found.start() - 80, 0):found.end() + 40].split())


def _check_page(page, locale: str, name: str) -> None:
    """What every staff page owes its reader: translated codes, no sideways scrolling, no axe violation."""
    shoot(page, name)
    main = page.inner_text("main")
    found = RAW_CODES.search(main)
    assert not found, (name, _excerpt(main, found))
    ours = interface_text(page).replace(TITLE, "")  # the English title is quoted in some sentences
    found = ISO_DATE.search(ours)
    assert not found, (name, "dates are written the locale's way", _excerpt(ours, found))
    if locale != "en":
        found = LATIN_CODES.search(ours)
        assert not found, (name, _excerpt(ours, found))
    assert page.get_attribute("html", "dir") == ("rtl" if locale == "ar" else "ltr")
    assert no_sideways_scroll(page), (name, too_wide(page))
    assert axe_violations(page) == [], name


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_each_role_lands_on_its_own_work(browser, live_server, app, staff, device):
    landings = (  # (who, where they land, what waits for them there)
        (staff.manager, "/staff/challenges", f"a[href='/staff/challenges/{staff.to_publish.id}']"),
        (staff.officer, "/staff/clearance", f"a[href='/staff/challenges/{staff.in_clearance.id}']"),
        (staff.approver, "/finance", f"a[href='/finance/awards/{staff.award_id}']"),
        (staff.reviewer, "/reviews", f"a[href='/reviews/{staff.review_id}']"),
    )
    context, page = open_device(browser, device)
    try:
        for user, landing, waiting in landings:
            set_locale(app, user, "en")
            sign_in(page, live_server, user)
            assert page.url == f"{live_server}{landing}", (user.email, page.url)
            for locale in LOCALES:
                if locale != "en":
                    set_locale(app, user, locale)
                    page.goto(f"{live_server}{landing}")
                assert page.locator(f"main {waiting}").first.is_visible(), (landing, waiting)
                _check_page(page, locale, f"landing{landing.replace('/', '-')}-{device}-{locale}")

        # The finance officer's other queues: funding and the ledger with its chart.
        sign_in(page, live_server, staff.approver)
        for locale in LOCALES:
            set_locale(app, staff.approver, locale)
            page.goto(f"{live_server}/staff/funding")
            assert page.locator(f"main a[href='/staff/challenges/{staff.to_fund.id}']").first.is_visible()
            _check_page(page, locale, f"funding-{device}-{locale}")
            page.goto(f"{live_server}/finance/ledger")
            assert page.inner_text("h1") == _in_locale(app, locale, "Ledger")
            chart = page.locator("figure.chart:has(svg[role='img'])").first
            assert chart.locator("svg").is_visible()
            box = chart.bounding_box()  # the figure fits the screen (on a phone its wide chart scrolls inside it)
            assert box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORTS[device]["width"], box
            _check_page(page, locale, f"ledger-{device}-{locale}")
    finally:
        context.close()


def _confirmation(page, action: str):
    """The confirmation panel of the form posting to `action`: closed, its real button hidden, until asked."""
    details = page.locator(f"details.confirm-action:has(form[action$='{action}'])")
    button = details.locator(f"form[action$='{action}'] button")
    assert details.count() == 1 and not button.is_visible(), "the real button waits behind the question"
    details.locator("summary").click()
    assert button.is_visible()
    return details


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_irreversible_actions_say_what_happens_first(browser, live_server, app, staff, device):
    context, page = open_device(browser, device)
    try:
        sign_in(page, live_server, staff.manager)
        for locale in LOCALES:
            set_locale(app, staff.manager, locale)
            page.goto(f"{live_server}/staff/challenges/{staff.to_publish.id}")
            panel = _confirmation(page, "/publish")
            assert _in_locale(app, locale, "This cannot be undone.") in panel.inner_text()
            _check_page(page, locale, f"confirm-publish-{device}-{locale}")
            page.goto(f"{live_server}/staff/challenges/{staff.open.id}")
            more = page.locator("details:has(details.confirm-action form[action$='/close']):not(.confirm-action)")
            if more.count():  # closing early sits in a "more actions" disclosure of its own
                more.first.locator("summary").first.click()
            _confirmation(page, "/close")
            _check_page(page, locale, f"confirm-close-{device}-{locale}")

        sign_in(page, live_server, staff.approver)
        for locale in LOCALES:
            set_locale(app, staff.approver, locale)
            page.goto(f"{live_server}/finance/awards/{staff.award_id}")
            panel = _confirmation(page, "/approve")
            assert "Anna Schmidt" in panel.inner_text(), "approving says who is paid"
            _check_page(page, locale, f"confirm-approve-{device}-{locale}")

        # Answering the question does it: the manager publishes.
        sign_in(page, live_server, staff.manager)
        page.goto(f"{live_server}/staff/challenges/{staff.to_publish.id}")
        _confirmation(page, "/publish")
        with page.expect_navigation():
            page.click("form[action$='/publish'] button")
        assert _in_locale(app, "ar", "Open") in page.inner_text(".ch-road")
    finally:
        context.close()


def _everyone(app, make_user, staff):
    """One person who holds every staff role of the center: the longest signed-in header."""
    user = make_user("all.roles@icc.example", name="Li Wei", roles=[("center_manager", staff.org)])
    for role in ("security_officer", "finance_officer", "reviewer"):
        _grant(app, user, role, staff.org)
    return user


def test_the_signed_in_header_fits_one_line_and_folds_on_a_phone(browser, live_server, app, make_user, staff):
    user = _everyone(app, make_user, staff)
    context, page = open_device(browser, "desktop")
    try:
        sign_in(page, live_server, user)
        for locale in ALL_LOCALES:
            set_locale(app, user, locale)
            page.goto(f"{live_server}/staff/challenges")
            tops = page.evaluate("""() => [...document.querySelectorAll(`.site-header .brand, .main-nav > ul > li,
                .nav-menu > ul > li, .nav-menu > summary, .language-switcher`)]
                .filter(e => e.offsetParent !== null)
                .map(e => Math.round(e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2))""")
            assert max(tops) - min(tops) <= 8, (locale, tops)  # one line: every item on the same middle
            assert page.evaluate("document.querySelector('.site-header').offsetHeight") <= 80, locale
            assert no_sideways_scroll(page), locale
            if locale in LOCALES:  # the two drop-downs open without script and stay on the screen
                for shot, group, link in (("work", "details.nav-drop:not(.nav-account)", "a[href='/finance']"),
                                          ("account", "details.nav-account", "form[action='/auth/logout'] button")):
                    page.click(f"{group} > summary")
                    box = page.locator(f"{group} {link}").bounding_box()
                    assert box and 0 <= box["x"] and box["x"] + box["width"] <= VIEWPORTS["desktop"]["width"], box
                    assert axe_violations(page) == [], (locale, group)
                    shoot(page, f"header-desktop-{locale}-{shot}")
                    page.click(f"{group} > summary")
            shoot(page, f"header-desktop-{locale}")
    finally:
        context.close()

    context, page = open_device(browser, "phone")
    try:
        sign_in(page, live_server, user)
        for locale in LOCALES:
            set_locale(app, user, locale)
            page.goto(f"{live_server}/staff/challenges")
            dashboard = page.locator(".main-nav a[href='/me/dashboard']")
            assert not dashboard.is_visible(), "the menu is folded on a phone"
            header = page.evaluate("document.querySelector('.site-header').offsetHeight")
            assert header <= 140, header
            assert page.locator("main h1").bounding_box()["y"] < VIEWPORTS["phone"]["height"] / 2
            open_menu(page)
            assert dashboard.is_visible()
            assert page.locator("form[action='/auth/logout'] button").is_visible()
            assert no_sideways_scroll(page)
            assert axe_violations(page) == [], locale
            shoot(page, f"header-phone-{locale}")
    finally:
        context.close()
