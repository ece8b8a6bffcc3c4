"""Payee declarations (encrypted at rest, shown masked), payout accounts, and the payment pages."""

from __future__ import annotations

import base64
import os
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from marketplace.extensions import db
from tests.helpers import csrf_token_from, rows
from tests.payments.world import use_stripe


@contextmanager
def commits_counted():
    """The commits of the app's session while the block runs (a GET page must make none)."""
    commits: list[object] = []
    record = commits.append
    event.listen(db.session, "after_commit", record)
    try:
        yield commits
    finally:
        event.remove(db.session, "after_commit", record)

ANNA = {"legal_name": "Anna  Schmidt", "residence_country": "de", "date_of_birth": "1990-03-15",
        "tax_form": "W-8BEN", "tax_id": "DE 12 345 678 901",
        "bank_account": {"account_number": "DE89 3704 0044 0532 0130 00", "swift_bic": "cobadeffxxx",
                         "bank_name": "Commerzbank"}}


def stored_profile(app, user):
    from marketplace.payments.models import PayeeProfile

    with app.app_context():
        return db.session.get(PayeeProfile, user.id)


def test_payee_details_are_stored_encrypted_and_returned_masked(app, world):
    anna = world.make_user(country="DE")
    assert world.get("/me/payee", anna).status_code == 404
    saved = world.put("/me/payee", anna, json=ANNA)
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json() | {"updated_at": None} == {
        "legal_name": "A***** S*****", "residence_country": "DE", "date_of_birth": "****-**-15",
        "tax_form": "W-8BEN", "tax_id": "****8901", "updated_at": None,
        "bank_account": {"bank_name": "Commerzbank", "account_number": "****3000", "swift_bic": "COBA****"}}
    assert world.get("/me/payee", anna).get_json() == saved.get_json()

    profile = stored_profile(app, anna)
    for secret, column in ((b"Schmidt", profile.legal_name_enc), (b"1990-03-15", profile.date_of_birth_enc),
                           (b"345 678", profile.tax_id_enc), (b"0532", profile.bank_details_enc)):
        assert secret not in column and len(column) > 30
    with app.app_context():
        from marketplace.payments import payees

        clear = payees.decrypted(profile)
        assert clear["legal_name"] == "Anna Schmidt" and clear["date_of_birth"] == date(1990, 3, 15)
        assert clear["bank_account"]["account_number"] == "DE89370400440532013000"


def test_ciphertexts_are_bound_to_their_user_and_field(app, world):
    anna, ben = world.make_user(), world.make_user()
    world.put("/me/payee", anna, json=ANNA)
    world.put("/me/payee", ben, json=ANNA | {"legal_name": "Ben Meyer"})
    with app.app_context():
        from marketplace.payments import payees

        box = payees.cipher()
        mine, theirs = stored_profile(app, anna), stored_profile(app, ben)
        with pytest.raises(ValueError, match="tampered"):  # another user's row
            box.decrypt(theirs.legal_name_enc, f"innobridge:payee:{anna.id}:legal_name")
        with pytest.raises(ValueError, match="tampered"):  # another column
            box.decrypt(mine.legal_name_enc, f"innobridge:payee:{anna.id}:date_of_birth")
        flipped = bytearray(mine.legal_name_enc)
        flipped[-1] ^= 1
        with pytest.raises(ValueError):
            box.decrypt(bytes(flipped), f"innobridge:payee:{anna.id}:legal_name")


def test_keys_rotate_the_first_encrypts_every_one_decrypts(app, world, monkeypatch):
    from marketplace.payments.payees import PayeeCipher

    old, new = (base64.urlsafe_b64encode(os.urandom(32)).decode() for _ in range(2))
    monkeypatch.setitem(app.config, "PAYEE_ENCRYPTION_KEY", old)
    anna = world.make_user()
    world.put("/me/payee", anna, json=ANNA)
    monkeypatch.setitem(app.config, "PAYEE_ENCRYPTION_KEY", f"{new},{old}")
    assert world.get("/me/payee", anna).get_json()["legal_name"] == "A***** S*****"
    world.put("/me/payee", anna, json=ANNA | {"legal_name": "Anna Weber"})
    envelope = stored_profile(app, anna).legal_name_enc
    assert PayeeCipher.from_setting(new).decrypt(envelope, f"innobridge:payee:{anna.id}:legal_name") == "Anna Weber"
    monkeypatch.setitem(app.config, "PAYEE_ENCRYPTION_KEY", old)  # the new key is gone: refuse, do not guess
    with pytest.raises(ValueError, match="no longer configured"):
        with app.app_context():
            from marketplace.payments import payees

            payees.decrypted(stored_profile(app, anna))
    with pytest.raises(ValueError):
        PayeeCipher.from_setting("too-short")


def test_without_a_key_outside_tests_payee_data_is_refused(app, world, monkeypatch):
    anna = world.make_user()
    monkeypatch.setitem(app.config, "PAYEE_ENCRYPTION_KEY", None)
    monkeypatch.setitem(app.config, "TESTING", False)
    answer = world.put("/me/payee", anna, json=ANNA)
    assert answer.status_code == 503 and stored_profile(app, anna) is None


@pytest.mark.parametrize(("change", "field"), [
    ({"legal_name": " "}, "legal_name"),
    ({"residence_country": "XX"}, "residence_country"),
    ({"date_of_birth": (date.today() - timedelta(days=17 * 365)).isoformat()}, "date_of_birth"),
    ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
    ({"tax_form": "W-9", "tax_id": None}, "tax_id"),
    ({"tax_form": "W-9", "tax_id": "12-34"}, "tax_id"),
    ({"tax_form": "W-8BEN", "residence_country": "US"}, "tax_form"),
    ({"tax_form": "1099"}, "tax_form"),
    ({"bank_account": {"account_number": "DE89370400440532013001", "swift_bic": "COBADEFF"}},
     "bank_account.account_number"),
    ({"bank_account": {"account_number": "12345678", "swift_bic": "NOTABIC"}}, "bank_account.swift_bic"),
])
def test_invalid_payee_details_are_refused_field_by_field(app, world, change, field):
    anna = world.make_user()
    answer = world.put("/me/payee", anna, json=ANNA | change)
    assert answer.status_code == 422 and field in answer.get_json()["errors"], answer.get_json()
    assert stored_profile(app, anna) is None


def test_bank_details_stay_unless_sent_and_null_clears_them(app, world):
    anna = world.make_user()
    world.put("/me/payee", anna, json=ANNA)
    without = {k: v for k, v in ANNA.items() if k != "bank_account"}
    assert world.put("/me/payee", anna, json=without).get_json()["bank_account"]["account_number"] == "****3000"
    assert world.put("/me/payee", anna, json=without | {"bank_account": None}).get_json()["bank_account"] is None
    us = world.put("/me/payee", anna, json=without | {"residence_country": "US", "tax_form": "W-9",
                                                      "tax_id": "123-45-6789"})
    assert us.status_code == 200 and us.get_json()["tax_id"] == "****6789"


def test_payee_endpoints_need_a_login(app, client):
    from tests.helpers import rows

    assert client.get("/api/v1/me/payee").status_code == 401
    assert client.put("/api/v1/me/payee", json=ANNA).status_code == 401
    assert client.post("/api/v1/me/payout-account").status_code == 401
    assert rows(app, "payee_profiles") == 0 and rows(app, "payout_accounts") == 0  # nothing was written


def test_payout_account_needs_payee_details_first(world):
    anna = world.make_user()
    refused = world.post("/me/payout-account", anna)
    assert refused.status_code == 409 and "payee details" in refused.get_json()["detail"]


def test_stripe_onboarding_link_for_supported_countries_and_plain_words_for_others(app, world, stripe_wire,
                                                                                     monkeypatch):
    use_stripe(app, monkeypatch, stripe_wire)
    anna, wei = world.solver("DE", bank=False), world.solver("CN", bank=False)
    first = world.post("/me/payout-account", anna)
    assert first.status_code == 201 and first.get_json()["onboarding_url"].startswith(stripe_wire.url)
    again = world.post("/me/payout-account", anna)  # a new single-use link, the same Stripe account
    assert again.status_code == 200 and again.get_json()["onboarding_url"] != first.get_json()["onboarding_url"]
    assert len(stripe_wire.accounts) == 1

    plan = world.get("/me/payout-account", wei).get_json()
    assert plan["provider"] == "manual" and plan["ready"] is False
    assert "Stripe cannot pay out to residents of China" in plan["message"]
    assert "Add your bank account" in plan["message"]
    without_stripe = world.post("/me/payout-account", wei)
    assert without_stripe.get_json()["onboarding_url"] is None and len(stripe_wire.accounts) == 1


# --- pages -------------------------------------------------------------------------------


def test_the_payee_form_saves_and_shows_masked_details(app, world, login):
    anna = world.make_user(country="DE")
    browser = login(anna)
    page = browser.get("/me/payee")
    assert page.status_code == 200 and b'for="legal_name"' in page.data
    form = {"legal_name": "Anna Schmidt", "residence_country": "DE", "date_of_birth": "1990-03-15",
            "tax_form": "W-8BEN", "tax_id": "", "account_number": "DE89370400440532013000",
            "swift_bic": "COBADEFFXXX", "bank_name": "", "csrf_token": csrf_token_from(page)}
    bad = browser.post("/me/payee", data=form | {"swift_bic": "nope"})
    assert bad.status_code == 422 and b"SWIFT/BIC" in bad.data
    saved = browser.post("/me/payee", data=form)
    assert saved.status_code == 303 and saved.headers["Location"].endswith("/me/payments")
    status = browser.get("/me/payments")
    assert b"A***** S*****" in status.data and b"Awards are paid by bank wire" in status.data
    assert b"Schmidt" not in status.data


def _payee_form(page, **changes) -> dict:
    return {"legal_name": "Anna Schmidt", "residence_country": "DE", "date_of_birth": "1990-03-15",
            "tax_form": "W-8BEN", "tax_id": "", "account_number": "DE89370400440532013000",
            "swift_bic": "COBADEFFXXX", "bank_name": "", "csrf_token": csrf_token_from(page)} | changes


def test_the_payee_country_is_a_select_of_names_in_the_solvers_language(app, world, login):
    page = login(world.make_user(country="DE", locale="zh_Hans")).get("/me/payee").get_data(as_text=True)
    assert '<select' in page and '<option selected value="DE">德国</option>' in page
    assert '<option value="FR">法国</option>' in page
    arabic = login(world.make_user(country="DE", locale="ar")).get("/me/payee").get_data(as_text=True)
    assert '<option selected value="DE">ألمانيا</option>' in arabic


def test_a_made_up_payee_country_is_refused_and_nothing_is_saved(app, world, login):
    anna = world.make_user(country="DE")
    browser = login(anna)
    answer = browser.post("/me/payee?lang=en", data=_payee_form(browser.get("/me/payee"), residence_country="XX"))
    assert answer.status_code == 422 and b"Not a valid choice" in answer.data
    assert world.get("/me/payee", anna).status_code == 404


def test_a_payee_country_other_than_the_accounts_asks_for_confirmation(app, world, login):
    anna = world.make_user(country="DE")
    browser = login(anna)
    form = _payee_form(browser.get("/me/payee"), residence_country="FR", account_number="FR1420041010050500013M02606",
                       swift_bic="BNPAFRPPXXX")
    asked = browser.post("/me/payee?lang=en", data=form)
    assert asked.status_code == 422
    text = asked.get_data(as_text=True)
    assert "Your account says you live in Germany. Confirm that you live in France" in text
    assert 'name="confirm_country"' in text
    assert world.get("/me/payee", anna).status_code == 404, "nothing is saved before the confirmation"
    confirmed = browser.post("/me/payee", data=form | {"confirm_country": "y"})
    assert confirmed.status_code == 303
    assert world.get("/me/payee", anna).get_json()["residence_country"] == "FR"
    same = login(world.make_user(country="FR"))
    assert same.post("/me/payee", data=_payee_form(same.get("/me/payee"), residence_country="FR",
                                                   account_number="FR1420041010050500013M02606",
                                                   swift_bic="BNPAFRPPXXX")).status_code == 303


def test_my_payments_says_in_advance_when_stripe_cannot_pay(app, world, login, stripe_wire, monkeypatch):
    use_stripe(app, monkeypatch, stripe_wire)
    challenge = world.challenge(status="cleared")
    world.fund_by_wire(challenge)
    wei = world.solver("CN")
    [award_id] = world.award(challenge, [([wei], "100")])
    page = login(wei).get("/me/payments")
    assert page.status_code == 200
    assert b"Stripe cannot pay out to residents of China" in page.data
    assert f"/awards/{award_id}/ip-assignment".encode() in page.data
    ip_page = login(wei).get(f"/awards/{award_id}/ip-assignment")
    assert b"Intellectual property assignment" in ip_page.data
    accepted = login(wei).post(f"/awards/{award_id}/ip-assignment",
                               data={"csrf_token": csrf_token_from(ip_page),
                                     "version": world.get(f"/awards/{award_id}/ip-assignment", wei)
                                     .get_json()["version"]})
    assert accepted.status_code == 303
    assert world.get(f"/awards/{award_id}", wei).get_json()["ip_assigned"] is True


def test_connecting_from_the_page_sends_the_solver_to_stripe(app, world, login, stripe_wire, monkeypatch):
    use_stripe(app, monkeypatch, stripe_wire)
    anna = world.solver("DE", bank=False)
    browser = login(anna)
    page = browser.get("/me/payments")
    answer = browser.post("/me/payout-account", data={"csrf_token": csrf_token_from(page)})
    assert answer.status_code == 303 and answer.headers["Location"].startswith(stripe_wire.url)
    stripe_wire.complete_onboarding(next(iter(stripe_wire.accounts)))
    with commits_counted() as commits:
        back = browser.get("/me/payout-account/return", follow_redirects=True)
        again = browser.get("/me/payout-account/refresh")  # Stripe's "link expired" return: a new link
    assert back.status_code == 200 and "Stripe has all your details" in back.data.decode()
    assert again.status_code == 303
    assert commits == []  # reading Stripe's answer stored nothing: the webhook or "Check again" does
    assert world.get("/me/payout-account", anna).get_json()["ready"] is False
    checked = browser.post("/me/payout-account", data={"csrf_token": csrf_token_from(back)})  # "Check again"
    assert checked.status_code == 303 and checked.headers["Location"].endswith("/me/payments")
    assert world.get("/me/payout-account", anna).get_json()["ready"] is True


def test_stripes_return_and_refresh_pages_write_nothing_while_onboarding_is_unfinished(
        app, world, login, stripe_wire, monkeypatch):
    use_stripe(app, monkeypatch, stripe_wire)
    anna = world.solver("DE", bank=False)
    browser = login(anna)
    page = browser.get("/me/payments")
    browser.post("/me/payout-account", data={"csrf_token": csrf_token_from(page)})
    with commits_counted() as commits:
        back = browser.get("/me/payout-account/return", follow_redirects=True)
        again = browser.get("/me/payout-account/refresh")
    assert "Stripe still needs some details from you." in back.data.decode()
    assert again.status_code == 303 and again.headers["Location"].startswith(stripe_wire.url)
    assert commits == []
    assert rows(app, "payout_accounts") == 1 and world.get("/me/payout-account", anna).get_json()["ready"] is False


def test_the_finance_page_lists_awards_by_age_flags_overdue_ones_and_charts_escrow(app, world, login):
    challenge = world.challenge(status="cleared")
    world.fund_by_wire(challenge)
    old_solver, new_solver = world.solver("DE"), world.solver("FR")
    old_award, new_award = world.ready_award(challenge, [([old_solver], "60"), ([new_solver], "40")])
    with app.app_context():
        from marketplace.awards.models import Award

        db.session.get(Award, old_award).created_at = datetime.now(UTC) - timedelta(days=41)
        db.session.commit()
    page = login(world.finance_a).get("/finance")
    assert page.status_code == 200
    html = page.data.decode()
    assert "Overdue by 11 days" in html and 'class="is-overdue"' in html
    assert html.index(f"Award #{old_award}") < html.index(f"Award #{new_award}")
    assert 'role="img"' in html and "<title id=\"chart-CNY-title\">" in html
    assert "¥" in html or "CN¥" in html
    assert login(world.make_user()).get("/finance").status_code == 404

    detail = login(world.finance_a).get(f"/finance/awards/{old_award}")
    assert detail.status_code == 200 and b"Request the release" in detail.data
    assert b"<td>100 %</td>" in detail.data  # the recipient's share of this award, not "1E+2"
    released = login(world.finance_a).post(f"/finance/awards/{old_award}/release",
                                           data={"csrf_token": csrf_token_from(detail)})
    assert released.status_code == 303
    assert world.get(f"/awards/{old_award}", world.finance_a).get_json()["status"] == "release_requested"
    mine = login(world.finance_a).get(f"/finance/awards/{old_award}")
    assert b"another finance officer must approve" in mine.data


def test_money_is_shown_in_the_viewers_locale(app, world, login):
    challenge = world.challenge(status="cleared", award_currency="EUR")
    world.fund_by_wire(challenge)
    german = world.make_user(roles=[("finance_officer", world.org)], locale="de")
    page = login(german).get("/finance?lang=de")
    assert page.status_code == 200
    euros = challenge.funding_target_minor // 100
    assert f"{euros:,}".replace(",", ".").encode() in page.data and "€".encode() in page.data
