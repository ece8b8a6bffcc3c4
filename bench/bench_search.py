"""Search benchmark: open challenges in Chinese and English, on Whoosh and/or PostgreSQL.

Targets (issues 3 and 12): indexing 10,000 challenges < 60 s; search p95 < 20 ms at 100k
with and without filters, in process and through the API; both backends side by side with
--backend both.

"API, q + field" sends `GET /api/v1/challenges?q=...&field=...` through Flask's test client to an
app searching the bench index (what the public list does: status open and deadline after now are
added, relevance order). The app's own tables are empty (the bench builds search documents only),
so the figure is request handling + search + one (empty) row query + JSON, without the ~2-5 ms
of loading and serialising 20 challenge rows.

    .venv/bin/python bench/bench_search.py [--docs 10000] [--queries 300] [--seed 7] [--keep DIR]
        [--backend whoosh|postgres|both] [--database-url postgresql://.../bench_search]

The texts are built from per-field vocabularies (semiconductors, sensors,
materials, AI, energy, photonics, robotics, biotech) with sentence templates, so
term frequencies look like a real catalogue: field terms in a few percent of
the documents, metrics ("cost", "可靠性") in a third of them.
"""

from __future__ import annotations

import argparse
import atexit
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.simplefilter("ignore", DeprecationWarning)  # jieba's, when its bytecode is compiled

from marketplace.search import analysis  # noqa: E402
from marketplace.search.engine import SearchDoc, SearchIndex  # noqa: E402

FIELDS = {
    "semiconductors": [
        ("晶圆", "wafer"), ("光刻", "lithography"), ("刻蚀", "etching"),
        ("薄膜沉积", "thin-film deposition"), ("先进封装", "advanced packaging"), ("芯粒", "chiplet"),
        ("晶体管", "transistor"), ("氮化镓", "gallium nitride"), ("碳化硅", "silicon carbide"),
        ("功率器件", "power device"), ("良率", "yield"), ("缺陷检测", "defect inspection"),
        ("衬底", "substrate"), ("外延", "epitaxy"), ("光刻胶", "photoresist"),
        ("化学机械抛光", "chemical mechanical polishing"),
    ],
    "sensors": [
        ("传感器", "sensor"), ("图像传感器", "image sensor"), ("激光雷达", "lidar"), ("陀螺仪", "gyroscope"),
        ("加速度计", "accelerometer"), ("微机电", "MEMS"), ("压力传感器", "pressure sensor"),
        ("气体传感器", "gas sensor"), ("读出电路", "readout circuit"), ("低噪声", "low noise"),
        ("信噪比", "signal-to-noise ratio"), ("温度传感器", "temperature sensor"),
        ("红外探测器", "infrared detector"), ("生物传感", "biosensing"),
    ],
    "materials": [
        ("石墨烯", "graphene"), ("碳纳米管", "carbon nanotube"), ("钙钛矿", "perovskite"),
        ("高熵合金", "high-entropy alloy"), ("复合材料", "composite"), ("纳米材料", "nanomaterial"),
        ("陶瓷", "ceramic"), ("涂层", "coating"), ("催化剂", "catalyst"), ("聚合物", "polymer"),
        ("热管理", "thermal management"), ("超导", "superconductor"),
    ],
    "ai": [
        ("机器学习", "machine learning"), ("深度学习", "deep learning"), ("神经网络", "neural network"),
        ("大模型", "large language model"), ("计算机视觉", "computer vision"),
        ("自然语言处理", "natural language processing"), ("强化学习", "reinforcement learning"),
        ("联邦学习", "federated learning"), ("边缘计算", "edge computing"), ("算力", "compute"),
        ("目标检测", "object detection"), ("语义分割", "semantic segmentation"), ("点云", "point cloud"),
        ("多模态", "multimodal"),
    ],
    "energy": [
        ("固态电池", "solid-state battery"), ("锂电池", "lithium battery"), ("电解质", "electrolyte"),
        ("正极材料", "cathode material"), ("储能", "energy storage"), ("燃料电池", "fuel cell"), ("氢能", "hydrogen"),
        ("光伏", "photovoltaic"), ("逆变器", "inverter"), ("碳中和", "carbon neutrality"),
    ],
    "photonics": [
        ("光子芯片", "photonic chip"), ("硅光", "silicon photonics"), ("激光器", "laser"), ("光纤", "optical fiber"),
        ("调制器", "modulator"), ("光电探测器", "photodetector"), ("量子点", "quantum dot"),
        ("量子计算", "quantum computing"),
    ],
    "robotics": [
        ("机器人", "robot"), ("无人机", "drone"), ("自动驾驶", "autonomous driving"),
        ("控制算法", "control algorithm"), ("执行器", "actuator"), ("数字孪生", "digital twin"),
        ("工业互联网", "industrial internet"), ("可穿戴", "wearable"),
    ],
    "biotech": [
        ("医疗影像", "medical imaging"), ("基因测序", "gene sequencing"), ("药物筛选", "drug screening"),
        ("生物芯片", "biochip"), ("微流控", "microfluidics"), ("体外诊断", "in vitro diagnostics"),
    ],
}
QUALIFIERS = [("高精度", "high-precision"), ("低功耗", "low-power"), ("低成本", "low-cost"),
              ("高可靠性", "highly reliable"), ("小型化", "miniaturised"), ("高通量", "high-throughput"),
              ("实时", "real-time"), ("可扩展", "scalable")]
ACTIONS = [("设计", "design"), ("优化", "optimisation"), ("制备", "fabrication"), ("表征", "characterisation"),
           ("检测", "inspection"), ("建模", "modelling"), ("集成", "integration"), ("验证", "validation")]
APPLICATIONS = [("新能源汽车", "electric vehicles"), ("智能制造", "smart manufacturing"),
                ("医疗诊断", "medical diagnostics"), ("数据中心", "data centres"),
                ("消费电子", "consumer electronics"), ("航空航天", "aerospace"),
                ("智慧城市", "smart cities"), ("工业检测", "industrial inspection")]
METRICS = [("灵敏度", "sensitivity"), ("功耗", "power consumption"), ("成本", "cost"), ("可靠性", "reliability"),
           ("良率", "yield"), ("带宽", "bandwidth"), ("精度", "accuracy"), ("寿命", "lifetime"),
           ("散热", "heat dissipation"), ("响应速度", "response time")]
DESCRIPTION = [
    ("现有{t}方案在{m}方面存在不足，难以满足{a}的需求。",
     "Current {t} solutions fall short on {m} and cannot meet the needs of {a}."),
    ("我们希望解决者提出基于{t}的{x}方法，并给出实验或仿真验证。",
     "We invite solvers to propose a {x} approach based on {t}, backed by experiments or simulation."),
    ("方案应兼顾{m}与{m2}，并说明与{t2}的集成途径。",
     "Proposals should balance {m} and {m2} and explain how they integrate with {t2}."),
    ("提交内容应包括技术路线、关键参数和风险分析。",
     "Submissions should include a technical roadmap, key parameters and a risk analysis."),
    ("优先考虑可在十二个月内完成原型验证的方案。",
     "Preference goes to approaches that can reach a validated prototype within twelve months."),
    ("{t}的{q}实现是本挑战的核心难点。",
     "A {q} implementation of {t} is the core difficulty of this challenge."),
    ("评审将重点关注{m}指标以及在{a}场景下的可行性。",
     "Reviewers will focus on {m} and on feasibility for {a}."),
]
TYPES = ["ideation", "theoretical", "rtp", "erfp"]
CURRENCIES = ["USD", "EUR", "CNY", "GBP"]
NOW = datetime(2027, 3, 1, tzinfo=UTC)


def make_challenge(doc_id: int, rng: random.Random) -> SearchDoc:
    field = rng.choice(list(FIELDS))
    (t_zh, t_en), (t2_zh, t2_en) = rng.sample(FIELDS[field], 2)
    q_zh, q_en = rng.choice(QUALIFIERS)
    x_zh, x_en = rng.choice(ACTIONS)
    a_zh, a_en = rng.choice(APPLICATIONS)
    (m_zh, m_en), (m2_zh, m2_en) = rng.sample(METRICS, 2)
    zh_values = {"t": t_zh, "t2": t2_zh, "q": q_zh, "x": x_zh, "a": a_zh, "m": m_zh, "m2": m2_zh}
    en_values = {"t": t_en, "t2": t2_en, "q": q_en, "x": x_en, "a": a_en, "m": m_en, "m2": m2_en}
    sentences = rng.sample(DESCRIPTION, rng.randint(4, len(DESCRIPTION)))
    zh = {
        "title": f"面向{a_zh}的{q_zh}{t_zh}{x_zh}",
        "summary": f"本挑战寻求{q_zh}{t_zh}与{t2_zh}的{x_zh}方案，目标应用于{a_zh}。要求方案在{m_zh}方面优于现有技术。",
        "description": "".join(zh_template.format(**zh_values) for zh_template, _ in sentences),
    }
    en = {
        "title": f"{q_en.capitalize()} {t_en} {x_en} for {a_en}",
        "summary": f"This challenge seeks {q_en} {x_en} of {t_en} with {t2_en} for {a_en}. "
                   f"Solutions must beat the state of the art on {m_en}.",
        "description": " ".join(en_template.format(**en_values) for _, en_template in sentences),
    }
    languages = rng.choices([("zh_Hans", "en"), ("zh_Hans",), ("en",)], weights=[2, 1, 1])[0]
    texts = {"zh_Hans": zh, "en": en}
    published = NOW - timedelta(days=rng.uniform(0, 180))
    return SearchDoc(
        id=doc_id,
        texts={lang: "\n".join(texts[lang].values()) for lang in languages},
        titles={lang: texts[lang]["title"] for lang in languages},
        facets={"field": field, "challenge_type": rng.choice(TYPES), "status": "open",
                "currency": rng.choice(CURRENCIES), "organization": rng.randint(1, 40)},
        award=rng.randrange(10_000, 500_000) * 100,
        published=published,
        deadline=NOW + timedelta(days=rng.uniform(7, 180)),
    )


def make_queries(count: int, rng: random.Random) -> list[str]:
    """A field term, then maybe terms a searcher would add: same field, qualifier, application, metric."""
    extras = QUALIFIERS + ACTIONS + APPLICATIONS + METRICS
    queries = []
    for _ in range(count):
        field_terms = FIELDS[rng.choice(list(FIELDS))]
        size = rng.choices([1, 2, 3], weights=[4, 4, 2])[0]
        picked = [rng.choice(field_terms)] + [rng.choice(field_terms + extras) for _ in range(size - 1)]
        language = rng.choices(["zh", "en", "mixed"], weights=[45, 45, 10])[0]
        if language == "zh":
            queries.append(" ".join(zh for zh, _ in picked))
        elif language == "en":
            queries.append(" ".join(en for _, en in picked))
        else:
            queries.append(" ".join(pair[i % 2] for i, pair in enumerate(picked)) + (" " + picked[0][1]))
    return queries


def timed(function, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return (time.perf_counter() - started) * 1000, result


def percentiles(samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(round(0.95 * len(samples))) - 1)]
    return f"median {statistics.median(samples):6.2f} ms   p95 {p95:6.2f} ms   max {samples[-1]:6.2f} ms"


def folder_size(path: Path) -> int:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def p95(samples: list[float]) -> float:
    samples = sorted(samples)
    return samples[min(len(samples) - 1, int(round(0.95 * len(samples))) - 1)]


def ensure_database(url) -> None:
    """Create the bench database on its server when a fresh machine does not have it yet."""
    import sqlalchemy as sa

    server = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        if conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}) is None:
            conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    server.dispose()


def open_backend(name: str, folder: Path, database_url: str, *, fresh: bool = False):
    """(index, a function telling its size) for `whoosh` (a folder) or `postgres` (the bench database)."""
    if name == "whoosh":
        def size() -> str:
            generation = folder / "challenges" / (folder / "challenges" / "CURRENT").read_text()
            return f"{folder_size(generation) / 1e6:.1f} MB"

        return SearchIndex(folder, "challenges"), size
    import sqlalchemy as sa

    from marketplace.config import normalise_database_url
    from marketplace.search.models import SearchDocument, SearchGeneration
    from marketplace.search.postgres import PostgresIndex

    engine = sa.create_engine(normalise_database_url(database_url))
    ensure_database(engine.url)
    if fresh:
        # A new table each run: replacing 100,000 rows in place doubles the table and its index
        # (the deleted rows' space is reused only after a vacuum), and the figures with them.
        SearchDocument.__table__.drop(engine, checkfirst=True)
    SearchDocument.__table__.create(engine, checkfirst=True)
    SearchGeneration.__table__.create(engine, checkfirst=True)

    def size() -> str:
        with engine.connect() as conn:
            total = conn.scalar(sa.text("SELECT pg_total_relation_size('search_documents')"))
        return f"{total / 1e6:.1f} MB (table and indexes)"

    return PostgresIndex(engine, "challenges", cache_dir=folder), size


def build(index, documents: list[SearchDoc]) -> float:
    batch_size = 500
    done = 0
    started = time.perf_counter()

    def progress(n: int) -> None:
        nonlocal done
        done += n
        if done % 20_000 == 0 or done == len(documents):
            elapsed = time.perf_counter() - started
            print(f"  indexed {done:>6}/{len(documents)}  {elapsed:6.1f} s  {done / elapsed:6.0f} docs/s", flush=True)

    index.rebuild((documents[i:i + batch_size] for i in range(0, len(documents), batch_size)), progress=progress)
    return time.perf_counter() - started


def api_measure(name: str, folder: Path, database_url: str, queries: list[str]):
    """A function measuring `GET /api/v1/challenges?q=&field=` on an app searching this bench's index."""
    from marketplace import create_app
    from marketplace.config import normalise_database_url
    from marketplace.extensions import db

    instance = Path(tempfile.mkdtemp(prefix="bench-search-app-"))
    atexit.register(shutil.rmtree, instance, True)
    (instance / "search").symlink_to(folder.resolve())  # the app's Whoosh folder is the bench's
    url = database_url if name == "postgres" else f"sqlite:///{instance / 'app.sqlite'}"
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "INSTANCE_PATH": str(instance),
                      "SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "SEARCH_BACKEND": name,
                      "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://", "MAIL_SERVER": None})
    with app.app_context():
        db.create_all()  # empty tables (search_documents is kept: create_all skips what exists)
    client = app.test_client()

    def run(rng: random.Random) -> list[float]:
        samples = []
        for query in queries[:100]:
            ms, response = timed(client.get, "/api/v1/challenges",
                                 query_string={"q": query, "field": rng.choice(list(FIELDS))})
            if response.status_code != 200:
                raise RuntimeError(f"API answered {response.status_code}: {response.get_data(as_text=True)[:300]}")
            samples.append(ms)
        return samples

    return run


def measure(index, queries: list[str], seed: int, next_id: int, api=None) -> dict[str, list[float]]:
    """Every measured series, printed as it goes; the same queries, filters and writes for every backend."""
    rng = random.Random(seed)
    figures: dict[str, list[float]] = {}
    ms, _ = timed(index.search, queries[0])
    print(f"first search: {ms:.0f} ms")
    plain, totals, relaxed = [], [], 0
    for query in queries:
        ms, page = timed(index.search, query)
        plain.append(ms)
        totals.append(page.total)
        relaxed += page.relaxed
    figures["relevance, page 1"] = plain
    figures["_totals"] = totals
    print(f"{len(queries)} queries (relevance, page 1 of 20): {percentiles(plain)}")
    print(f"  matches per query: median {statistics.median(totals):.0f}, max {max(totals)}; "
          f"{sum(t == 0 for t in totals)} with none, {relaxed} relaxed to any word")
    figures["filters + sort"] = [
        timed(index.search, query, filters={"status": "open", "field": rng.choice(list(FIELDS)),
                                            "min_award": 10_000_000},
              sort=rng.choice(["deadline", "award", "newest"]))[0] for query in queries[:100]]
    figures["filters, relevance"] = [
        timed(index.search, query, filters={"status": "open", "field": rng.choice(list(FIELDS)),
                                            "deadline_after": NOW})[0] for query in queries[:100]]
    figures["page 5"] = [timed(index.search, query, page=5)[0] for query in queries[:50]]
    figures["browse, no query"] = [timed(index.search, "", filters={"status": "open"}, sort=sort, page=page)[0]
                                   for sort in ("newest", "deadline", "award") for page in (1, 2, 3, 10)]
    ranges = {"award": {"< 50k": (None, 4_999_999), "50k-200k": (5_000_000, 19_999_999), "200k+": (20_000_000, None)}}
    figures["facet counts"] = [timed(index.facets, query, filters={"status": "open"},
                                     field_names=["field", "challenge_type"], ranges=ranges)[0]
                               for query in queries[:50] + [""] * 10]
    writes, after_write = [], []
    for n in range(20):
        writes.append(timed(index.upsert, [make_challenge(next_id + n, rng)])[0])
        after_write.append(timed(index.search, rng.choice(queries), filters={"status": "open"})[0])
    figures["single upsert"] = writes
    figures["search after upsert"] = after_write
    if api is not None:
        figures["API, q + field"] = api(rng)
    for name, samples in figures.items():
        if not name.startswith("_") and name != "relevance, page 1":
            print(f"{name:<24} {percentiles(samples)}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backend", choices=["whoosh", "postgres", "both"], default="whoosh")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                                 "postgresql://postgres@127.0.0.1:5432/bench_search"),
                        help="a dedicated PostgreSQL database for --backend postgres (its search table is replaced)")
    parser.add_argument("--keep", type=Path, help="build the Whoosh index in this folder and keep it")
    parser.add_argument("--no-api", action="store_true", help="leave out the API line (it needs the app's packages)")
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (figures grow with the load)")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-search-"))
    rng = random.Random(args.seed)
    try:
        analysis.configure(folder)
        started = time.perf_counter()
        analysis.query_words("预热 warm-up")
        print(f"jieba initialised in {time.perf_counter() - started:.2f} s (cache in {folder})")
        documents = [make_challenge(doc_id, rng) for doc_id in range(1, args.docs + 1)]
        characters = sum(len(text) for doc in documents for text in doc.texts.values())
        print(f"{len(documents)} challenges generated, {characters / len(documents):.0f} characters each on average")
        queries = make_queries(args.queries, rng)
        print(f"query samples: {', '.join(repr(q) for q in queries[:6])}")
        results = {}
        for name in (["whoosh", "postgres"] if args.backend == "both" else [args.backend]):
            print(f"\n== {name} ==")
            index, size = open_backend(name, folder, args.database_url, fresh=True)
            indexing = build(index, documents)
            print(f"indexing: {indexing:.1f} s for {len(documents)} challenges; index size {size()}")
            api = None
            if not args.no_api:
                try:
                    api = api_measure(name, folder, args.database_url, queries)
                except Exception as error:  # noqa: BLE001 - the app may not start (work in progress): the rest still counts
                    print(f"API line left out: the app did not start: {error!r}")
            results[name] = measure(index, queries, args.seed + 1, args.docs + 1, api)
            results[name]["_indexing"] = [indexing]
        summarise(results)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


def summarise(results: dict[str, dict[str, list[float]]]) -> None:
    names = list(results)
    print(f"\n{'p50 / p95 ms':<24}" + "".join(f"{name:>22}" for name in names))
    first = results[names[0]]
    for series in first:
        if series.startswith("_"):
            continue
        row = "".join(f"{statistics.median(results[n][series]):>10.2f} / {p95(results[n][series]):>7.2f} "
                      for n in names)
        print(f"{series:<24}{row}")
    print(f"{'indexing s':<24}" + "".join(f"{results[n]['_indexing'][0]:>22.1f}" for n in names))
    if len(names) == 2:
        same = sum(a == b for a, b in zip(results[names[0]]["_totals"], results[names[1]]["_totals"], strict=True))
        print(f"totals equal on both backends for {same} of {len(first['_totals'])} queries")
    for name in names:
        series = ["relevance, page 1", "filters + sort", "filters, relevance", "API, q + field"]
        missed = [f"{one} {p95(results[name][one]):.1f}" for one in series
                  if one in results[name] and p95(results[name][one]) >= 20]
        verdict = "met" if not missed else "NOT met (" + ", ".join(missed) + ")"
        print(f"{name}: search p95 < 20 ms with and without filters, and through the API: {verdict}")
    print(f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
