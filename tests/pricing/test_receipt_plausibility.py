"""Funding receipts: over-funding needs an explicit confirmation, dates in the future are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from marketplace.challenges.models import Challenge
from marketplace.extensions import db
from marketplace.payments.models import FundingReceipt
from tests.helpers import field_error, post_form, text_of

AWARD = {"amount": "413417.72", "currency": "CNY"}  # the quote of the standard test challenge


@pytest.fixture
def cleared(make_org, make_user, challenge_factory):  # noqa: F811 - the fixture imported above
    org = make_org("sh-fund")
    challenge = challenge_factory(org, make_user(roles=[("center_manager", org)]), status="cleared")
    _officer, finance = challenge_factory.officers(org)
    return challenge, finance


def receipts_and_funded(app, challenge_id: int) -> tuple[int, bool]:
    with app.app_context():
        receipts = db.session.scalar(select(func.count()).select_from(FundingReceipt)
                                     .filter_by(challenge_id=challenge_id))
        return receipts, db.session.get(Challenge, challenge_id).funded


def post_receipt(client, challenge_id, headers, **changes):
    body = {"reference": "BOC-1", "amount": AWARD, "received_on": "2026-11-05", **changes}
    return client.post(f"/api/v1/challenges/{challenge_id}/funding/receipts", json=body, headers=headers)


def test_more_than_outstanding_needs_confirm_overfunding(app, client, api_token, cleared):
    challenge, finance = cleared
    headers = api_token(finance)
    too_much = post_receipt(client, challenge.id, headers, amount={"amount": "500000.00", "currency": "CNY"})
    assert too_much.status_code == 422
    assert "more than what is outstanding (413417.72 CNY)" in too_much.get_json()["errors"]["confirm_overfunding"][0]
    assert receipts_and_funded(app, challenge.id) == (0, False)
    confirmed = post_receipt(client, challenge.id, headers, amount={"amount": "500000.00", "currency": "CNY"},
                             confirm_overfunding=True)
    assert confirmed.status_code == 201 and confirmed.get_json()["challenge_funded"] is True
    assert receipts_and_funded(app, challenge.id) == (1, True)
    # Once funded, anything more is over-funding too.
    extra = post_receipt(client, challenge.id, headers, reference="BOC-2", amount={"amount": "1.00", "currency": "CNY"})
    assert extra.status_code == 422 and receipts_and_funded(app, challenge.id) == (1, True)


def test_exactly_what_is_outstanding_needs_no_confirmation(app, client, api_token, cleared):
    challenge, finance = cleared
    headers = api_token(finance)
    half = post_receipt(client, challenge.id, headers, amount={"amount": "200000.00", "currency": "CNY"})
    assert half.status_code == 201
    rest = post_receipt(client, challenge.id, headers, reference="BOC-2",
                        amount={"amount": "213417.72", "currency": "CNY"})
    assert rest.status_code == 201 and receipts_and_funded(app, challenge.id) == (2, True)


def test_a_receipt_dated_in_the_future_is_422(app, client, api_token, cleared):
    challenge, finance = cleared
    future = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    response = post_receipt(client, challenge.id, api_token(finance), received_on=future)
    assert response.status_code == 422
    assert response.get_json()["errors"]["received_on"] == ["The date received cannot be in the future."]
    assert receipts_and_funded(app, challenge.id) == (0, False)


def test_the_funding_page_asks_for_the_confirmation_and_refuses_future_dates(app, browser, cleared):  # noqa: F811
    challenge, finance = cleared
    finance_browser = browser(finance)
    url = f"/staff/challenges/{challenge.id}"
    future = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    dated = post_form(finance_browser, f"{url}/receipts?lang=en",
                      {"reference": "BOC-1", "amount": "413417.72", "received_on": future}, prefix="receipt", page=url)
    assert dated.status_code == 422
    assert field_error(dated, "receipt-received_on") == "The date received cannot be in the future."
    too_much = post_form(finance_browser, f"{url}/receipts?lang=en",
                         {"reference": "BOC-1", "amount": "500000.00", "received_on": "2026-11-05"},
                         prefix="receipt", page=url)
    assert too_much.status_code == 422
    assert "more than what is outstanding" in field_error(too_much, "receipt-confirm_overfunding")
    assert "Record it even if it is more than what is outstanding" in text_of(too_much)
    assert receipts_and_funded(app, challenge.id) == (0, False)
    confirmed = post_form(finance_browser, f"{url}/receipts?lang=en",
                          {"reference": "BOC-1", "amount": "500000.00", "received_on": "2026-11-05",
                           "confirm_overfunding": "y"}, prefix="receipt", page=url)
    assert confirmed.status_code == 302
    assert receipts_and_funded(app, challenge.id) == (1, True)
