"""Winners are told each next step of their award (in the app and by mail, in their language), once per step.

The rule of what comes next is `awards.next_steps.next_step`; the notices are `awards.winner_notices`.
"""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from marketplace.extensions import db
from tests.helpers import outbox
from tests.payments.world import WEBHOOK_SECRET, use_stripe

NOTICE_MAILS = ("award_next_step", "award_paid")


def steps_told(app, user) -> list[str]:
    """The steps this user was told in the app, oldest first."""
    from marketplace.awards.winner_notices import KIND
    from marketplace.solvers.models import Notification

    with app.app_context():
        rows = db.session.scalars(select(Notification).where(Notification.user_id == user.id, Notification.kind == KIND)
                                  .order_by(Notification.id)).all()
        return [row.payload["step"] for row in rows]


def mails_to(app, user) -> list:
    return [m for m in outbox(app) if m.recipient == user.email and m.template in NOTICE_MAILS]


def german_amount(app, challenge, minor: int) -> str:
    from marketplace.i18n import format_money
    from marketplace.money import Money

    with app.test_request_context():
        return format_money(Money(minor, challenge.award_currency).amount, challenge.award_currency, locale="de")


@pytest.fixture
def german_winner(world, make_user):
    return make_user(country="DE", locale="de", name="Lena Berger")


def test_each_step_is_told_once_in_order_until_the_money_was_sent(app, world, german_winner):
    challenge = world.challenge(status="cleared")
    world.fund_by_wire(challenge)
    lena = german_winner
    [award_id] = world.award(challenge, [([lena], "100")])
    assert steps_told(app, lena) == []

    world.accept_ip(award_id, lena)
    assert steps_told(app, lena) == ["payee_details"]
    world.give_payee(lena, "DE", bank=False)
    assert steps_told(app, lena) == ["payee_details", "bank_account"]
    world.give_payee(lena, "DE", bank=True)
    world.give_payee(lena, "DE", bank=True)  # saved again: nothing new to tell
    assert steps_told(app, lena) == ["payee_details", "bank_account", "await_release"]

    assert world.post(f"/awards/{award_id}/release", world.finance_a).status_code == 200
    assert world.post(f"/awards/{award_id}/approve", world.finance_b).status_code == 200
    assert steps_told(app, lena)[-2:] == ["release_requested", "paying"]
    confirmed = world.post(f"/awards/{award_id}/payout-confirmation", world.finance_a, json={"reference": "SEPA-77"})
    assert confirmed.status_code == 200
    retried = world.post(f"/awards/{award_id}/payout-confirmation", world.finance_a, json={"reference": "SEPA-77"})
    assert retried.status_code == 409
    assert steps_told(app, lena) == ["payee_details", "bank_account", "await_release", "release_requested",
                                     "paying", "paid"]

    # One mail per notice, in her language, the last one with the amount formatted for German readers.
    mails = mails_to(app, lena)
    assert [m.template for m in mails] == ["award_next_step"] * 5 + ["award_paid"]
    assert {m.locale for m in mails} == {"de"}
    assert german_amount(app, challenge, challenge.award_minor) in mails[-1].body_text
    assert "/me/payee" in mails[0].body_text and "/me/payments" in mails[-1].body_text


def test_the_in_app_notice_reads_in_the_readers_language_and_links_to_the_step(app, world, german_winner):
    challenge = world.challenge(status="cleared")
    world.fund_by_wire(challenge)
    [award_id] = world.award(challenge, [([german_winner], "100")])
    world.give_payee(german_winner, "DE", bank=True)
    told = world.get("/me/notifications", german_winner).get_json()["items"]
    assert [(item["data"]["step"], item["link"]) for item in told] == [
        ("accept_ip", f"/awards/{award_id}/ip-assignment")]
    world.accept_ip(award_id, german_winner)
    latest = world.client.get("/api/v1/me/notifications?lang=de",
                              headers=world.token(german_winner)).get_json()["items"][0]
    assert latest["data"]["step"] == "await_release"
    assert german_amount(app, challenge, challenge.award_minor) in latest["text"]


def test_each_member_of_a_team_is_told_their_own_share_once(app, world):
    challenge = world.challenge(status="cleared")
    world.fund_by_wire(challenge)
    team = [world.solver("DE"), world.solver("ES")]
    [award_id] = world.ready_award(challenge, [(team, "100")])
    world.post(f"/awards/{award_id}/release", world.finance_a)
    world.post(f"/awards/{award_id}/approve", world.finance_b)
    world.post(f"/awards/{award_id}/payout-confirmation", world.finance_b, json={"reference": "SEPA-1"})
    for member in team:
        assert steps_told(app, member) == ["await_release", "release_requested", "paying", "paid"]
        assert [m.template for m in mails_to(app, member)].count("award_paid") == 1


def test_announcing_again_tells_nothing_new(app, world):
    """A retry of any step (the same service called twice) finds the step told already."""
    from marketplace.awards.models import AwardRecipient
    from marketplace.awards.winner_notices import WinnerNotice, announce

    challenge = world.challenge(status="cleared")
    world.fund_by_wire(challenge)
    solver = world.solver("DE", payee=False)
    [award_id] = world.award(challenge, [([solver], "100")])
    world.accept_ip(award_id, solver)
    with app.test_request_context():
        recipient = db.session.scalar(select(AwardRecipient).filter_by(award_id=award_id))
        assert announce(recipient) is None and announce(recipient) is None
        db.session.commit()
        assert db.session.scalars(select(WinnerNotice.step)).all() == ["payee_details"]
    assert len(mails_to(app, solver)) == 1


def test_a_cancelled_award_tells_nothing(app, world):
    from marketplace.awards.models import AwardRecipient
    from marketplace.awards.next_steps import next_step

    challenge = world.challenge(status="cleared")
    world.fund_by_wire(challenge)
    solver = world.solver("DE")
    [award_id] = world.award(challenge, [([solver], "100")])
    cancelled = world.post(f"/awards/{award_id}/cancel", world.manager, json={"reason": "Plagiarism found."})
    assert cancelled.status_code == 200, cancelled.get_json()
    with app.test_request_context():
        assert next_step(db.session.scalar(select(AwardRecipient).filter_by(award_id=award_id))) is None
    assert steps_told(app, solver) == []


def test_a_replayed_stripe_webhook_tells_the_money_was_sent_once(app, world, stripe_wire, monkeypatch):
    use_stripe(app, monkeypatch, stripe_wire)
    challenge = world.challenge(status="cleared", award_currency="EUR")
    world.fund_by_wire(challenge)
    lena = world.solver("DE", bank=False)
    [award_id] = world.award(challenge, [([lena], "100")])
    world.accept_ip(award_id, lena)
    assert steps_told(app, lena) == ["payout_account"]
    opened = world.post("/me/payout-account", lena)
    assert opened.status_code == 201
    requests.get(opened.get_json()["onboarding_url"], allow_redirects=False, timeout=5)  # she finishes onboarding
    for _replay in range(2):  # Stripe says onboarding is complete, twice
        deliver(world, stripe_wire, "account.updated")
    assert steps_told(app, lena) == ["payout_account", "await_release"]

    world.post(f"/awards/{award_id}/release", world.finance_a)
    assert world.post(f"/awards/{award_id}/approve", world.finance_b).get_json()["status"] == "paid"
    for _replay in range(3):
        deliver(world, stripe_wire, "transfer.created")
    assert steps_told(app, lena)[-1] == "paid" and steps_told(app, lena).count("paid") == 1
    assert [m.template for m in mails_to(app, lena)].count("award_paid") == 1


def deliver(world, stripe_wire, event_type: str) -> None:
    for event in [e for e in stripe_wire.events if e["type"] == event_type]:
        body, signature = stripe_wire.signed_event(event, WEBHOOK_SECRET)
        answer = world.client.post("/api/v1/webhooks/stripe", data=body, content_type="application/json",
                                   headers={"Stripe-Signature": signature})
        assert answer.status_code == 200


# --- the proposal page asks the same rule ---------------------------------------------------------------


def test_the_proposal_page_shows_the_authors_next_step(app, world, login, make_user):
    from marketplace.awards.models import Award

    challenge = world.challenge(status="cleared")
    world.fund_by_wire(challenge)
    solver = world.solver("DE", payee=False)
    [award_id] = world.award(challenge, [([solver], "100")])
    with app.app_context():
        proposal_id = db.session.get(Award, award_id).proposal_id
    page = login(solver).get(f"/proposals/{proposal_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="award-next-step"' in html and f"/awards/{award_id}/ip-assignment" in html
    world.accept_ip(award_id, solver)
    html = world.client.get(f"/proposals/{proposal_id}").get_data(as_text=True)
    assert 'id="award-next-step"' in html and 'href="/me/payee"' in html
