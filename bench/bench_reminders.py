"""Benchmark: `flask reminders send` over 100,000 accepted agreements, then a second run that sends nothing.

Data (bulk-inserted with SQLAlchemy Core): 100,000 solvers in the eight interface languages and a dozen time
zones, 100 open challenges whose deadlines fall in the 7-day window, each with 1,000 accepted agreements,
plus 20 open challenges further out (not due) with 200 acceptances each, and 5,000 solvers with a submitted
proposal (not reminded).

Measured: the first run (every reminder is mailed and notified once; target < 30 s), a second run right after
(idempotent: 0 sent), and the rows written (sent reminders, outbox mails, notifications, audit entries).

Run: .venv/bin/python bench/bench_reminders.py [--database-url postgresql://...] [--keep DIR]
(without --database-url a SQLite file in a temporary folder; a PostgreSQL database is emptied first).
"""

from __future__ import annotations

import argparse
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

AGREEMENTS = 100_000
DUE_CHALLENGES = 100
LATER_CHALLENGES = 20
LATER_ACCEPTANCES = 200
SUBMITTED = 5_000
TARGET_S = 30
LOCALES = ["en", "zh_Hans", "de", "ja", "ko", "fr", "es", "ar"]
ZONES = ["UTC", "Asia/Shanghai", "Europe/Berlin", "Asia/Tokyo", "Asia/Seoul", "Europe/Paris", "Europe/Madrid",
         "Africa/Cairo", "America/New_York", "America/Sao_Paulo", "Asia/Kolkata", "Australia/Sydney"]


def make_app(url: str, instance: Path):
    from marketplace import create_app
    from marketplace.config import normalise_database_url

    return create_app({"TESTING": True, "INSTANCE_PATH": str(instance), "SECRET_KEY": "bench-secret",
                       "SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "RATELIMIT_ENABLED": False,
                       "SESSION_COOKIE_SECURE": False, "PUBLIC_URL": "http://localhost", "PASSWORD_HASH_FAST": True,
                       "RATELIMIT_STORAGE_URI": "memory://", "MAIL_SERVER": None})


def reset_database(url: str) -> None:
    if url.startswith("postgresql"):
        from marketplace.config import normalise_database_url

        engine = sa.create_engine(normalise_database_url(url))
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()


def build(app) -> datetime:
    from flask_migrate import upgrade

    from marketplace.accounts import services as accounts
    from marketplace.extensions import db
    from marketplace.stages.backfill import give_first_stages

    now = datetime.now(UTC).replace(microsecond=0)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        with app.test_request_context():
            staff = accounts.register_user(email="staff@bench.example", password="bench-password-not-secret",
                                           display_name="Bench Staff", country="CN", locale="en", confirmed=True)
            db.session.commit()
            staff_id, password_hash = staff.id, staff.password_hash
        t = db.metadata.tables
        solvers = AGREEMENTS + SUBMITTED
        first = staff_id + 1
        started = time.perf_counter()
        with db.engine.begin() as conn:
            conn.execute(t["organizations"].insert(), [{"id": 1, "slug": "center-1", "name": "Innovation Center",
                                                        "country": "CN", "premium_pct": Decimal("15")}])
            conn.execute(t["users"].insert(), [
                {"id": first + i, "email": f"solver{i}@bench.example", "password_hash": password_hash,
                 "display_name": f"Solver {i}", "country": "DE", "locale": LOCALES[i % len(LOCALES)],
                 "timezone": ZONES[i % len(ZONES)], "email_confirmed_at": now, "active": True, "created_at": now}
                for i in range(solvers)])
            challenges = []
            for cid in range(1, DUE_CHALLENGES + LATER_CHALLENGES + 1):
                due = cid <= DUE_CHALLENGES
                challenges.append({
                    "id": cid, "organization_id": 1, "author_id": staff_id, "status": "open", "default_locale": "en",
                    "challenge_type": "rtp", "field": "semiconductors", "award_minor": 50_000_00,
                    "deadline": now + (timedelta(days=3, minutes=cid) if due else timedelta(days=20)),
                    "award_currency": "CNY", "premium_pct": Decimal("15"), "quote": {}, "funded": True,
                    "excluded_countries": [], "agreement_version": "platform-1", "published_at": now,
                    "created_at": now, "updated_at": now})
            conn.execute(t["challenges"].insert(), challenges)
            give_first_stages(conn)
            conn.execute(t["challenge_texts"].insert(), [
                {"challenge_id": c["id"], "locale": "en", "title": f"Bench challenge {c['id']}, with; commas",
                 "summary": "s", "description": "d"} for c in challenges]
                + [{"challenge_id": c["id"], "locale": "zh_Hans", "title": f"基准挑战 {c['id']}", "summary": "s",
                    "description": "d"} for c in challenges])
            per = AGREEMENTS // DUE_CHALLENGES
            acceptances = [{"challenge_id": 1 + i // per, "user_id": first + i, "version": "platform-1",
                            "accepted_at": now} for i in range(AGREEMENTS)]
            acceptances += [{"challenge_id": DUE_CHALLENGES + 1 + i % LATER_CHALLENGES, "user_id": first + i,
                             "version": "platform-1", "accepted_at": now}
                            for i in range(LATER_CHALLENGES * LATER_ACCEPTANCES)]
            submitted = range(AGREEMENTS, AGREEMENTS + SUBMITTED)
            acceptances += [{"challenge_id": 1 + i % DUE_CHALLENGES, "user_id": first + i, "version": "platform-1",
                             "accepted_at": now} for i in submitted]
            conn.execute(t["agreement_acceptances"].insert(), acceptances)
            conn.execute(t["proposals"].insert(), [
                {"id": n + 1, "challenge_id": 1 + i % DUE_CHALLENGES, "lead_id": first + i, "status": "submitted",
                 "title": "P", "abstract": "", "body": "", "locale": "en", "version": 1, "submitted_at": now,
                 "created_at": now} for n, i in enumerate(submitted)])
            conn.execute(t["proposal_members"].insert(), [
                {"proposal_id": n + 1, "user_id": first + i, "email": f"solver{i}@bench.example", "role": "lead",
                 "status": "accepted", "share_agreed": False} for n, i in enumerate(submitted)])
        print(f"data: {solvers:,} solvers, {len(acceptances):,} acceptances ({AGREEMENTS:,} due in the 7-day window, "
              f"{SUBMITTED:,} already submitted), {len(challenges)} challenges, inserted in "
              f"{time.perf_counter() - started:.1f} s")
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("ANALYZE"))
    return now


def count(app, table: str, where: str = "") -> int:
    from marketplace.extensions import db

    with app.app_context():
        return db.session.scalar(sa.text(f"SELECT COUNT(*) FROM {table} {where}"))  # noqa: S608 - constants


def run_command(app) -> tuple[float, str]:
    runner = app.test_cli_runner()
    started = time.perf_counter()
    result = runner.invoke(args=["reminders", "send"])
    elapsed = time.perf_counter() - started
    if result.exit_code != 0:
        raise SystemExit(f"flask reminders send failed: {result.output}\n{result.exception!r}")
    return elapsed, result.output.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--keep", help="use this folder as the instance (kept afterwards)")
    args = parser.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{folder / 'bench.sqlite'}"
    try:
        reset_database(url)
        app = make_app(url, folder)
        print(f"InnoBridge reminders benchmark on {'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}")
        build(app)

        first, first_line = run_command(app)
        print(f"first run:  {first:6.2f} s  {first_line}")
        second, second_line = run_command(app)
        print(f"second run: {second:6.2f} s  {second_line}")

        sent = count(app, "sent_reminders")
        mails = count(app, "outbox_mails", "WHERE template = 'deadline_reminder'")
        notes = count(app, "notifications", "WHERE kind = 'challenge_deadline'")
        distinct = count(app, "(SELECT DISTINCT recipient FROM outbox_mails WHERE template = 'deadline_reminder') d")
        audits = count(app, "audit_entries", "WHERE action = 'reminder.sent'")
        print(f"rows: {sent:,} sent reminders, {mails:,} mails to {distinct:,} recipients, {notes:,} notifications, "
              f"{audits:,} audit entries; {first / max(sent, 1) * 1e6:.0f} us per reminder")
        ok = (sent == AGREEMENTS and mails == AGREEMENTS and distinct == AGREEMENTS and notes == AGREEMENTS
              and "Reminders sent: 0" in second_line and first < TARGET_S)
        print(f"first run {first:.1f} s (target < {TARGET_S} s); second run sent 0: "
              f"{'yes' if 'Reminders sent: 0' in second_line else 'NO'}")
        print("PASS" if ok else "FAIL")
        if not ok:
            raise SystemExit(1)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
