"""Benchmark: staff search of the expert database over 20,000 generated profiles.

Builds a fresh database (SQLite in a temporary folder by default, or the PostgreSQL database
given with --database-url, whose public schema is DROPPED: use a database of your own), fills it
with generated solvers and profiles (a tenth of them in Chinese), indexes them with the
application's own code (solvers.experts.reindex_all), then runs a mix of searches: text, several
words, Chinese, expertise tag, country, early-career, combinations, and the unfiltered list.

Each search is timed twice: the service alone (search_experts + the staff view of the page), and
the whole API request (GET /api/v1/experts with a staff bearer token). Target: median < 20 ms.

Run: .venv/bin/python bench/bench_experts.py [--profiles 20000] [--queries 200]
     [--database-url postgresql://postgres@127.0.0.1:5432/bench_mine]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from marketplace import create_app  # noqa: E402
from marketplace.config import normalise_database_url  # noqa: E402
from marketplace.solvers.vocabulary import VOCABULARY  # noqa: E402

TARGET_MEDIAN_MS = 20.0
COUNTRIES = ("DE", "GB", "FR", "ES", "IT", "NL", "SE", "CH", "US", "CA", "BR", "MX", "IN", "JP", "KR", "SG", "AU",
             "ZA", "EG", "NG", "IL", "TR", "PL", "CZ", "VN", "TH", "MY", "CN", "AR", "CL")
FIRST = ("Anna", "James", "María", "Camille", "Kenji", "Min-ji", "Ahmed", "Priya", "Lucas", "Emily", "Olga", "Daniel",
         "Sofia", "Thabo", "An", "Chen", "Fatima", "Lars", "Giulia", "Hiroshi", "Amir", "Elena", "Tomás", "Aisha")
LAST = ("Schmidt", "Okafor", "García", "Durand", "Tanaka", "Kim", "Hassan", "Nair", "Silva", "Chen", "Ivanova",
        "Cohen", "Rossi", "Nkosi", "Nguyen", "Liu", "Müller", "Andersson", "Bianchi", "Sato", "Haddad", "Popescu")
WORDS = ("low-noise", "readout", "amplifier", "sensor", "sensors", "wafer", "defect", "inspection", "thermal",
         "packaging", "reliability", "lithography", "overlay", "resist", "etching", "deposition", "gallium",
         "nitride", "power", "converter", "photonic", "modulator", "laser", "detector", "infrared", "gas", "humidity",
         "pressure", "gyroscope", "accelerometer", "fusion", "calibration", "drift", "compensation", "neural",
         "accelerator", "quantisation", "compiler", "memristor", "crossbar", "battery", "electrolyte", "cathode",
         "perovskite", "graphene", "nanowire", "spectroscopy", "metrology", "yield", "model", "simulation",
         "optimisation", "machine", "learning", "edge", "inference", "energy", "efficient", "cmos", "mems", "analog",
         "mixed-signal", "adc", "pll", "transceiver", "antenna", "radar", "lidar", "imaging", "camera", "pixel")
CHINESE = ("传感器", "晶圆", "缺陷检测", "读出电路", "低噪声", "封装", "可靠性", "光刻", "氮化镓", "功率器件", "硅光",
           "探测器", "气体传感器", "机器学习", "存算一体", "固态电池", "石墨烯", "热管理", "良率", "算法")
AFFILIATIONS = ("Technical University of Munich", "Imperial College London", "CNRS", "KAIST", "University of Tokyo",
                "Stanford University", "ETH Zurich", "KTH", "Politecnico di Milano", "IISc", "USP", "Technion",
                "University of Cape Town", "NUS", "TU Delft", "EPFL", "MIT", "Caltech", "复旦大学", "清华大学")
KINDS = ("publication", "publication", "publication", "patent", "project", "grant", "thesis")
ALL_TAGS = [tag for tags in VOCABULARY.values() for tag in tags]


def sentence(rng: random.Random, n: int, chinese: bool) -> str:
    if chinese:
        return "".join(rng.choice(CHINESE) for _ in range(n)) + "。"
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def generate(app, count: int, rng: random.Random) -> None:
    """Users, profiles and research entries by bulk insert; terms by the application's reindex_all."""
    from marketplace.db import utcnow
    from marketplace.extensions import db
    from marketplace.solvers import experts
    from marketplace.solvers.models import ExpertProfile, ResearchEntry

    with app.app_context():
        now = utcnow()
        users, profiles, research = [], [], []
        for i in range(1, count + 1):
            chinese = rng.random() < 0.1
            users.append({"id": i, "email": f"solver{i}@bench.example", "password_hash": "!", "created_at": now,
                          "display_name": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "active": True,
                          "country": "CN" if chinese else rng.choice(COUNTRIES), "locale": "en", "timezone": "UTC"})
            tags = rng.sample(ALL_TAGS, rng.randint(3, 8))
            profiles.append({
                "id": i, "user_id": i, "headline": sentence(rng, rng.randint(4, 9), chinese),
                "bio": " ".join(sentence(rng, rng.randint(8, 16), chinese) for _ in range(rng.randint(2, 5))),
                "expertise": tags, "affiliation": rng.choice(AFFILIATIONS), "affiliation_history": [],
                "orcid": None, "latest_progress": sentence(rng, rng.randint(6, 14), chinese),
                "early_career": rng.random() < 0.35, "languages": ["en"], "visibility": {},
                "created_at": now, "updated_at": now})
            for _ in range(rng.randint(1, 6)):
                research.append({"profile_id": i, "year": rng.randint(2005, 2026), "kind": rng.choice(KINDS),
                                 "title": sentence(rng, rng.randint(5, 12), chinese), "link": None, "coauthors": []})
        db.session.execute(sa.insert(db.metadata.tables["users"]), users)
        db.session.execute(sa.insert(ExpertProfile), profiles)
        db.session.execute(sa.insert(ResearchEntry), research)
        if db.engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
            db.session.execute(sa.text("SELECT setval(pg_get_serial_sequence('users', 'id'), "
                                       "(SELECT max(id) FROM users))"))
            db.session.execute(sa.text("SELECT setval(pg_get_serial_sequence('expert_profiles', 'id'), "
                                       "(SELECT max(id) FROM expert_profiles))"))
        db.session.commit()
        started = time.perf_counter()
        experts.reindex_all(batch_size=1000)
        db.session.commit()
        terms = db.session.scalar(sa.text("SELECT count(*) FROM expert_terms"))
        print(f"indexed {count} profiles ({len(research)} research entries, {terms} term rows) "
              f"in {time.perf_counter() - started:.1f} s")
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does after a bulk load: statistics, and the visibility map that
            # lets expert_terms be read by index-only scans.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(sa.text("VACUUM ANALYZE"))


def query_mix(rng: random.Random, n: int) -> list[dict]:
    makers = [
        (30, lambda: {"q": rng.choice(WORDS)}),
        (15, lambda: {"q": f"{rng.choice(WORDS)} {rng.choice(WORDS)}"}),
        (10, lambda: {"q": rng.choice(CHINESE)}),
        (10, lambda: {"q": f"{rng.choice(FIRST)} {rng.choice(LAST)}"}),
        (10, lambda: {"expertise": rng.choice(ALL_TAGS)}),
        (8, lambda: {"country": rng.choice(COUNTRIES)}),
        (7, lambda: {"q": rng.choice(WORDS), "country": rng.choice(COUNTRIES)}),
        (5, lambda: {"expertise": rng.choice(ALL_TAGS), "early_career": True}),
        (5, lambda: {}),
    ]
    weights = [w for w, _ in makers]
    return [rng.choices(makers, weights)[0][1]() for _ in range(n)]


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))], ordered[-1]


def run(app, queries: list[dict]) -> None:
    from marketplace.accounts import services as accounts
    from marketplace.extensions import db
    from marketplace.solvers import experts, profiles

    with app.test_request_context():
        org = accounts.create_organization(slug="bench-center", name="Bench Center", country="CN")
        staff = accounts.register_user(email="staff@bench.example", password="a-long-bench-password-1",
                                       display_name="Bench Staff", country="CN", confirmed=True)
        accounts.grant_role(staff, "reviewer", org)
        token, _row = accounts.issue_api_token(staff)
        db.session.commit()

    service_ms, api_ms, totals = [], [], []
    with app.test_request_context():
        for args in queries[:5]:  # warm caches (jieba, SQL plans) before timing
            experts.search_experts(experts.ExpertQuery.from_args(args))
        for args in queries:
            started = time.perf_counter()
            rows, total = experts.search_experts(experts.ExpertQuery.from_args(args))
            [profiles.full_view(p, p.user) for p in rows]
            service_ms.append((time.perf_counter() - started) * 1000)
            totals.append(total)
            db.session.rollback()  # a fresh session per search, as a request has
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    for args in queries:
        query = {k: ("true" if v is True else v) for k, v in args.items()}
        started = time.perf_counter()
        response = client.get("/api/v1/experts", query_string=query, headers=headers)
        api_ms.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_json()

    for label, samples in (("service", service_ms), ("API request", api_ms)):
        median, p95, worst = percentiles(samples)
        verdict = "OK" if median < TARGET_MEDIAN_MS else "OVER TARGET"
        print(f"{label:12s} median {median:6.2f} ms   p95 {p95:6.2f} ms   max {worst:6.2f} ms   [{verdict}]")
    print(f"results per search: median {statistics.median(totals):.0f} matching profiles, "
          f"{sum(1 for t in totals if t == 0)} searches with none")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profiles", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", help="PostgreSQL URL of a database of your own (its schema is dropped)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-experts-"))
    url = normalise_database_url(args.database_url) if args.database_url else f"sqlite:///{folder / 'bench.sqlite'}"
    if url.startswith("postgresql"):
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app({"INSTANCE_PATH": str(folder), "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only",
                      "MAIL_SERVER": None, "RATELIMIT_ENABLED": False, "PASSWORD_HASH_FAST": True,
                      "RATELIMIT_STORAGE_URI": "memory://"})
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")  # every branch, merged or not
    print(f"database: {url.split('@')[-1] if '@' in url else url}")
    rng = random.Random(args.seed)
    generate(app, args.profiles, rng)
    run(app, query_mix(rng, args.queries))


if __name__ == "__main__":
    main()
