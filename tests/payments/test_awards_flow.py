"""The award flow end to end over the HTTP API: funding, decision, IP assignment, payee, two-person release.

Stripe runs against localstripe (PaymentIntents, signed webhooks) and the Connect fake (accounts,
transfers); the manual provider needs nothing. Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import pytest
import requests

from marketplace.extensions import db
from tests.payments.world import WEBHOOK_SECRET, count_transactions, ledger_state, use_stripe


def deliver(world, body: bytes, signature: str):
    return world.client.post("/api/v1/webhooks/stripe", data=body, content_type="application/json",
                             headers={"Stripe-Signature": signature})


def deliver_fake_events(world, stripe_wire, event_type: str):
    """Send the fake's own events of one type (account.updated, transfer.created) to our webhook, signed."""
    for event in [e for e in stripe_wire.events if e["type"] == event_type]:
        body, signature = stripe_wire.signed_event(event, WEBHOOK_SECRET)
        assert deliver(world, body, signature).status_code == 200


def connect_stripe_account(world, solver, stripe_wire):
    opened = world.post("/me/payout-account", solver)
    assert opened.status_code == 201, opened.get_json()
    plan = opened.get_json()
    assert plan["provider"] == "stripe" and plan["ready"] is False and plan["onboarding_url"]
    # The solver finishes Stripe's hosted onboarding, which sends them back to our return page.
    visit = requests.get(plan["onboarding_url"], allow_redirects=False, timeout=5)
    assert visit.status_code == 302 and visit.headers["Location"].endswith("/me/payout-account/return")
    return plan


def test_done_when_funded_through_stripe_awarded_60_40_released_by_two_officers_paid_once(
        app, world, stripe_wire, webhook_inbox, monkeypatch):
    use_stripe(app, monkeypatch, stripe_wire)
    challenge = world.challenge(status="cleared", award_currency="EUR")

    # 1. Funding through Stripe: a PaymentIntent, paid by card, confirmed by a signed webhook.
    started = world.post(f"/challenges/{challenge.id}/funding", world.finance_a)
    assert started.status_code == 201, started.get_json()
    intent = started.get_json()
    assert intent["provider"] == "stripe" and intent["status"] == "pending" and intent["client_secret"]
    with app.app_context():
        from marketplace.payments.models import FundingIntent
        from marketplace.payments.providers.registry import current_provider

        external_id = db.session.get(FundingIntent, intent["id"]).external_id
        current_provider().confirm_test_funding(external_id, "pm_card_visa")
    headers, body = webhook_inbox.wait_for(
        lambda e: e["type"] == "payment_intent.succeeded" and e["data"]["object"]["id"] == external_id)
    applied = deliver(world, body, headers["Stripe-Signature"])
    assert applied.status_code == 200 and applied.get_json()["result"] == "applied"
    detail = world.get(f"/challenges/{challenge.id}", world.manager).get_json()
    assert detail["funded"] is True

    # 2. Awarded 60/40 to two solvers; each connects a Stripe account and assigns the IP.
    lena, paul = world.solver("DE", bank=False), world.solver("FR", bank=False)
    first, second = world.award(challenge, [([lena], "60"), ([paul], "40")])
    for solver in (lena, paul):
        connect_stripe_account(world, solver, stripe_wire)
    deliver_fake_events(world, stripe_wire, "account.updated")  # Stripe tells us onboarding is complete
    assert world.get("/me/payout-account", lena).get_json()["ready"] is True
    world.accept_ip(first, lena)
    world.accept_ip(second, paul)

    # 3. Finance officer A requests, B approves: both transfers arrive once.
    for award_id in (first, second):
        requested = world.post(f"/awards/{award_id}/release", world.finance_a)
        assert requested.status_code == 200 and requested.get_json()["status"] == "release_requested"
        approved = world.post(f"/awards/{award_id}/approve", world.finance_b)
        assert approved.status_code == 200, approved.get_json()
        assert approved.get_json()["status"] == "paid"

    award_minor = challenge.award_minor
    transfers = sorted(stripe_wire.transfers, key=lambda t: -t["amount"])
    assert [t["amount"] for t in transfers] == [award_minor * 60 // 100, award_minor - award_minor * 60 // 100]
    assert [t["transfer_group"] for t in transfers] == [f"award-{first}", f"award-{second}"]
    assert all(t["currency"] == "eur" for t in transfers)
    assert {r.outcome for r in stripe_wire.requests_to("/v1/transfers")} == {"executed"}

    # The transfer.created events arrive afterwards and change nothing.
    deliver_fake_events(world, stripe_wire, "transfer.created")
    assert len(stripe_wire.transfers) == 2

    # 4. The ledger balances to zero escrow; every transaction balanced; nothing owed.
    state = ledger_state(app)
    assert state["unbalanced"] == [] and state["overdrawn"] == []
    assert state["held"][f"escrow:challenge:{challenge.id}/EUR"] == challenge.funding_target_minor - award_minor
    assert state["held"][f"payable:user:{lena.id}/EUR"] == 0 and state["held"][f"payable:user:{paul.id}/EUR"] == 0
    assert count_transactions(app, kind="payout") == 2 and count_transactions(app, kind="funding") == 1
    ledger = world.get("/finance/ledger", world.finance_a).get_json()
    assert ledger["all_balanced"] is True and all(t["balanced"] for t in ledger["items"])
    [row] = ledger["balances"]["challenges"]
    assert row["paid"] == {"amount": f"{award_minor // 100}.{award_minor % 100:02d}", "currency": "EUR"}


def test_manual_wire_flow_for_a_solver_stripe_cannot_pay(app, world, stripe_wire, monkeypatch):
    """Stripe is configured, but China is outside its payout countries: the award is paid by wire."""
    use_stripe(app, monkeypatch, stripe_wire)
    challenge = world.challenge(status="cleared")
    world.fund_by_wire(challenge)
    wei = world.solver("CN", bank=True)
    plan = world.get("/me/payout-account", wei).get_json()
    assert plan["provider"] == "manual" and "bank wire" in plan["message"] and "China" in plan["message"]
    connected = world.post("/me/payout-account", wei)
    assert connected.status_code == 201 and connected.get_json()["onboarding_url"] is None
    assert stripe_wire.accounts == {}

    [award_id] = world.ready_award(challenge, [([wei], "100")])
    assert world.post(f"/awards/{award_id}/release", world.finance_a).status_code == 200
    paying = world.post(f"/awards/{award_id}/approve", world.finance_b).get_json()
    assert paying["status"] == "paying" and [p["status"] for p in paying["payouts"]] == ["sent"]
    assert stripe_wire.transfers == []

    confirmed = world.post(f"/awards/{award_id}/payout-confirmation", world.finance_a,
                           json={"reference": "icbc 2027-0412-88"})
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "paid"
    assert confirmed.get_json()["payouts"][0]["reference"] == "ICBC 2027-0412-88"
    again = world.post(f"/awards/{award_id}/payout-confirmation", world.finance_a, json={"reference": "other"})
    assert again.status_code == 409
    state = ledger_state(app)
    assert state["held"][f"payable:user:{wei.id}/CNY"] == 0 and state["unbalanced"] == []
    # Money came in by wire and left by wire: no treasury movement was needed.
    assert count_transactions(app, kind="treasury") == 0


def test_a_team_award_pays_each_member_their_share(app, world):
    challenge = world.challenge(status="cleared")
    world.fund_by_wire(challenge)
    team = [world.solver("DE"), world.solver("ES"), world.solver("IT")]
    [award_id] = world.ready_award(challenge, [(team, "100")])
    award = world.get(f"/awards/{award_id}", team[1]).get_json()
    amounts = [r["amount"] for r in award["recipients"]]
    assert sum(int(a["amount"].replace(".", "")) for a in amounts) == challenge.award_minor
    world.post(f"/awards/{award_id}/release", world.finance_a)
    paid = world.post(f"/awards/{award_id}/approve", world.finance_b).get_json()
    assert [p["status"] for p in paid["payouts"]] == ["sent", "sent", "sent"]
    world.post(f"/awards/{award_id}/payout-confirmation", world.finance_b, json={"reference": "SEPA-1"})
    assert world.get(f"/awards/{award_id}", team[0]).get_json()["status"] == "paid"
    assert count_transactions(app, kind="payout") == 3


# --- the rules of release ----------------------------------------------------------------


def test_release_needs_ip_assignment_payee_and_payout_account(app, world):
    challenge = world.challenge(status="cleared")
    world.fund_by_wire(challenge)
    ana = world.solver("ES", payee=False)
    [award_id] = world.award(challenge, [([ana], "100")])

    refused = world.post(f"/awards/{award_id}/release", world.finance_a)
    assert refused.status_code == 409
    reasons = " ".join(refused.get_json()["errors"]["recipients"])
    assert "IP assignment" in reasons and "payee details" in reasons
    world.accept_ip(award_id, ana)
    world.give_payee(ana, "ES", bank=False)
    no_bank = world.post(f"/awards/{award_id}/release", world.finance_a)
    assert no_bank.status_code == 409 and "bank account" in no_bank.get_json()["detail"]
    world.give_payee(ana, "ES", bank=True)
    assert world.post(f"/awards/{award_id}/release", world.finance_a).status_code == 200
    with app.app_context():
        from marketplace.audit.models import AuditEntry

        refusals = db.session.scalars(db.select(AuditEntry).filter_by(action="award.release_refused")).all()
        assert len(refusals) == 2 and all(r.data["status"] == 409 for r in refusals)


def test_the_requester_cannot_approve_and_only_finance_officers_release(app, world):
    challenge = world.challenge(status="cleared")
    world.fund_by_wire(challenge)
    ana = world.solver("ES")
    [award_id] = world.ready_award(challenge, [([ana], "100")])

    assert world.post(f"/awards/{award_id}/release", world.manager).status_code == 403
    assert world.post(f"/awards/{award_id}/release", ana).status_code == 403
    assert world.post(f"/awards/{award_id}/approve", world.finance_b).status_code == 409  # not requested yet
    assert world.post(f"/awards/{award_id}/release", world.finance_a).status_code == 200
    assert world.post(f"/awards/{award_id}/release", world.finance_b).status_code == 409  # already requested
    same = world.post(f"/awards/{award_id}/approve", world.finance_a)
    assert same.status_code == 403 and "Another finance officer" in same.get_json()["detail"]
    stranger = world.make_user()
    assert world.post(f"/awards/{award_id}/approve", stranger).status_code == 404  # cannot even see it
    assert world.post(f"/awards/{award_id}/approve", world.finance_b).get_json()["status"] == "paying"


@pytest.mark.parametrize(("country", "excluded", "code"), [("IR", [], "sanctioned_country"),
                                                          ("KP", ["KP"], "sanctioned_country"),
                                                          ("BR", ["BR"], "excluded_country")])
def test_eligibility_screening_refuses_and_audits(app, world, country, excluded, code):
    challenge = world.challenge(status="cleared", eligibility={"excluded_countries": excluded})
    world.fund_by_wire(challenge)
    solver = world.solver("DE")
    world.give_payee(solver, country)  # resident where the award may not go
    [award_id] = world.ready_award(challenge, [([solver], "100")])
    refused = world.post(f"/awards/{award_id}/release", world.finance_a)
    assert refused.status_code == 403 and country in refused.get_json()["detail"]
    with app.app_context():
        from marketplace.audit.models import AuditEntry

        [entry] = db.session.scalars(db.select(AuditEntry).filter_by(action="award.release_refused")).all()
        assert entry.entity_id == award_id and entry.data["status"] == 403 and country in entry.data["reason"]
    assert world.get(f"/awards/{award_id}", world.finance_a).get_json()["status"] == "awarded"


def test_unconfirmed_accounts_cannot_be_paid(app, world):
    challenge = world.challenge(status="cleared")
    world.fund_by_wire(challenge)
    solver = world.solver("DE", confirmed=False)
    [award_id] = world.ready_award(challenge, [([solver], "100")])
    refused = world.post(f"/awards/{award_id}/release", world.finance_a)
    assert refused.status_code == 403 and "e-mail" in refused.get_json()["detail"]


def test_ip_assignment_is_versioned_and_stored_with_the_acceptance(app, world):
    challenge = world.challenge(status="cleared", ip_terms="exclusive_licence")
    world.fund_by_wire(challenge)
    lena, other = world.solver("DE"), world.solver("FR")
    [award_id] = world.award(challenge, [([lena], "100")])

    shown = world.get(f"/awards/{award_id}/ip-assignment", lena).get_json()
    assert shown["version"].endswith("/exclusive_licence") and "exclusive" in shown["text"]
    assert shown["accepted"] is False
    stale = world.post(f"/awards/{award_id}/ip-assignment", lena, json={"accept": True, "version": "2019.1/x"})
    assert stale.status_code == 409
    assert world.post(f"/awards/{award_id}/ip-assignment", lena, json={"accept": False}).status_code == 422
    assert world.post(f"/awards/{award_id}/ip-assignment", other, json={"accept": True}).status_code == 404
    assert world.post(f"/awards/{award_id}/ip-assignment", world.manager, json={"accept": True}).status_code == 403

    accepted = world.post(f"/awards/{award_id}/ip-assignment", lena, json={"accept": True, "version": shown["version"]})
    assert accepted.status_code == 201 and accepted.get_json()["text"] == shown["text"]
    assert world.post(f"/awards/{award_id}/ip-assignment", lena, json={"accept": True}).status_code == 200
    award = world.get(f"/awards/{award_id}", lena).get_json()
    assert award["ip_assigned"] is True and award["recipients"][0]["ip_text_version"] == shown["version"]
    assert set(award) >= {"id", "challenge_id", "proposal_id", "share_pct", "amount", "status", "ip_assigned"}
    with app.app_context():
        from marketplace.awards.models import AwardRecipient

        [recipient] = db.session.scalars(db.select(AwardRecipient)).all()
        assert recipient.ip_text == shown["text"] and recipient.ip_text_version == shown["version"]


def test_cancelling_an_award_returns_its_money_to_escrow(app, world):
    challenge = world.challenge(status="cleared")
    world.fund_by_wire(challenge)
    ana = world.solver("ES")
    [award_id] = world.award(challenge, [([ana], "100")])
    escrow_code = f"escrow:challenge:{challenge.id}/CNY"
    assert ledger_state(app)["held"][f"payable:user:{ana.id}/CNY"] == challenge.award_minor
    assert world.post(f"/awards/{award_id}/cancel", world.finance_a, json={"reason": "x"}).status_code == 403
    cancelled = world.post(f"/awards/{award_id}/cancel", world.manager, json={"reason": "Plagiarism found."})
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    state = ledger_state(app)
    assert state["held"][f"payable:user:{ana.id}/CNY"] == 0
    assert state["held"][escrow_code] == challenge.funding_target_minor
    assert world.post(f"/awards/{award_id}/release", world.finance_a).status_code == 409


def test_cancelling_a_funded_challenge_refunds_the_escrow(app, world, stripe_wire, localstripe_url, monkeypatch):
    use_stripe(app, monkeypatch, stripe_wire)
    challenge = world.challenge(status="cleared")
    intent = world.post(f"/challenges/{challenge.id}/funding", world.finance_a).get_json()
    with app.app_context():
        from marketplace.payments.events import apply_event
        from marketplace.payments.models import FundingIntent
        from marketplace.payments.providers.interface import ProviderEvent
        from marketplace.payments.providers.registry import current_provider

        row = db.session.get(FundingIntent, intent["id"])
        paid = current_provider().confirm_test_funding(row.external_id)
        with app.test_request_context():
            apply_event(ProviderEvent("stripe", "evt_test_paid", "payment_intent.succeeded", "funding.received",
                                      paid.external_id, {}, amount_minor=paid.amount_minor, currency=paid.currency))
            db.session.commit()
    cancelled = world.post(f"/challenges/{challenge.id}/cancel", world.manager, json={"reason": "Merged."})
    assert cancelled.status_code == 200
    [refund] = world.get("/finance/refunds", world.finance_a).get_json()["items"]
    assert refund["provider"] == "stripe" and refund["status"] == "scheduled"
    sent = world.post(f"/refunds/{refund['id']}/send", world.finance_a)
    assert sent.status_code == 200 and sent.get_json()["status"] == "succeeded"
    assert world.post(f"/refunds/{refund['id']}/send", world.finance_b).status_code == 409
    charge = requests.get(f"{localstripe_url}/v1/payment_intents/{paid.external_id}",
                          headers={"Authorization": "Bearer sk_test_x"}, timeout=5).json()["latest_charge"]
    assert charge["amount_refunded"] == paid.amount_minor
    state = ledger_state(app)
    assert state["held"][f"escrow:challenge:{challenge.id}/CNY"] == 0
    assert state["held"]["clearing:stripe/CNY"] == 0 and state["unbalanced"] == []


def test_a_wire_funded_challenge_is_refunded_by_wire(app, world):
    challenge = world.challenge(status="cleared")
    world.fund_by_wire(challenge)
    world.post(f"/challenges/{challenge.id}/cancel", world.manager, json={"reason": "Budget withdrawn."})
    [refund] = world.get("/finance/refunds", world.finance_b).get_json()["items"]
    assert refund["provider"] == "manual"
    assert world.post(f"/refunds/{refund['id']}/send", world.finance_a).get_json()["status"] == "sent"
    assert ledger_state(app)["held"][f"escrow:challenge:{challenge.id}/CNY"] == challenge.funding_target_minor
    done = world.post(f"/refunds/{refund['id']}/confirmation", world.finance_b, json={"reference": "BOC-OUT-1"})
    assert done.get_json()["status"] == "succeeded"
    assert ledger_state(app)["held"][f"escrow:challenge:{challenge.id}/CNY"] == 0


def test_ledger_is_for_finance_officers_of_the_organization(app, world, make_org, make_user):
    challenge = world.challenge(status="cleared")
    world.fund_by_wire(challenge)
    other_finance = make_user(roles=[("finance_officer", make_org())])
    assert world.get("/finance/ledger", world.manager).status_code == 403
    assert world.get("/finance/ledger", other_finance).get_json()["total"] == 0
    mine = world.get("/finance/ledger", world.finance_a).get_json()
    assert mine["total"] == 1
    [entry_debit, entry_credit] = mine["items"][0]["entries"]
    assert entry_debit["account"] == "clearing:manual" and entry_debit["debit"]["currency"] == "CNY"
    assert entry_credit["account"] == f"escrow:challenge:{challenge.id}" and entry_credit["debit"] is None
