"""Finance pages: the ledger journal (filters, balances, CSV, page and API), who released an award, confirmations."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from tests.helpers import text_of


@pytest.fixture
def paid(world):
    """A wire-funded challenge whose award was released, approved and confirmed: funding, allocation, payout."""
    challenge = world.challenge(status="cleared")
    world.fund_by_wire(challenge)
    solver = world.solver("DE")
    [award_id] = world.ready_award(challenge, [([solver], "100")])
    assert world.post(f"/awards/{award_id}/release", world.finance_a).status_code == 200
    assert world.post(f"/awards/{award_id}/approve", world.finance_b).status_code == 200
    done = world.post(f"/awards/{award_id}/payout-confirmation", world.finance_a, json={"reference": "BOC-77"})
    assert done.status_code == 200, done.get_json()
    return challenge, award_id, solver


def _kinds(answer) -> list[str]:
    return [t["kind"] for t in answer.get_json()["items"]]


def test_the_api_filters_the_journal_by_movement_account_and_day(world, paid):
    challenge, _award_id, solver = paid
    everything = world.get("/finance/ledger", world.finance_a)
    assert _kinds(everything) == ["payout", "allocation", "funding"]
    assert _kinds(world.get("/finance/ledger?kind=payout", world.finance_a)) == ["payout"]
    assert _kinds(world.get(f"/finance/ledger?account=payable:user:{solver.id}", world.finance_a)) == [
        "payout", "allocation"]
    assert _kinds(world.get("/finance/ledger?account=escrow", world.finance_a)) == ["allocation", "funding"]
    today = date.today()
    assert _kinds(world.get(f"/finance/ledger?since={today - timedelta(days=1)}&until={today + timedelta(days=1)}",
                            world.finance_a)) == ["payout", "allocation", "funding"]
    assert _kinds(world.get(f"/finance/ledger?since={today + timedelta(days=1)}", world.finance_a)) == []
    assert _kinds(world.get("/finance/ledger?since=0001-01-01&until=9999-12-31", world.finance_a)) == [
        "payout", "allocation", "funding"]  # the widest days are an answer, not an error


def test_balances_per_account_add_up_from_the_lines_shown(world, paid):
    challenge, _award_id, solver = paid
    balances = world.get("/finance/ledger", world.finance_a).get_json()["balances"]
    accounts = {a["account"]: a for a in balances["accounts"]}
    escrow = accounts[f"escrow:challenge:{challenge.id}"]
    assert escrow["credits"]["amount"] == f"{challenge.funding_target_minor / 100:.2f}"
    held = float(escrow["credits"]["amount"]) - float(escrow["debits"]["amount"])
    assert float(escrow["balance"]["amount"]) == pytest.approx(abs(held))
    assert escrow["side"] == ("credit" if held > 0 else "")
    payable = accounts[f"payable:user:{solver.id}"]
    assert payable["debits"] == payable["credits"] and payable["side"] == "" and payable["balance"]["amount"] == "0.00"


@pytest.mark.parametrize("query", ["kind=gift", "since=2026-13-01", "since=2027-02-01&until=2027-01-01",
                                   "account=" + "x" * 81])
def test_bad_filters_are_a_422_problem(world, paid, query):
    answer = world.get(f"/finance/ledger?{query}", world.finance_a)
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"


def test_the_csv_lists_one_row_per_line_for_finance_of_the_organization_only(world, paid, make_org, make_user):
    challenge, _award_id, _solver = paid
    answer = world.get("/finance/ledger.csv", world.finance_a)
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [r["kind"] for r in rows] == ["payout", "payout", "allocation", "allocation", "funding", "funding"]
    funding = [r for r in rows if r["kind"] == "funding"]
    assert {r["account"] for r in funding} == {"clearing:manual", f"escrow:challenge:{challenge.id}"}
    assert all(bool(r["debit"]) != bool(r["credit"]) for r in rows)
    stranger = make_user(roles=[("finance_officer", make_org())])
    assert world.get("/finance/ledger.csv", stranger).get_data(as_text=True).count("\n") == 1  # the header only
    assert world.get("/finance/ledger.csv", world.manager).status_code == 403


def test_the_ledger_page_shows_the_journal_chart_and_filters(app, world, paid, login):
    challenge, _award_id, _solver = paid
    browser = login(world.finance_a)
    page = browser.get("/finance/ledger?lang=en")
    assert page.status_code == 200
    text = text_of(page)
    assert "Journal" in text and "3 transactions, the newest first." in text
    assert "· Funding into escrow" in text and "· Payout" in text and "· Award allocated" in text
    html = page.get_data(as_text=True)
    assert '<svg role="img"' in html and f"escrow:challenge:{challenge.id}" in html
    only_payouts = text_of(browser.get("/finance/ledger?lang=en&kind=payout"))
    assert "1 transaction, the newest first." in only_payouts and "· Funding into escrow" not in only_payouts
    assert "· Payout" in only_payouts
    export = browser.get("/finance/ledger.csv?kind=funding")
    assert export.status_code == 200 and export.get_data(as_text=True).count("\n") == 3


def test_the_ledger_page_refuses_bad_days_and_other_roles(app, world, paid, login, client):
    browser = login(world.finance_a)
    bad = browser.get("/finance/ledger?lang=en&since=2027-02-01&until=2027-01-01")
    assert bad.status_code == 422 and "The first day comes after the last." in text_of(bad)
    client.get("/auth/logout")
    assert login(world.manager).get("/finance/ledger").status_code == 404


def test_the_award_page_says_who_requested_the_release_and_who_approved_it(app, world, paid, login):
    from marketplace.accounts.models import User
    from marketplace.extensions import db

    _challenge, award_id, _solver = paid
    with app.app_context():
        db.session.get(User, world.finance_a.id).display_name = "Fang Li"
        db.session.get(User, world.finance_b.id).display_name = "Omar Haddad"
        db.session.commit()
    text = text_of(login(world.finance_a).get(f"/finance/awards/{award_id}?lang=en"))
    assert "Release requested by Fang Li," in text and "Approved by Omar Haddad," in text


def test_approving_asks_first_and_says_who_is_paid_how_much(app, world, login):
    from marketplace.accounts.models import User
    from marketplace.extensions import db

    challenge = world.challenge(status="cleared")
    world.fund_by_wire(challenge)
    solver = world.solver("DE")
    with app.app_context():
        db.session.get(User, solver.id).display_name = "Anna Schmidt"
        db.session.commit()
    [award_id] = world.ready_award(challenge, [([solver], "100")])
    assert world.post(f"/awards/{award_id}/release", world.finance_a).status_code == 200
    page = login(world.finance_b).get(f"/finance/awards/{award_id}?lang=en")
    html = page.get_data(as_text=True)
    start = html.index('<details class="confirm-action">')
    panel = html[start:html.index("</details>", start)]
    assert "<summary" in panel and "Approve and pay" in panel and "Yes, approve and pay" in panel
    assert "to Anna Schmidt now." in panel and "This cannot be undone." in panel
    assert f'action="/finance/awards/{award_id}/approve"' in panel
