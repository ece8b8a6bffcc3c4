"""Benchmark: seeker analytics pages and the streamed CSV export at scale.

Data (seeded, bulk-inserted with SQLAlchemy Core executemany): 1,000 challenges of 10 centers (50 in one
program), 100,000 solvers (30 % early-career) from 40 countries, 100,000 proposals spread over the
challenges (a long tail: a few popular challenges, many small ones) with their team members, agreement
acceptances, 60 days of page views per challenge, reviews on judged challenges, awards with recipients and
paid payouts. Then one more challenge receives 100,000 proposals of its own, for the export (and for the
worst case of a per-challenge page).

Measured: each analytics page (HTML through the test client, and the JSON API), median of 5 runs after a
warm-up, with the number of SQL statements (which must not depend on the data); the CSV export of 100,000
proposals through the streamed HTTP response and through `flask exports proposals`, each in its own process
so its peak RSS (ru_maxrss) is its own. Targets: page < 300 ms, export < 10 s and < 200 MB.

Run: .venv/bin/python bench/bench_analytics.py [--database-url postgresql://...] [--keep DIR] [--seed 7]
(without --database-url a SQLite file in a temporary folder; a PostgreSQL database is emptied first).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
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

CHALLENGES = 1_000
PROPOSALS = 100_000
EXPORT_ROWS = 100_000
SOLVERS = 100_000  # distinct leads for the export challenge (one active proposal per lead)
ORGS = 10
PROGRAM_CHALLENGES = 50
VIEW_DAYS = 60
PAGE_TARGET_MS = 300
EXPORT_TARGET_S = 10
EXPORT_TARGET_MB = 200
PASSWORD = "bench-password-not-secret"
COUNTRIES = ["DE", "US", "GB", "FR", "JP", "KR", "CN", "IN", "BR", "ES", "IT", "SE", "IL", "ZA", "VN", "EG", "NG",
             "CA", "AU", "NL", "CH", "AT", "PL", "CZ", "PT", "MX", "AR", "CL", "TR", "SG", "MY", "TH", "ID", "PH",
             "KE", "GH", "NZ", "FI", "NO", "DK"]
FIELDS = ["semiconductors", "sensors", "materials", "ai-hardware", "photonics"]


def make_app(url: str, instance: Path):
    from marketplace import create_app
    from marketplace.config import normalise_database_url

    return create_app({"TESTING": True, "INSTANCE_PATH": str(instance), "SECRET_KEY": "bench-secret",
                       "SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "RATELIMIT_ENABLED": False,
                       "SESSION_COOKIE_SECURE": False, "PUBLIC_URL": "http://localhost", "PASSWORD_HASH_FAST": True,
                       "RATELIMIT_STORAGE_URI": "memory://"})


def reset_database(url: str) -> None:
    if url.startswith("postgresql"):
        from marketplace.config import normalise_database_url

        engine = sa.create_engine(normalise_database_url(url))
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()


# --- data ------------------------------------------------------------------------------------------

def build(app, seed: int) -> dict:
    """Everything bulk-inserted; returns the ids the measurements need."""
    from flask_migrate import upgrade

    from marketplace.accounts import services as accounts
    from marketplace.extensions import db

    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        with app.test_request_context():
            staff = accounts.register_user(email="staff@bench.example", password=PASSWORD, display_name="Bench Staff",
                                           country="CN", locale="en", confirmed=True)
            db.session.commit()
            password_hash = staff.password_hash
        meta = db.metadata
        t = {name: meta.tables[name] for name in (
            "organizations", "users", "role_grants", "expert_profiles", "programs", "challenges", "challenge_texts",
            "agreement_acceptances", "proposals", "proposal_members", "reviews", "award_decisions", "awards",
            "award_recipients", "payouts", "challenge_views")}
        started = time.perf_counter()
        with db.engine.begin() as conn:
            conn.execute(t["organizations"].insert(), [
                {"id": i, "slug": f"center-{i}", "name": f"Innovation Center {i}", "country": "CN",
                 "premium_pct": Decimal("15")} for i in range(1, ORGS + 1)])
            conn.execute(t["role_grants"].insert(), [{"user_id": staff.id, "role": "admin", "organization_id": None}]
                         + [{"user_id": staff.id, "role": "center_manager", "organization_id": i}
                            for i in range(1, ORGS + 1)])
            first_solver = staff.id + 1
            conn.execute(t["users"].insert(), [
                {"id": first_solver + i, "email": f"solver{i}@bench.example", "password_hash": password_hash,
                 "display_name": f"Solver {i}", "country": COUNTRIES[int(rng.paretovariate(1.2)) % len(COUNTRIES)],
                 "locale": "en", "timezone": "UTC", "email_confirmed_at": now, "active": True, "created_at": now}
                for i in range(SOLVERS)])
            conn.execute(t["expert_profiles"].insert(), [
                {"user_id": first_solver + i, "early_career": rng.random() < 0.3, "created_at": now, "updated_at": now}
                for i in range(SOLVERS)])
            conn.execute(t["programs"].insert(), [{"id": 1, "organization_id": 1, "title": "Bench program",
                                                   "objective": "", "classification": "classified",
                                                   "created_by_id": staff.id, "created_at": now}])
            challenges = _challenges(rng, now, staff.id, CHALLENGES)
            conn.execute(t["challenges"].insert(), challenges)
            _give_stages(conn, challenges)
            conn.execute(t["challenge_texts"].insert(), [
                {"challenge_id": c["id"], "locale": "en", "title": f"Bench challenge {c['id']}", "summary": "s",
                 "description": "d"} for c in challenges])
            weights = [1 / (rank + 1) ** 0.8 for rank in range(CHALLENGES)]
            per_challenge = _spread(PROPOSALS, weights, rng)
            counts = _proposals(conn, t, rng, challenges, per_challenge, first_solver, start_id=1)
            conn.execute(t["challenge_views"].insert(), [
                {"challenge_id": c["id"], "day": (c["published_at"] + timedelta(days=d)).date(),
                 "views": rng.randint(1, 80)} for c in challenges for d in range(VIEW_DAYS)])
            awards = _awards(conn, t, rng, challenges, staff.id)
        elapsed = time.perf_counter() - started
        print(f"data: {CHALLENGES:,} challenges, {counts['proposals']:,} proposals, {counts['members']:,} members, "
              f"{counts['acceptances']:,} acceptances, {counts['reviews']:,} reviews, {awards:,} awards, "
              f"{CHALLENGES * VIEW_DAYS:,} view rows, {SOLVERS:,} solvers inserted in {elapsed:.1f} s")
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("ANALYZE"))
        biggest = max(challenges, key=lambda c: per_challenge[c["id"] - 1])
        return {"staff_email": staff.email, "first_solver": first_solver, "now": now,
                "biggest": biggest["id"], "biggest_proposals": per_challenge[biggest["id"] - 1], "next_id": counts}


def _challenges(rng, now, author_id: int, n: int) -> list[dict]:
    rows = []
    for i in range(1, n + 1):
        published = now - timedelta(days=rng.randint(VIEW_DAYS, 700))
        status = rng.choices(["open", "closed", "judging", "awarded"], [3, 1, 1, 3])[0]
        rows.append({
            "id": i, "organization_id": 1 + (i % ORGS) if i > PROGRAM_CHALLENGES else 1,
            "program_id": 1 if i <= PROGRAM_CHALLENGES else None, "author_id": author_id, "status": status,
            "default_locale": "en", "challenge_type": "rtp", "field": FIELDS[i % len(FIELDS)],
            "deadline": published + timedelta(days=60), "award_minor": 50_000_00 + 1_000_00 * (i % 50),
            "award_currency": ["CNY", "USD", "EUR"][i % 3], "premium_pct": Decimal("15"),
            "quote": {"reference": {"country": "US", "converted": {
                "amount": f"{(50_000_00 + 1_000_00 * (i % 50)) / Decimal('1.15') / 100:.2f}",
                "currency": ["CNY", "USD", "EUR"][i % 3]}}},
            "funded": True, "excluded_countries": [], "published_at": published, "created_at": published,
            "updated_at": published, "early_career_bonus_pct": Decimal("10") if i % 4 == 0 else Decimal("0")})
    return rows


def _spread(total: int, weights: list[float], rng) -> list[int]:
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    for _ in range(total - sum(counts)):
        counts[rng.randrange(len(counts))] += 1
    rng.shuffle(counts)
    return counts


def _proposals(conn, t, rng, challenges, per_challenge, first_solver, *, start_id: int) -> dict:
    proposal_rows, member_rows, acceptance_rows, review_rows = [], [], [], []
    pid = start_id
    counts = {"proposals": 0, "members": 0, "acceptances": 0, "reviews": 0}

    def flush():
        for table, rows in ((t["proposals"], proposal_rows), (t["proposal_members"], member_rows),
                            (t["agreement_acceptances"], acceptance_rows), (t["reviews"], review_rows)):
            if rows:
                conn.execute(table.insert(), rows)
                rows.clear()

    for challenge, n in zip(challenges, per_challenge, strict=True):
        leads = rng.sample(range(SOLVERS), n)
        seen_acceptance: set[int] = set()
        for lead_index in leads:
            lead = first_solver + lead_index
            submitted = challenge["published_at"] + timedelta(minutes=rng.randint(0, 59 * 24 * 60))
            status = rng.choices(["submitted", "draft", "withdrawn"], [90, 7, 3])[0]
            proposal_rows.append({
                "id": pid, "challenge_id": challenge["id"], "stage_id": challenge["stage_id"], "lead_id": lead,
                "status": status,
                "title": f"Proposal {pid}", "abstract": "a", "body": "b", "locale": "en",
                "version": 1 if status != "draft" else 0, "created_at": submitted,
                "submitted_at": submitted if status != "draft" else None})
            member_rows.append({"proposal_id": pid, "user_id": lead, "email": f"solver{lead_index}@bench.example",
                                "role": "lead", "status": "accepted", "share_agreed": True})
            other = rng.randrange(SOLVERS)
            if rng.random() < 0.2 and other != lead_index:
                member_rows.append({"proposal_id": pid, "user_id": first_solver + other,
                                    "email": f"solver{other}@bench.example", "role": "coauthor",
                                    "status": "accepted", "share_agreed": True})
            if lead not in seen_acceptance:
                seen_acceptance.add(lead)
                acceptance_rows.append({"challenge_id": challenge["id"], "user_id": lead, "version": "1",
                                        "accepted_at": submitted - timedelta(hours=rng.randint(1, 200))})
            if challenge["status"] in ("judging", "awarded") and status == "submitted":
                for reviewer in rng.sample(range(50), 3):
                    review_rows.append({"challenge_id": challenge["id"], "proposal_id": pid,
                                        "reviewer_id": first_solver + SOLVERS - 1 - reviewer,
                                        "status": rng.choice(["submitted", "submitted", "assigned", "draft"]),
                                        "pseudonym": f"P{pid}-{reviewer}", "created_at": submitted})
            counts["proposals"] += 1
            pid += 1
            if len(proposal_rows) >= 5_000:
                counts["members"] += len(member_rows)
                counts["acceptances"] += len(acceptance_rows)
                counts["reviews"] += len(review_rows)
                flush()
        # Browsers who accepted without submitting.
        for extra in rng.sample(range(SOLVERS), min(20, SOLVERS)):
            if first_solver + extra not in seen_acceptance:
                acceptance_rows.append({"challenge_id": challenge["id"], "user_id": first_solver + extra,
                                        "version": "1", "accepted_at": challenge["published_at"] + timedelta(days=1)})
    counts["members"] += len(member_rows)
    counts["acceptances"] += len(acceptance_rows)
    counts["reviews"] += len(review_rows)
    flush()
    counts["next_proposal_id"] = pid
    return counts


def _awards(conn, t, rng, challenges, decided_by: int) -> int:
    """One or two awards on each awarded challenge (to two submitted proposals), half of them paid."""
    awarded = [c for c in challenges if c["status"] == "awarded"]
    picks = conn.execute(sa.select(t["proposals"].c.challenge_id, sa.func.min(t["proposals"].c.id),
                                   sa.func.max(t["proposals"].c.id), sa.func.min(t["proposals"].c.lead_id))
                         .where(t["proposals"].c.status == "submitted",
                                t["proposals"].c.challenge_id.in_([c["id"] for c in awarded]))
                         .group_by(t["proposals"].c.challenge_id)).all()
    by_id = {c["id"]: c for c in challenges}
    decisions, award_rows, recipient_rows, payout_rows = [], [], [], []
    award_id = recipient_id = 1
    for challenge_id, low, high, _lead in picks:
        challenge = by_id[challenge_id]
        decided = challenge["published_at"] + timedelta(days=rng.randint(70, 120))
        decisions.append({"id": challenge_id, "challenge_id": challenge_id, "decided_by_id": decided_by,
                          "kind": "split",
                          "reason": "", "feedback_enabled": True, "created_at": decided})
        winners = [(low, Decimal("60")), (high, Decimal("40"))] if high != low else [(low, Decimal("100"))]
        for proposal_id, share in winners:
            amount = int(challenge["award_minor"] * share / 100)
            award_rows.append({"id": award_id, "challenge_id": challenge_id, "proposal_id": proposal_id,
                               "decision_id": challenge_id, "share_pct": share, "amount_minor": amount,
                               "currency": challenge["award_currency"], "status": "paid" if award_id % 2 else "awarded",
                               "created_at": decided})
            lead = conn.execute(sa.select(t["proposals"].c.lead_id).where(t["proposals"].c.id == proposal_id)).scalar()
            recipient_rows.append({"id": recipient_id, "award_id": award_id, "user_id": lead, "share_pct": Decimal(100),
                                   "amount_minor": amount, "payout_status": "paid" if award_id % 2 else "pending"})
            if award_id % 2:
                payout_rows.append({"award_recipient_id": recipient_id, "provider": "manual",
                                    "idempotency_key": f"bench-{recipient_id}", "transfer_group": f"award-{award_id}",
                                    "amount_minor": amount, "currency": challenge["award_currency"], "status": "paid",
                                    "completed_at": decided + timedelta(days=rng.randint(5, 40)),
                                    "created_at": decided})
            award_id += 1
            recipient_id += 1
    for table, rows in ((t["award_decisions"], decisions), (t["awards"], award_rows),
                        (t["award_recipients"], recipient_rows), (t["payouts"], payout_rows)):
        if rows:
            conn.execute(table.insert(), rows)
    return len(award_rows)


def _give_stages(conn, challenges: list[dict]) -> None:
    """Stage 1 of each challenge (as the stages migration writes it); its id goes on the proposals."""
    from marketplace.stages.backfill import give_first_stages

    give_first_stages(conn)
    stage_of = dict(conn.execute(sa.text("SELECT challenge_id, id FROM challenge_stages WHERE position = 1")).all())
    for challenge in challenges:
        challenge["stage_id"] = stage_of[challenge["id"]]


def add_export_challenge(app, seed: int, info: dict) -> int:
    """One more challenge with EXPORT_ROWS proposals of its own."""
    from marketplace.extensions import db

    rng = random.Random(seed + 1)
    with app.app_context():
        meta = db.metadata
        t = {name: meta.tables[name] for name in ("challenges", "challenge_texts", "proposals", "proposal_members",
                                                  "agreement_acceptances", "reviews")}
        challenge = _challenges(rng, info["now"], 1, 1)[0]
        challenge.update(id=CHALLENGES + 1, organization_id=1, program_id=None, status="open")
        started = time.perf_counter()
        with db.engine.begin() as conn:
            conn.execute(t["challenges"].insert(), [challenge])
            _give_stages(conn, [challenge])
            conn.execute(t["challenge_texts"].insert(), [{"challenge_id": challenge["id"], "locale": "en",
                                                          "title": "The export challenge", "summary": "s"}])
            _proposals(conn, t, rng, [challenge], [EXPORT_ROWS], info["first_solver"],
                       start_id=info["next_id"]["next_proposal_id"])
        print(f"data: + challenge {challenge['id']} with {EXPORT_ROWS:,} proposals in "
              f"{time.perf_counter() - started:.1f} s")
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("ANALYZE"))
        return challenge["id"]


# --- measurements ------------------------------------------------------------------------------------

def sign_in(app, email: str):
    client = app.test_client()
    page = client.get("/auth/login")
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.data).group(1).decode()
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.status_code
    return client


def measure_pages(app, client, headers: dict, pages: list[tuple[str, str]], runs: int = 5) -> list[dict]:
    from marketplace.extensions import db

    with app.app_context():
        engine = db.engine
    results = []
    for label, path in pages:
        statements: list[str] = []

        def count(conn, cursor, statement, parameters, context, executemany, sink=statements):
            sink.append(statement)

        use = headers if path.startswith("/api/") else {}
        response = client.get(path, headers=use)  # warm-up
        assert response.status_code == 200, (path, response.status_code)
        timings = []
        for _ in range(runs):
            statements.clear()
            sa.event.listen(engine, "before_cursor_execute", count)
            started = time.perf_counter()
            response = client.get(path, headers=use)
            response.get_data()
            timings.append((time.perf_counter() - started) * 1000)
            sa.event.remove(engine, "before_cursor_execute", count)
        results.append({"page": label, "path": path, "median_ms": statistics.median(timings),
                        "max_ms": max(timings), "queries": len(statements)})
    return results


def export_in_subprocess(args, mode: str, challenge_id: int) -> dict:
    command = [sys.executable, __file__, "--database-url", args.database_url, "--keep", str(args.instance),
               "--export-only", mode, "--challenge", str(challenge_id)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def export_only(args) -> None:
    """Run one export in this (fresh) process and print its figures as JSON.

    Peaks are read from /proc/self/status (VmHWM): Linux carries ru_maxrss over fork and exec, so a child
    of the big benchmark process would report the parent's size. The CLI runs as a child of this small
    process (no application loaded here), so its RUSAGE_CHILDREN peak is its own.
    """
    if args.export_only == "cli":
        export_cli(args)
        return
    app = make_app(args.database_url, args.instance)
    if args.export_only == "baseline":  # what the application alone takes, before any export
        print(json.dumps({"mode": "baseline", "peak_rss_mb": round(vm_hwm_mb(), 1)}))
        return
    out = args.instance / f"export-{args.export_only}.csv"
    started = time.perf_counter()
    if args.export_only == "http":
        with app.app_context():
            from marketplace.accounts.models import user_by_email
            from marketplace.accounts.services import issue_api_token
            from marketplace.extensions import db

            with app.test_request_context():
                token, _row = issue_api_token(user_by_email("staff@bench.example"))
                db.session.commit()
        client = app.test_client()
        started = time.perf_counter()
        response = client.get(f"/api/v1/exports/challenges/{args.challenge}/proposals",
                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200 and response.is_streamed
        size = 0
        rows = 0
        with open(out, "wb") as handle:
            for chunk in response.response:
                data = chunk if isinstance(chunk, bytes) else chunk.encode()
                size += len(data)
                rows += data.count(b"\r\n")
                handle.write(data)
        response.close()
        rows -= 1  # the header
    elapsed = time.perf_counter() - started
    print(json.dumps({"mode": "http", "rows": rows, "bytes": size, "seconds": round(elapsed, 2),
                      "peak_rss_mb": round(vm_hwm_mb(), 1)}))


def vm_hwm_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def export_cli(args) -> None:
    out = args.instance / "export-cli.csv"
    env = {**os.environ, "DATABASE_URL": args.database_url, "INSTANCE_PATH": str(args.instance),
           "SECRET_KEY": "bench-secret"}
    started = time.perf_counter()
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "exports", "proposals",
                           "--challenge", str(args.challenge), "--format", "csv", "--out", str(out)], check=True,
                          cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    export_seconds = float(re.search(r"in ([\d.]+) s\.", done.stdout).group(1))  # the command's own timing
    rows = sum(1 for _ in open(out, encoding="utf-8-sig")) - 1
    print(json.dumps({"mode": "cli", "rows": rows, "bytes": out.stat().st_size, "seconds": export_seconds,
                      "with_startup_seconds": round(elapsed, 2),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--keep", type=Path, help="instance folder to use and keep (default: a temporary one)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--export-only", choices=["http", "cli", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--challenge", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.instance = args.keep or Path(tempfile.mkdtemp(prefix="bench-analytics-"))
    args.instance.mkdir(parents=True, exist_ok=True)
    if args.export_only:
        export_only(args)
        return
    args.database_url = args.database_url or f"sqlite:///{args.instance / 'bench.sqlite'}"
    if args.database_url.startswith("sqlite") and (args.instance / "bench.sqlite").exists():
        (args.instance / "bench.sqlite").unlink()
    reset_database(args.database_url)
    backend = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    print(f"InnoBridge analytics benchmark on {backend} (seed {args.seed})")
    try:
        app = make_app(args.database_url, args.instance)
        info = build(app, args.seed)
        client = sign_in(app, info["staff_email"])
        with app.test_request_context():
            from marketplace.accounts.models import user_by_email
            from marketplace.accounts.services import issue_api_token
            from marketplace.extensions import db

            token, _row = issue_api_token(user_by_email(info["staff_email"]))
            db.session.commit()
        headers = {"Authorization": f"Bearer {token}"}
        biggest = info["biggest"]
        pages = [
            (f"challenge {biggest} ({info['biggest_proposals']:,} proposals)",
             f"/staff/analytics/challenges/{biggest}"),
            ("challenge 500", "/staff/analytics/challenges/500"),
            (f"program 1 ({PROGRAM_CHALLENGES} challenges)", "/staff/analytics/programs/1"),
            ("platform, no snapshot (admin)", "/staff/analytics/platform"),
            ("public /stats, no snapshot", "/stats"),
            ("API challenge", f"/api/v1/analytics/challenges/{biggest}"),
            ("API program", "/api/v1/analytics/programs/1"),
            ("API platform, no snapshot", "/api/v1/analytics/platform"),
            ("API /stats, no snapshot", "/api/v1/stats"),
        ]
        results = measure_pages(app, client, headers, pages)
        export_id = add_export_challenge(app, args.seed, info)
        more = measure_pages(app, client, headers, [
            (f"challenge {export_id} ({EXPORT_ROWS:,} proposals)", f"/staff/analytics/challenges/{export_id}"),
            ("platform, with it, no snapshot (admin)", "/staff/analytics/platform"),
            ("public /stats, with it, no snapshot", "/stats")])
        print(f"\n{'page':48} {'median ms':>10} {'max ms':>8} {'queries':>8}")
        print("(\"no snapshot\": platform-wide figures computed in the request, as `flask analytics refresh` does;\n"
              " with the default settings pages read the stored snapshot instead, see below)")
        for row in results + more:
            live_platform = "no snapshot" in row["page"]
            flag = "" if row["median_ms"] < PAGE_TARGET_MS or live_platform else "  OVER TARGET"
            print(f"{row['page']:48} {row['median_ms']:10.1f} {row['max_ms']:8.1f} {row['queries']:8d}{flag}")
        same = {r["path"]: r["queries"] for r in results}
        constant = all(same.get(r["path"], r["queries"]) == r["queries"] for r in more)
        print(f"query counts unchanged after adding {EXPORT_ROWS:,} proposals: {constant}")
        app.config["ANALYTICS_CACHE_SECONDS"] = 300
        with app.app_context():
            from marketplace.analytics import cache

            started = time.perf_counter()
            cache.refresh_all()
            refresh_seconds = time.perf_counter() - started
        cached = measure_pages(app, client, headers, [
            ("platform (admin)", "/staff/analytics/platform"), ("public /stats", "/stats"),
            ("API platform", "/api/v1/analytics/platform"), ("API /stats", "/api/v1/stats")])
        print(f"\nflask analytics refresh (platform + stats snapshots, run by a scheduler): {refresh_seconds:.2f} s")
        print("pages reading the snapshot (default settings):")
        for row in cached:
            flag = "" if row["median_ms"] < PAGE_TARGET_MS else "  OVER TARGET"
            print(f"{row['page']:48} {row['median_ms']:10.1f} {row['max_ms']:8.1f} {row['queries']:8d}{flag}")
        baseline = export_in_subprocess(args, "baseline", export_id)["peak_rss_mb"]
        print(f"\nCSV export of a challenge's proposals (each in its own process; the application alone takes "
              f"{baseline:.0f} MB RSS after start-up):")
        for mode in ("http", "cli"):
            figures = export_in_subprocess(args, mode, export_id)
            own = figures["peak_rss_mb"] - baseline
            ok = figures["seconds"] < EXPORT_TARGET_S and own < EXPORT_TARGET_MB
            startup = f" ({figures['with_startup_seconds']:.2f} s with start-up)" if mode == "cli" else ""
            print(f"  {mode:5} {figures['rows']:,} rows, {figures['bytes'] / 1e6:.1f} MB "
                  f"in {figures['seconds']:.2f} s{startup}, "
                  f"peak RSS {figures['peak_rss_mb']:.0f} MB (+{own:.0f} MB for the export)"
                  f"{'' if ok else '  OVER TARGET'}")
    finally:
        if not args.keep:
            shutil.rmtree(args.instance, ignore_errors=True)


if __name__ == "__main__":
    main()
