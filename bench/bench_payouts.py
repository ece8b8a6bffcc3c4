"""Payout benchmark: release 1,000 approved awards in one batch command against the local Stripe server.

Target (issue 6): under 60 s, with a progress bar.

    .venv/bin/python bench/bench_payouts.py [--awards 1000] [--solvers 100] [--workers 8]
                                            [--database-url postgresql://postgres@127.0.0.1:5432/bench_payouts]

Setup (not timed): a center with two finance officers, solvers resident in Stripe payout countries with
encrypted payee details and onboarded Connect accounts (on the Stripe-wire fake from tests/payments),
funded challenges, and `--awards` awards decided, allocated in the ledger, IP assigned and release
requested by finance officer A. Timed: `flask payments release-batch --approver B`, run as its own
process exactly as an operator would, which approves each award under its row lock, commits the
pending payouts, sends every transfer to the fake over HTTP and records the answers. Then the books
are checked: one transfer per recipient at the provider, one payout transaction each, all balanced.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.payments.servers import StripeWireFake  # noqa: E402

STRIPE_KEY = "sk_test_bench_payouts"
COUNTRIES = ("DE", "FR", "NL", "ES", "IT", "SE", "GB", "US", "CA", "CH")
CHALLENGE_AWARD_MINOR = 100_000_000  # EUR 1,000,000.00 per challenge
AWARDS_PER_CHALLENGE = 100


def environment(args, instance: Path, wire: StripeWireFake) -> dict[str, str]:
    return {
        **os.environ,
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": args.database_url or f"sqlite:///{instance / 'bench.sqlite'}",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "PAYEE_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "STRIPE_SECRET_KEY": STRIPE_KEY,
        "STRIPE_API_BASE": wire.url,
        "STRIPE_WEBHOOK_SECRET": "whsec_bench",
        "MAIL_SERVER": "",
        "PYTHONWARNINGS": "ignore",
    }


def reset_database(url: str | None) -> None:
    if not url or not url.startswith("postgres"):
        return
    import sqlalchemy as sa

    from marketplace.config import normalise_database_url

    engine = sa.create_engine(normalise_database_url(url))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def set_up(app, wire: StripeWireFake, awards: int, solvers: int) -> dict:
    """Everything up to 'release requested by finance officer A', through the services where it matters."""
    from marketplace.accounts import services as accounts
    from marketplace.awards.models import Award, AwardDecision, AwardRecipient
    from marketplace.challenges.models import Challenge, ChallengeText
    from marketplace.extensions import db
    from marketplace.payments import escrow, funding, payees, release
    from marketplace.payments.models import FundingReceipt, PayoutAccount
    from marketplace.payments.providers.registry import current_provider
    from marketplace.proposals.models import Proposal
    from marketplace.stages.backfill import give_first_stages

    with app.test_request_context():
        org = accounts.create_organization(slug="bench-center", name="Bench Innovation Center", country="CN")
        staff = {role: accounts.register_user(email=f"{role}@bench.example", password="correct-horse-battery-9",
                                              display_name=role, country="CN", locale="en", confirmed=True)
                 for role in ("manager", "finance_a", "finance_b")}
        accounts.grant_role(staff["manager"], "center_manager", org)
        accounts.grant_role(staff["finance_a"], "finance_officer", org)
        accounts.grant_role(staff["finance_b"], "finance_officer", org)
        db.session.commit()

        provider = current_provider()
        people = []
        for n in range(solvers):
            country = COUNTRIES[n % len(COUNTRIES)]
            user = accounts.register_user(email=f"solver{n}@bench.example", password="correct-horse-battery-9",
                                          display_name=f"Solver {n}", country=country, locale="en", confirmed=True)
            db.session.flush()
            payees.save_payee(user, {"legal_name": f"Solver Number {n}", "residence_country": country,
                                     "date_of_birth": datetime(1985, 1, 1 + n % 28).date(),
                                     "tax_form": "W-9" if country == "US" else "W-8BEN",
                                     "tax_id": "123-45-6789" if country == "US" else None})
            opened = provider.create_payout_account(f"user:{user.id}", user.email, country,
                                                    f"bench-user-{user.id}-account")
            wire.complete_onboarding(opened.external_id)
            db.session.add(PayoutAccount(user_id=user.id, provider="stripe", external_id=opened.external_id,
                                         ready=True))
            people.append(user)
        db.session.commit()

        award_ids = []
        now = datetime.now(UTC)
        per_challenge = min(AWARDS_PER_CHALLENGE, solvers)  # a solver wins at most once per challenge
        for c in range((awards + per_challenge - 1) // per_challenge):
            challenge = Challenge(organization_id=org.id, author_id=staff["manager"].id, status="awarded",
                                  default_locale="en", challenge_type="rtp", field="semiconductors",
                                  deadline=now - timedelta(days=40), award_minor=CHALLENGE_AWARD_MINOR,
                                  award_currency="EUR", premium_pct=Decimal("15"), funded=True)
            challenge.texts = [ChallengeText(locale="en", title=f"Benchmark challenge {c}", summary="", description="")]
            db.session.add(challenge)
            db.session.flush()
            give_first_stages(db.session.connection())
            db.session.expire(challenge, ["current_stage_id"])
            receipt = FundingReceipt(challenge_id=challenge.id, reference=f"pi_bench_{c}",
                                     amount_minor=CHALLENGE_AWARD_MINOR, currency="EUR",
                                     received_on=now.date(), recorded_by_id=staff["finance_a"].id)
            db.session.add(receipt)
            db.session.flush()
            funding.post_receipt(receipt, staff["finance_a"], provider="stripe")  # paid by card
            decision = AwardDecision(challenge_id=challenge.id, decided_by_id=staff["manager"].id, kind="split")
            db.session.add(decision)
            db.session.flush()
            share = CHALLENGE_AWARD_MINOR // per_challenge
            for a in range(min(per_challenge, awards - len(award_ids))):
                solver = people[a]
                proposal = Proposal(challenge_id=challenge.id, lead_id=solver.id, status="submitted",
                                    title=f"Proposal {c}-{a}", locale="en", version=1)
                db.session.add(proposal)
                db.session.flush()
                award = Award(challenge_id=challenge.id, proposal_id=proposal.id, decision_id=decision.id,
                              share_pct=Decimal(100) / per_challenge, amount_minor=share, currency="EUR",
                              status="awarded")
                award.recipients = [AwardRecipient(user_id=solver.id, share_pct=Decimal("100"), amount_minor=share,
                                                   ip_accepted_at=now, ip_text_version="bench", ip_text="bench")]
                db.session.add(award)
                db.session.flush()
                escrow.allocate_award(award, staff["manager"])
                release.request_release(award, staff["finance_a"])
                award_ids.append(award.id)
            db.session.commit()
        return {"approver": staff["finance_b"].email, "award_ids": award_ids}


def check(app, wire: StripeWireFake, award_ids: list[int]) -> dict:
    from marketplace.awards.models import Award
    from marketplace.extensions import db
    from marketplace.payments import ledger
    from marketplace.payments.models import LedgerTransaction, Payout

    with app.app_context():
        statuses = dict(db.session.execute(db.select(Award.status, db.func.count()).group_by(Award.status)).all())
        payout_tx = db.session.scalar(db.select(db.func.count()).select_from(LedgerTransaction)
                                      .filter_by(kind="payout"))
        payouts_paid = db.session.scalar(db.select(db.func.count()).select_from(Payout).filter_by(status="paid"))
        keys = [t["metadata"].get("idempotency_key") for t in wire.transfers]
        return {"awards": statuses, "transfers": len(wire.transfers), "distinct_keys": len(set(keys)),
                "payouts_paid": payouts_paid, "payout_transactions": payout_tx,
                "unbalanced": ledger.unbalanced_transactions(), "overdrawn": ledger.overdrawn_accounts()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--awards", type=int, default=1000)
    parser.add_argument("--solvers", type=int, default=100)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (its public schema is wiped)")
    parser.add_argument("--profile", default=None, help="write a cProfile of the batch command to this file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-payouts-") as folder, StripeWireFake() as wire:
        instance = Path(folder)
        env = environment(args, instance, wire)
        os.environ.update({k: v for k, v in env.items() if k != "PYTHONWARNINGS"})
        reset_database(args.database_url)

        from flask_migrate import upgrade

        from marketplace import create_app

        app = create_app()
        started = time.perf_counter()
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"), revision="heads")
        setup = set_up(app, wire, args.awards, args.solvers)
        setup_seconds = time.perf_counter() - started
        print(f"setup: {len(setup['award_ids'])} awards released by finance officer A, "
              f"{args.solvers} solvers with Stripe accounts, in {setup_seconds:.1f} s "
              f"({'PostgreSQL' if args.database_url else 'SQLite'})")

        profile = ["-m", "cProfile", "-o", args.profile] if args.profile else []
        command = [sys.executable, *profile, "-m", "flask", "--app", "wsgi", "payments", "release-batch",
                   "--approver", setup["approver"], "--workers", str(args.workers)]
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, check=True)
        elapsed = time.perf_counter() - started

        figures = check(app, wire, setup["award_ids"])
        print(f"release-batch: {args.awards} awards in {elapsed:.1f} s wall clock (target < 60 s), "
              f"{args.awards / elapsed:.0f} awards/s, {args.workers} parallel provider calls")
        print(f"provider: {figures['transfers']} transfers, {figures['distinct_keys']} distinct idempotency keys; "
              f"payouts paid: {figures['payouts_paid']}; payout transactions: {figures['payout_transactions']}; "
              f"awards: {figures['awards']}")
        print(f"ledger: unbalanced transactions {figures['unbalanced'] or 'none'}, "
              f"accounts below zero {figures['overdrawn'] or 'none'}")
        ok = (figures["transfers"] == figures["distinct_keys"] == figures["payout_transactions"] == args.awards
              and figures["awards"].get("paid") == args.awards and not figures["unbalanced"]
              and not figures["overdrawn"] and elapsed < 60)
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
