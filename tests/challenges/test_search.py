"""Finding challenges by searching in Chinese and in English, through the API and the page."""

from __future__ import annotations


def ids(client, query, **params):
    body = client.get("/api/v1/challenges", query_string={"q": query, **params}).get_json()
    return [item["id"] for item in body["items"]]


def test_search_in_chinese_and_english(client, center):
    readout = center.open_challenge()
    humidity = center.open_challenge(
        field="sensors", title={"en": "Self-calibrating humidity sensors", "zh_Hans": "自校准湿度传感器"},
        summary={"en": "Drift below 0.5 %RH per year.", "zh_Hans": "年漂移低于 0.5 %RH。"},
        description={"en": "Calibration scheme.", "zh_Hans": "校准方案。"})
    assert ids(client, "晶圆缺陷") == [readout]
    assert ids(client, "湿度") == [humidity]
    assert ids(client, "humidity sensor") == [humidity]  # stemming: sensor finds sensors
    assert ids(client, "readout") == [readout]
    assert set(ids(client, "sensors")) == {readout, humidity}
    assert ids(client, "读出电路") == [readout]
    assert ids(client, "湿度", field="semiconductors") == []


def test_search_never_shows_non_public_challenges(client, center):
    draft = center.create(title={"en": "Secret-free draft about graphene", "zh_Hans": "石墨烯草稿"}).get_json()["id"]
    opened = center.open_challenge(title={"en": "Graphene contacts", "zh_Hans": "石墨烯接触"})
    assert ids(client, "graphene") == [opened]
    assert draft not in ids(client, "石墨烯")
    center.post(f"/challenges/{opened}/close", center.manager)
    assert ids(client, "graphene") == []


def test_odd_queries_never_fail(client, center):
    center.open_challenge()
    for query in ['"unbalanced', "a:b OR (", "AND", "😀" * 50, "x" * 500, "%_*?", "\\"]:
        response = client.get("/api/v1/challenges", query_string={"q": query})
        assert response.status_code == 200, query


def test_reindex_command_rebuilds_the_index(app, client, center):
    import shutil
    from pathlib import Path

    opened = center.open_challenge()
    shutil.rmtree(Path(app.instance_path) / "search")
    assert ids(client, "readout") == []
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 1 challenges" in result.output
    assert ids(client, "readout") == [opened]


def test_browse_page_finds_by_chinese_query(client, center):
    center.open_challenge()
    page = client.get("/challenges", query_string={"q": "低噪声"})
    assert page.status_code == 200
    assert "用于晶圆缺陷检测的低噪声读出电路" in page.get_data(as_text=True) or \
        "Low-noise readout circuit" in page.get_data(as_text=True)
