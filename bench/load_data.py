"""The data set of bench_load.py: 100,000 challenges (40,000 open), 150,000 texts in English and Chinese,
200,000 proposals, written with COPY into a dedicated PostgreSQL database (about a minute).

The first user (`SOLVER_EMAIL`, password `SOLVER_PASSWORD`) is the solver whose dashboard is measured:
they lead about ten proposals and co-author five.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
SOLVER_EMAIL = "solver@bench.example"
SOLVER_PASSWORD = "bench-password-123"
FIELDS = ["semiconductors", "sensors", "materials", "ai", "energy", "photonics", "robotics", "biotech"]
TYPES = ["ideation", "theoretical", "rtp", "erfp"]
CURRENCIES = ["CNY", "USD", "EUR"]
WORDS_EN = ("wafer defect inspection low-noise readout circuit lidar sensor graphene coating perovskite yield "
            "thermal management edge computing neural network power device substrate epitaxy").split()
WORDS_ZH = ("晶圆 缺陷检测 低噪声 读出电路 激光雷达 传感器 石墨烯 涂层 "
            "钙钛矿 良率 热管理 边缘计算 神经网络 功率器件 衬底 外延").split()


def recreate_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def migrate(env: dict) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade", "heads"], cwd=ROOT, env=env,
                   check=True, capture_output=True)


def _sentence(rng: random.Random, words: list[str], count: int, joiner: str = " ") -> str:
    return joiner.join(rng.choice(words) for _ in range(count))


def _quote(rng: random.Random, currency: str, award: int) -> dict:
    """About 700 bytes, like the real award quote."""
    benchmarks = [{"country": c, "amount": {"amount": f"{rng.randint(50, 200) * 1000}.00", "currency": "USD"},
                   "converted": {"amount": f"{award / 100:.2f}", "currency": currency},
                   "source": "national survey of research contract rates, engineering, 2026"}
                  for c in ("US", "GB", "DE")]
    return {"benchmarks": benchmarks, "reference": {"country": "US", "converted": benchmarks[0]["converted"]},
            "premium_pct": "15", "award": {"amount": f"{award / 100:.2f}", "currency": currency}}


def _challenge_rows(rng: random.Random, count: int, now: datetime):
    """(row, has Chinese text) per challenge: 40 % open, 8 % undated drafts, the rest past states."""
    for cid in range(1, count + 1):
        share = cid % 50
        if share < 20:
            status, published = "open", now - timedelta(minutes=rng.randint(1, 500_000))
        elif share < 24:
            status, published = "draft", None
        elif share < 25:
            status, published = "in_clearance", None
        else:
            status = rng.choice(["closed", "judging", "awarded", "no_award"])
            published = now - timedelta(minutes=rng.randint(200_000, 1_500_000))
        deadline = now + timedelta(hours=rng.randint(2, 24 * 180)) if status in ("open", "draft", "in_clearance") \
            else published + timedelta(days=60)
        currency = CURRENCIES[cid % 3]
        award = rng.randint(50, 2000) * 100_000
        invite_only = status == "open" and cid % 97 == 0
        row = (cid, 1 + cid % 20, 2 + cid % 50, status, "zh_Hans" if cid % 2 else "en", TYPES[cid % 4],
               FIELDS[cid % 8], deadline, award, currency, "15.00", json.dumps(_quote(rng, currency, award)),
               status != "draft", cid % 5 == 0, invite_only, "assignment", 1 + cid % 9, "[]", "v1",
               published, now, now)
        yield row


CHALLENGE_COLUMNS = ("id, organization_id, author_id, status, default_locale, challenge_type, field, deadline, "
                     "award_minor, award_currency, premium_pct, quote, funded, seeker_anonymous, invite_only, "
                     "ip_terms, target_trl, excluded_countries, agreement_version, published_at, updated_at, "
                     "created_at")


def build(url: str, challenges: int = 100_000, proposals: int = 200_000, users: int = 20_000, seed: int = 7) -> float:
    """Fill the migrated database at `url`; returns the seconds it took."""
    import argon2

    started, rng, now = time.perf_counter(), random.Random(seed), datetime.now(UTC).replace(tzinfo=None)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy("COPY organizations (id, slug, name, country, premium_pct, created_at) FROM STDIN") as copy:
            for oid in range(1, 21):
                copy.write_row((oid, f"center-{oid}", f"Innovation center {oid}", "CN", "15.00", now))
        solver_hash = argon2.PasswordHasher().hash(SOLVER_PASSWORD)
        with cur.copy("COPY users (id, email, password_hash, display_name, country, locale, timezone, "
                      "email_confirmed_at, active, created_at, auth_version) FROM STDIN") as copy:
            for uid in range(1, users + 1):
                copy.write_row((uid, SOLVER_EMAIL if uid == 1 else f"user{uid}@bench.example",
                                solver_hash if uid == 1 else "!", f"User {uid}", ["DE", "CN", "US", "GB"][uid % 4],
                                "en", "UTC", now, True, now, 0))
        with cur.copy(f"COPY challenges ({CHALLENGE_COLUMNS}) FROM STDIN") as copy:
            for row in _challenge_rows(rng, challenges, now):
                copy.write_row(row)
        # One stage per challenge (as the stages migration writes them), numbered like its challenge.
        cur.execute("INSERT INTO challenge_stages (id, challenge_id, position, name, description, deadline) "
                    "SELECT id, id, 1, '{}', '{}', deadline FROM challenges")
        cur.execute("UPDATE challenges SET current_stage_id = id")
        with cur.copy("COPY challenge_texts (challenge_id, locale, title, summary, description) FROM STDIN") as copy:
            for cid in range(1, challenges + 1):
                copy.write_row((cid, "en", f"Challenge {cid}: " + _sentence(rng, WORDS_EN, 6),
                                _sentence(rng, WORDS_EN, 40), _sentence(rng, WORDS_EN, 200)))
                if cid % 2:
                    copy.write_row((cid, "zh_Hans", f"挑战 {cid}：" + _sentence(rng, WORDS_ZH, 6, ""),
                                    _sentence(rng, WORDS_ZH, 60, ""), _sentence(rng, WORDS_ZH, 300, "")))
        _proposals(cur, rng, proposals, challenges, users, now)
        for table in ("organizations", "users", "challenges", "challenge_stages", "challenge_texts", "proposals",
                      "proposal_members"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - fixed names
                        f"(SELECT max(id) FROM {table}))")
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def _proposals(cur, rng: random.Random, count: int, challenges: int, users: int, now: datetime) -> None:
    """Two proposals per challenge with distinct leads; the bench solver co-authors five more."""
    members = []
    with cur.copy("COPY proposals (id, challenge_id, stage_id, lead_id, status, title, abstract, body, locale, "
                  "version, submitted_at, created_at) FROM STDIN") as copy:
        for pid in range(1, count + 1):
            lead = 1 + (pid * 7919 + pid // challenges) % users
            status = "submitted" if pid % 3 else "withdrawn"
            challenge_id = 1 + (pid - 1) % challenges
            copy.write_row((pid, challenge_id, challenge_id, lead, status, f"Proposal {pid}",
                            _sentence(rng, WORDS_EN, 30), _sentence(rng, WORDS_EN, 60), "en", 1,
                            now if status == "submitted" else None, now))
            members.append((pid, lead, f"user{lead}@bench.example", "lead", "accepted", False))
    for pid in range(1001, 1006):
        members.append((pid, 1, SOLVER_EMAIL, "coauthor", "accepted", False))
    with cur.copy("COPY proposal_members (proposal_id, user_id, email, role, status, share_agreed) FROM STDIN") as copy:
        for row in members:
            copy.write_row(row)
