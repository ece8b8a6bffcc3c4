"""Benchmark: advancing the stages of a 3-stage challenge: 5,000 stage-1 proposals -> 50 finalists -> 10.

Data: a 3-stage challenge created, cleared, funded and published through the services (stage 1 with a milestone
pool split among the 50 finalists, stage 2 with a pool split among the 10), 5,000 solvers each with one submitted
stage-1 proposal (bulk-inserted with SQLAlchemy Core: proposals, members, versions, agreements).

Measured (target: each advance < 2 s, everything in one transaction, committed):
  advance 1 -> 2: 50 finalists, the milestone pool split 50 ways (IP and payout flow: awards, recipients, ledger
                  postings), 5,000 in-app notices and 5,000 mails queued in the solvers' languages;
  the 50 finalists start their stage-2 proposals from their stage-1 ones (through the service) and submit;
  advance 2 -> 3: 10 finalists, the pool split 10 ways, 50 notices and mails.

Run: .venv/bin/python bench/bench_stages.py [--database-url postgresql://...] [--keep DIR]
(without --database-url a SQLite file in a temporary folder; a PostgreSQL database is emptied first).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
warnings.simplefilter("ignore", DeprecationWarning)  # jieba's, when its bytecode is compiled

import sqlalchemy as sa  # noqa: E402
from bench_reminders import LOCALES, ZONES, make_app, reset_database  # noqa: E402

PROPOSALS = 5_000
FINALISTS = (50, 10)
TARGET_S = 2.0
PASSWORD = "bench-password-not-secret"


def _stages(now: datetime) -> list[dict]:
    criterion = lambda name, weight: {"name": {"en": name}, "weight": weight}  # noqa: E731
    return [
        {"name": {"en": "Concept"}, "deadline": now + timedelta(days=20), "advance": FINALISTS[0],
         "award": {"amount": "50000.00", "currency": "CNY"},
         "criteria": [criterion("Novelty", 50), criterion("Feasibility", 50)]},
        {"name": {"en": "Prototype"}, "description": {"en": "A prototype with measurements."},
         "deadline": now + timedelta(days=50), "advance": FINALISTS[1],
         "award": {"amount": "100000.00", "currency": "CNY"}, "criteria": [criterion("Measured noise", 100)]},
        {"name": {"en": "Pilot"}, "deadline": now + timedelta(days=80),
         "criteria": [criterion("Yield", 60), criterion("Cost", 40)]},
    ]


def build(app) -> dict:
    from flask_migrate import upgrade

    from marketplace.accounts import services as accounts
    from marketplace.challenges import services as challenges
    from marketplace.extensions import db
    from marketplace.money import Money
    from marketplace.payments import funding
    from marketplace.pricing import services as pricing

    now = datetime.now(UTC).replace(microsecond=0)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        with app.test_request_context():
            org = accounts.create_organization(slug="center-1", name="Innovation Center", country="CN",
                                               premium_pct=Decimal("15"))
            people = {}
            for role in ("center_manager", "security_officer", "finance_officer"):
                people[role] = accounts.register_user(email=f"{role}@bench.example", password=PASSWORD,
                                                      display_name=role, country="CN", locale="en", confirmed=True)
                accounts.grant_role(people[role], role, org)
            admin = accounts.register_user(email="admin@bench.example", password=PASSWORD, display_name="admin",
                                           country="CN", locale="en", confirmed=True)
            accounts.grant_role(admin, "admin", None)
            pricing.replace_benchmark_rates([{"country": c, "challenge_type": "rtp", "field": "semiconductors",
                                              "amount": Money(50_000_00, "USD")} for c in ("US", "GB", "DE")],
                                            actor=admin)
            pricing.set_fx_rates(base="USD", as_of=now.date() - timedelta(days=1), rates={"CNY": Decimal("7.1")},
                                 actor=admin)
            challenge = challenges.create_challenge(org, people["center_manager"], {
                "default_locale": "en", "title": {"en": "Staged readout chain"}, "summary": {"en": "Three stages."},
                "description": {"en": "d"}, "challenge_type": "rtp", "field": "semiconductors",
                "award_currency": "CNY", "premium_pct": Decimal("15"), "stages": _stages(now)})
            challenges.request_clearance(challenge, people["center_manager"])
            challenges.decide_clearance(challenge, people["security_officer"], decision="approve", note="fine")
            funding.record_receipt(challenge, people["finance_officer"], reference="BOC-1", amount=challenge.award,
                                   received_on=now.date())
            challenges.publish(challenge, people["center_manager"])
            db.session.commit()
            ids = {"challenge": challenge.id, "stage": challenge.current_stage_id,
                   "manager": people["center_manager"].id, "version": challenge.agreement_version,
                   "hash": people["center_manager"].password_hash}
        started = time.perf_counter()
        _solvers_and_proposals(db, ids, now)
        print(f"data: {PROPOSALS:,} solvers with a submitted stage-1 proposal, inserted in "
              f"{time.perf_counter() - started:.1f} s")
        with app.test_request_context():
            challenges.close(db.session.get(challenges.Challenge, ids["challenge"]), reason="deadline")
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("ANALYZE"))
    return ids


def _solvers_and_proposals(db, ids: dict, now: datetime) -> None:
    t = db.metadata.tables
    first = ids["manager"] + 10
    submitted = now - timedelta(hours=1)
    with db.engine.begin() as conn:
        conn.execute(t["users"].insert(), [
            {"id": first + i, "email": f"solver{i}@bench.example", "password_hash": ids["hash"],
             "display_name": f"Solver {i}", "country": "DE", "locale": LOCALES[i % len(LOCALES)],
             "timezone": ZONES[i % len(ZONES)], "email_confirmed_at": now, "active": True, "created_at": now}
            for i in range(PROPOSALS)])
        conn.execute(t["agreement_acceptances"].insert(), [
            {"challenge_id": ids["challenge"], "user_id": first + i, "version": ids["version"], "accepted_at": now}
            for i in range(PROPOSALS)])
        conn.execute(t["proposals"].insert(), [
            {"id": 1 + i, "challenge_id": ids["challenge"], "stage_id": ids["stage"], "lead_id": first + i,
             "status": "submitted", "title": f"Proposal {i}", "abstract": "a", "body": f"Body of proposal {i}.",
             "locale": "en", "version": 1, "submitted_at": submitted, "created_at": submitted}
            for i in range(PROPOSALS)])
        conn.execute(t["proposal_members"].insert(), [
            {"proposal_id": 1 + i, "user_id": first + i, "email": f"solver{i}@bench.example", "role": "lead",
             "status": "accepted", "share_agreed": False} for i in range(PROPOSALS)])
        conn.execute(t["proposal_versions"].insert(), [
            {"proposal_id": 1 + i, "number": 1, "title": f"Proposal {i}", "abstract": "a",
             "body": f"Body of proposal {i}.", "locale": "en", "attachments": [], "submitted_at": submitted,
             "submitted_by_id": first + i} for i in range(PROPOSALS)])
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('proposals', 'id'), "
                                 "(SELECT max(id) FROM proposals))"))


def warm_locales(app) -> None:
    """Load Babel's data for the eight languages first, as a running server has (the first formatted date of a
    language in a fresh process costs ~0.1 s, which is not the advance's work)."""
    from marketplace.reminders.services import local_time

    with app.test_request_context():
        for locale in LOCALES:
            for zone in ZONES:
                local_time(datetime.now(UTC), zone, locale)


def advance(app, ids: dict, finalists: list[int]) -> float:
    """One advance through the service, committed; returns seconds."""
    from marketplace.accounts.models import User
    from marketplace.challenges.models import Challenge
    from marketplace.extensions import db
    from marketplace.stages import services

    with app.test_request_context():
        challenge = db.session.get(Challenge, ids["challenge"])
        manager = db.session.get(User, ids["manager"])
        share = Decimal(100) / len(finalists)
        awards = [{"proposal_id": pid, "share_pct": str(share)} for pid in finalists]
        profiler = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        services.advance(challenge, challenge.current_stage, manager, finalists=finalists, awards=awards,
                         override_reason="Benchmark: no reviews were assigned.")
        db.session.commit()
        elapsed = time.perf_counter() - started
        if profiler:  # BENCH_PROFILE=1: where the time goes
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        return elapsed


def next_stage_proposals(app, ids: dict, earlier: list[int]) -> tuple[list[int], float]:
    """Each finalist starts from their earlier proposal and submits it (through the services)."""
    from marketplace.challenges.models import Challenge
    from marketplace.extensions import db
    from marketplace.proposals import services as proposals
    from marketplace.proposals.models import Proposal

    created = []
    with app.test_request_context():
        started = time.perf_counter()
        challenge = db.session.get(Challenge, ids["challenge"])
        for pid in earlier:
            lead = db.session.get(Proposal, pid).lead
            proposal = proposals.create_proposal(challenge, lead, {"title": f"Stage proposal from {pid}",
                                                                   "from_proposal_id": pid})
            proposals.submit(proposal, lead)
            created.append(proposal.id)
        db.session.commit()
        elapsed = time.perf_counter() - started
        from marketplace.challenges import services as challenges

        challenges.close(db.session.get(Challenge, ids["challenge"]), reason="deadline")
        db.session.commit()
    return created, elapsed


def count(app, sql: str) -> int:
    from marketplace.extensions import db

    with app.app_context():
        return db.session.scalar(sa.text(sql))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--keep", help="use this folder as the instance (kept afterwards)")
    args = parser.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-stages-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{folder / 'bench.sqlite'}"
    try:
        reset_database(url)
        app = make_app(url, folder)
        print(f"InnoBridge stages benchmark on {'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}")
        ids = build(app)
        warm_locales(app)
        first = list(range(1, 1 + PROPOSALS, PROPOSALS // FINALISTS[0]))[:FINALISTS[0]]
        one = advance(app, ids, first)
        notes = count(app, "SELECT COUNT(*) FROM notifications WHERE kind LIKE 'stage_%'")
        mails = count(app, "SELECT COUNT(*) FROM outbox_mails WHERE template LIKE 'stage_%'")
        print(f"advance 1 -> 2: {one:6.3f} s  ({FINALISTS[0]} finalists, {FINALISTS[0]} milestone awards, "
              f"{notes:,} notices, {mails:,} mails queued)")
        created, started = next_stage_proposals(app, ids, first)
        print(f"stage 2: {len(created)} finalists started from their stage-1 proposals and submitted in "
              f"{started:.2f} s")
        two = advance(app, ids, created[:FINALISTS[1]])
        awards = count(app, "SELECT COUNT(*) FROM awards WHERE stage_id IS NOT NULL")
        postings = count(app, "SELECT COUNT(*) FROM ledger_transactions WHERE kind = 'allocation'")
        print(f"advance 2 -> 3: {two:6.3f} s  ({FINALISTS[1]} finalists, {FINALISTS[1]} milestone awards)")
        print(f"rows: {awards} milestone awards, {postings} allocation postings")
        ok = one < TARGET_S and two < TARGET_S and awards == sum(FINALISTS) and notes == PROPOSALS \
            and mails == PROPOSALS
        print(f"each advance < {TARGET_S} s: {'yes' if one < TARGET_S and two < TARGET_S else 'NO'}")
        print("PASS" if ok else "FAIL")
        if not ok:
            raise SystemExit(1)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
