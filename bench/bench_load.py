"""Load benchmark of the public pages at 100,000 challenges (issue 12), against a bare one-query Flask app.

    .venv/bin/python bench/bench_load.py [--duration 4] [--clients 1,10,50] [--skip-build] [--worker-class sync]

It builds the data set (bench/load_data.py) in the PostgreSQL database `bench_load` (recreated), starts
the application under gunicorn (2 workers) and a bare Flask app that runs one indexed query, both on
127.0.0.1, then measures every endpoint with `wrk` (installed from Debian's packages when missing), the
bare app and the application interleaved, and prints req/s, p95 and the ratios against the targets.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load_data  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DB_URL = "postgresql://postgres@127.0.0.1:5432/bench_load"
APP_PORT, BARE_PORT, REDIS_PORT = 8731, 8732, 8733
BARE_APP = '''
import random, os
from flask import Flask, jsonify
from sqlalchemy import create_engine, text
engine = create_engine(os.environ["BENCH_DB"].replace("postgresql://", "postgresql+psycopg://"), pool_size=4)
app = Flask(__name__)
@app.get("/")
def one():
    with engine.connect() as conn:
        row = conn.execute(text("SELECT id, status, award_minor FROM challenges WHERE id = :id"),
                           {"id": random.randint(1, 100000)}).one()
    return jsonify(id=row.id, status=row.status, award=row.award_minor)
'''
# The p95 latency, and how many answers were not 200 (wrk itself counts a redirect to the sign-in page as a
# success; each wrk thread has its own Lua state, so `done` adds up the threads' counters).
P95_SCRIPT = """threads = {}
setup = function(thread) table.insert(threads, thread) end
init = function(args) not_ok = 0 end
response = function(status, headers, body) if status ~= 200 then not_ok = not_ok + 1 end end
done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("not_ok") end
  io.write(string.format("P95_US %d\\nNOT_200 %d\\n", latency:percentile(95), total))
end
"""
# The same browser for the sign-in and for wrk: Flask-Login's strong session protection drops a session
# whose user agent changed, and every request would then be a cheap redirect to the sign-in page.
USER_AGENT = "innobridge-bench"
# Targets: (share of the bare app's req/s, p95 at 50 clients at most this many times the bare app's).
TARGETS = {"list": (0.20, 10), "page": (0.40, None), "other": (None, None)}


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("Installing wrk from Debian's packages ...", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or sys.exit("wrk is not available")


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not come up")


def start(command: list[str], env: dict, cwd: Path, log: Path) -> subprocess.Popen:
    with log.open("w") as handle:
        return subprocess.Popen(command, env=env, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def spread_script(script: str, paths: list[str]) -> str:
    """A wrk script that asks for a different path each time (the page store then misses)."""
    lua = Path(script).with_name(f"spread-{len(paths)}.lua")
    listed = ", ".join(f'"{p}"' for p in paths)
    lua.write_text(f"paths = {{{listed}}}\ncounter = 0\n"
                   "request = function()\n  counter = counter + 1\n"
                   "  return wrk.format(nil, paths[(counter % #paths) + 1])\nend\n" + Path(script).read_text())
    return str(lua)


def run_wrk(wrk: str, script: str, url: str, clients: int, seconds: float, headers: dict) -> tuple[float, float]:
    """(requests per second, p95 in ms), errors counted as failures of the run."""
    if "|" in url:  # "base|spread:<script>": many paths, one per request
        url, script = url.split("|spread:")
    command = [wrk, "-t", str(min(clients, 2)), "-c", str(clients), "-d", f"{max(1, round(seconds))}s",
               "-s", script, url]
    for name, value in {"User-Agent": USER_AGENT, **headers}.items():
        command[1:1] = ["-H", f"{name}: {value}"]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    not_ok = int(re.search(r"NOT_200 (\d+)", output).group(1))
    if not_ok:
        print(f"    ! {not_ok} answers other than 200 from {url}: its figures do not count")
        rate = 0.0
    return rate, int(re.search(r"P95_US (\d+)", output).group(1)) / 1000


def sign_in(base: str) -> tuple[str, str]:
    """(session cookie, bearer token) of the bench solver."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    page = session.get(f"{base}/auth/login").text
    # The sign-in form's token (the language switch of a visitor holds a "visitor" placeholder).
    token = next(t for t in re.findall(r'name="csrf_token" value="([^"]+)"', page) if t != "visitor")
    session.post(f"{base}/auth/login", data={"email": load_data.SOLVER_EMAIL, "password": load_data.SOLVER_PASSWORD,
                                             "csrf_token": token}, allow_redirects=False)
    bearer = requests.post(f"{base}/api/v1/auth/tokens", json={"email": load_data.SOLVER_EMAIL,
                                                              "password": load_data.SOLVER_PASSWORD},
                           timeout=30).json()["token"]
    cookie = f"session={session.cookies.get('session')}"
    dashboard = requests.get(f"{base}/me/dashboard", headers={"Cookie": cookie, "User-Agent": USER_AGENT},
                             allow_redirects=False, timeout=30)
    if dashboard.status_code != 200:
        raise SystemExit("could not sign the bench solver in")
    return cookie, bearer


def endpoints(base: str, script: str) -> list[tuple[str, str, str, dict]]:
    """(name, kind, url, headers): kind picks the target."""
    cookie, bearer = sign_in(base)
    deep = requests.get(f"{base}/api/v1/challenges?per_page=20&page=50", timeout=30).json()["next_cursor"]
    with psycopg.connect(DB_URL) as conn:  # the last page of the whole list, by cursor
        row = conn.execute("SELECT published_at, id FROM challenges WHERE status = 'open' AND invite_only IS false "
                           "AND deadline > now() ORDER BY published_at, id OFFSET 10 LIMIT 1").fetchone()
        detail_id = conn.execute("SELECT id FROM challenges WHERE status = 'open' ORDER BY id LIMIT 1").fetchone()[0]
        # Listed ones: an invite-only challenge is a 404 to a visitor.
        many = [r[0] for r in conn.execute("SELECT id FROM challenges WHERE status = 'open' AND invite_only IS false "
                                           "ORDER BY random() LIMIT 5000")]
    last = _cursor(row)
    spread = spread_script(script, [f"/challenges/{i}" for i in many])
    return [
        ("list HTML page 1", "list", "/challenges", {}),
        ("list JSON page 1", "list", "/api/v1/challenges", {}),
        ("list JSON page 50 (by number)", "list", "/api/v1/challenges?page=50", {}),
        ("list JSON page 51 (cursor)", "list", f"/api/v1/challenges?cursor={deep}&page=51", {}),
        ("list JSON last page (cursor)", "list", f"/api/v1/challenges?cursor={last}&page=2000", {}),
        ("list HTML last page (cursor)", "list", f"/challenges?sort=newest&cursor={last}&page=2000", {}),
        ("challenge page", "page", f"/challenges/{detail_id}", {}),
        ("challenge page, 5,000 different", "other", f"|spread:{spread}", {}),
        ("home", "page", "/", {}),
        ("stats (stale snapshot)", "other", "/stats", {}),
        ("solver dashboard", "other", "/me/dashboard", {"Cookie": cookie}),
        ("API my proposals", "other", "/api/v1/me/proposals", {"Authorization": f"Bearer {bearer}"}),
    ]


def _cursor(row) -> str:
    import base64
    import json
    from datetime import UTC

    plain = json.dumps(["newest", row[0].replace(tzinfo=UTC).isoformat(), row[1]])
    return base64.urlsafe_b64encode(plain.encode()).decode().rstrip("=")


def sql_before_after() -> None:
    """The queries the issue measured, before and after (EXPLAIN ANALYZE execution times, warm)."""
    pairs = {
        "list total: COUNT(*) of the open challenges (now cached per worker)":
            "SELECT count(*) FROM challenges WHERE status = 'open' AND invite_only IS false AND deadline > now()",
        "list page 1, old query (every column; partial index now present)":
            "SELECT * FROM challenges WHERE status = 'open' AND invite_only IS false AND deadline > now() "
            "ORDER BY published_at DESC, id DESC LIMIT 20",
        "list page 2000, old query (OFFSET, every column)":
            "SELECT * FROM challenges WHERE status = 'open' AND invite_only IS false AND deadline > now() "
            "ORDER BY published_at DESC, id DESC LIMIT 20 OFFSET 39980",
        "dashboard, before: lead_id = 1 OR id IN (...)":
            "SELECT * FROM proposals WHERE lead_id = 1 OR id IN (SELECT proposal_id FROM proposal_members "
            "WHERE user_id = 1 AND status IN ('accepted', 'invited')) ORDER BY id DESC",
        "dashboard, after: UNION of two index lookups":
            "SELECT * FROM proposals WHERE id IN (SELECT id FROM proposals WHERE lead_id = 1 UNION "
            "SELECT proposal_id FROM proposal_members WHERE user_id = 1 AND status IN ('accepted', 'invited')) "
            "ORDER BY id DESC",
    }
    with psycopg.connect(DB_URL) as conn:
        for label, sql in pairs.items():
            conn.execute(f"EXPLAIN ANALYZE {sql}")
            plan = [r[0] for r in conn.execute(f"EXPLAIN ANALYZE {sql}")]
            took = next(line for line in plan if line.startswith("Execution Time"))
            print(f"  {label:<70} {took.split(':')[1].strip()}")


def measure(wrk: str, script: str, base_app: str, base_bare: str, targets, clients, seconds) -> list:
    rows = []
    for name, kind, path, headers in targets:
        for count in clients:
            run_wrk(wrk, script, base_app + path, count, 1, headers)  # warm up
            bare = run_wrk(wrk, script, base_bare + "/", count, seconds, {})
            mine = run_wrk(wrk, script, base_app + path, count, seconds, headers)
            rows.append((name, kind, count, mine, bare))
            print(f"  {name:<32} {count:>3} clients: {mine[0]:8.1f} req/s p95 {mine[1]:7.1f} ms | bare "
                  f"{bare[0]:7.1f} req/s p95 {bare[1]:6.1f} ms | {100 * mine[0] / bare[0]:5.1f} %", flush=True)
    return rows


def verdicts(rows) -> list[str]:
    problems = []
    for name, kind, count, (rate, p95), (bare_rate, bare_p95) in rows:
        share, p95_factor = TARGETS[kind]
        if share and rate < share * bare_rate:
            problems.append(f"{name} at {count}: {100 * rate / bare_rate:.1f} % < {100 * share:.0f} %")
        if p95_factor and count == 50 and p95 > p95_factor * bare_p95:
            problems.append(f"{name} at 50: p95 {p95:.0f} ms > {p95_factor} x {bare_p95:.0f} ms")
    rates = {(n, c): r for n, _k, c, (r, _p), _b in rows}
    for count in {c for _n, c in rates}:
        first, last = rates.get(("list JSON page 1", count)), rates.get(("list JSON last page (cursor)", count))
        if first and last and first / last > 1.5:
            problems.append(f"last page costs {first / last:.2f} x page 1 at {count} clients")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per measurement")
    parser.add_argument("--clients", default="1,10,50")
    parser.add_argument("--skip-build", action="store_true", help="reuse the bench_load database")
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--only", default="", help="measure only endpoints whose name contains this")
    args = parser.parse_args()
    wrk = ensure_wrk()
    instance = Path(tempfile.mkdtemp(prefix="bench-load-"))
    env = {**os.environ, "DATABASE_URL": DB_URL, "INSTANCE_PATH": str(instance), "SECRET_KEY": "bench-only-secret",
           "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0", "SESSION_COOKIE_SECURE": "0",
           "LOGIN_RATE_LIMIT": "1000 per minute", "BENCH_DB": DB_URL,
           "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}"}
    if not args.skip_build:
        load_data.recreate_database(ADMIN_URL, "bench_load")
        load_data.migrate(env)
        print(f"Built the data set in {load_data.build(DB_URL):.0f} s.", flush=True)
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "analytics", "refresh"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    with psycopg.connect(DB_URL) as conn:  # every /stats request finds the snapshot stale
        conn.execute("UPDATE analytics_snapshots SET computed_at = computed_at - interval '1 day'")
    (instance / "bare_app.py").write_text(BARE_APP)
    (instance / "p95.lua").write_text(P95_SCRIPT)
    # Shared rate limits, as in production (2 workers refuse to start with in-memory ones).
    redis = start(["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no"], env, instance, instance / "redis.log")
    threads = ["--threads", "4"] if args.worker_class == "gthread" else []
    gunicorn = [sys.executable, "-m", "gunicorn", "-w", "2", "-k", args.worker_class, *threads,
                "--log-level", "warning"]
    app = start([*gunicorn, "-b", f"127.0.0.1:{APP_PORT}", "wsgi:app"], env, ROOT, instance / "app.log")
    bare = start([*gunicorn, "-b", f"127.0.0.1:{BARE_PORT}", "bare_app:app"], env, instance, instance / "bare.log")
    try:
        base_app, base_bare = f"http://127.0.0.1:{APP_PORT}", f"http://127.0.0.1:{BARE_PORT}"
        try:
            wait_for(base_app + "/"), wait_for(base_bare + "/")
        except SystemExit:
            print((instance / "app.log").read_text()[-2000:], (instance / "bare.log").read_text()[-2000:])
            raise
        print(f"Load average before: {os.getloadavg()[0]:.2f}; gunicorn 2 x {args.worker_class} workers.")
        print("SQL, warm (EXPLAIN ANALYZE):")
        sql_before_after()
        chosen = [t for t in endpoints(base_app, str(instance / "p95.lua")) if args.only in t[0]]
        clients = [int(c) for c in args.clients.split(",")]
        rows = measure(wrk, str(instance / "p95.lua"), base_app, base_bare, chosen, clients, args.duration)
        print(f"Load average after: {os.getloadavg()[0]:.2f}")
        problems = verdicts(rows)
        print("All targets met." if not problems else "Targets missed:\n  " + "\n  ".join(problems))
    finally:
        stop(app), stop(bare), stop(redis)
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
