"""Exact totals, the backend choice, and the API answering the same on Whoosh and PostgreSQL."""

from __future__ import annotations

import pytest

from marketplace import create_app
from marketplace.search.engine import SearchDoc
from marketplace.search.postgres import BackendUnavailable
from tests.factories import FX, RATES, Center


def _corpus() -> list[SearchDoc]:
    """Documents matching "sensor" in the title only, the text only, or both; others not at all."""
    docs = []
    for n in range(1, 301):
        where = n % 4
        title = "Sensor array" if where in (0, 1) else "Battery pack"
        text = "A low-noise sensor readout" if where in (1, 2) else "Thermal design of a graphene film"
        docs.append(SearchDoc(id=n, texts={"en": f"{title}. {text} number {n}"}, titles={"en": title},
                              facets={"status": "open" if n % 3 else "closed"}))
    return docs


def test_relevance_search_reports_every_match_as_its_total(index):
    docs = _corpus()
    for start in range(0, len(docs), 60):  # several writes: several Whoosh segments
        index.upsert(docs[start:start + 60])
    matching = {d.id for d in docs if "sensor" in d.texts["en"].lower()}
    open_matching = {d.id for d in docs if d.id in matching and d.facets["status"] == "open"}
    pages = [index.search("sensor", page=n, per_page=20) for n in range(1, 13)]
    assert {p.total for p in pages} == {len(matching)} == {225}
    assert {i for p in pages for i in p.ids} == matching
    filtered = index.search("sensors", filters={"status": "open"}, per_page=10)
    assert filtered.total == len(open_matching)
    assert index.search("sensor", page=50).total == len(matching)  # past the last page: still the total


def test_postgres_backend_is_refused_on_sqlite(tmp_path):
    with pytest.raises(BackendUnavailable, match="SEARCH_BACKEND=postgres needs a PostgreSQL database"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path),
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite'}", "SEARCH_BACKEND": "postgres",
                    "RATELIMIT_STORAGE_URI": "memory://"})


def test_an_unknown_backend_is_refused(tmp_path):
    with pytest.raises(ValueError, match="SEARCH_BACKEND must be one of whoosh, postgres"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path),
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite'}", "SEARCH_BACKEND": "solr",
                    "RATELIMIT_STORAGE_URI": "memory://"})


@pytest.fixture
def center(search_app, client, make_org, make_user, api_token):
    admin = api_token(make_user(roles=[("admin", None)]))
    client.put("/api/v1/benchmark-rates", json=RATES, headers=admin)
    client.put("/api/v1/fx-rates", json=FX, headers=admin)
    return Center(client, make_org, make_user, api_token, "sh-icc")


def found(client, query, **params) -> tuple[list[int], int]:
    body = client.get("/api/v1/challenges", query_string={"q": query, **params}).get_json()
    return [item["id"] for item in body["items"]], body["total"]


def test_the_api_finds_chinese_and_english_on_either_backend(client, center):
    readout = center.open_challenge()
    humidity = center.open_challenge(
        field="sensors", title={"en": "Self-calibrating humidity sensors", "zh_Hans": "自校准湿度传感器"},
        summary={"en": "Drift below 0.5 %RH per year.", "zh_Hans": "年漂移低于 0.5 %RH。"},
        description={"en": "Calibration scheme.", "zh_Hans": "校准方案。"})
    assert found(client, "晶圆缺陷") == ([readout], 1)
    assert found(client, "湿度") == ([humidity], 1)
    assert found(client, "humidity sensor") == ([humidity], 1)
    assert found(client, "读出电路") == ([readout], 1)
    ids, total = found(client, "sensors", per_page=1)
    assert total == 2 and len(ids) == 1
    assert found(client, "湿度", field="semiconductors") == ([], 0)
    center.post(f"/challenges/{humidity}/close", center.manager)
    assert found(client, "湿度") == ([], 0)  # closed: gone from the index


def test_reindex_rebuilds_either_backend(search_app, client, center):
    opened = center.open_challenge()
    from marketplace.search.backends import open_index

    with search_app.app_context():
        open_index("challenges").clear()
    assert found(client, "readout") == ([], 0)
    result = search_app.test_cli_runner().invoke(args=["search", "reindex", "--kind", "challenges"])
    assert result.exit_code == 0, result.output
    assert "Indexed 1 challenges" in result.output
    assert found(client, "readout") == ([opened], 1)


def test_an_open_ended_range_bucket_counts_every_match(index):
    index.upsert([SearchDoc(id=n, texts={"en": f"sensor {n}"}, award=n * 1000) for n in range(1, 6)])
    counts = index.facets("sensor", ranges={"award": {"any": (None, None), "from 3k": (3000, None)}})
    assert counts["award"] == {"any": 5, "from 3k": 3}
