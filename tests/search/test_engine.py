"""The search engine on its own: analysis, queries, filters, sorting, writes, rebuilds."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask import Flask

from marketplace.search import analysis
from marketplace.search.cli import make_search_cli
from marketplace.search.engine import SearchDoc, SearchIndex, SearchPage
from tests.search.conftest import reopen

ROOT = Path(__file__).resolve().parents[2]
WAFER_ZH = "用于晶圆缺陷检测的低噪声传感器读出电路"
SKIN_ZH = "柔性电子皮肤压力传感阵列"
BASE = datetime(2027, 3, 1, 12, tzinfo=UTC)


def doc(doc_id, en=None, zh=None, *, title=None, award=None, published=None, deadline=None, **facets):
    texts = {locale: text for locale, text in (("en", en), ("zh_Hans", zh)) if text}
    return SearchDoc(id=doc_id, texts=texts, titles={"en": title} if title else {}, facets=facets,
                     award=award, published=published, deadline=deadline)


@pytest.fixture(scope="module", autouse=True)
def _jieba_cache_folder(tmp_path_factory):
    # As the app does at start-up, before anything analyses text.
    analysis.configure(tmp_path_factory.mktemp("search"))


@pytest.fixture
def whoosh_index(tmp_path):
    """For what only the Whoosh backend has: its folder, generations, file locks."""
    return SearchIndex(tmp_path / "search", "challenges")


def ids(index, query="", **kwargs):
    return index.search(query, **kwargs).ids


# -- analysis ----------------------------------------------------------------


def test_query_words_are_segmented_lowercased_stemmed_and_stop_words_dropped():
    assert analysis.query_words("The Sensors of 的 晶圆缺陷, and DETECTORS") == ["sensor", "晶圆", "缺陷", "detector"]


def test_full_width_text_is_normalised_and_offsets_point_into_the_original():
    text = "ＧａＮ　功率器件"
    tokens = [(t.text, t.startchar, t.endchar) for t in analysis.ANALYZER(text, chars=True, mode="index")]
    assert ("gan", 0, 3) in tokens
    assert ("功率器件", 4, 8) in tokens
    assert all(text[start:end] for _, start, end in tokens)


def test_highlight_marks_chinese_and_english_terms_and_escapes_html():
    text = "<script>x</script> " + WAFER_ZH + ", with low-noise SENSORS"
    marked = analysis.highlight(text, "传感器 sensor")
    assert "<mark" in marked and ">传感器</mark>" in marked and ">SENSORS</mark>" in marked
    assert "<script>" not in marked
    assert analysis.highlight(text, "graphene") == ""


def test_jieba_caches_inside_the_configured_folder_not_the_temp_folder():
    analysis.query_words("传感器")  # jieba is loaded by now
    # Other tests (in this process) may have configured and since removed their own folder,
    # so only the rule itself is checked: never the shared system temp folder.
    cache_dir = Path(analysis._jieba().tmp_dir)
    assert cache_dir != Path(tempfile.gettempdir())


# -- finding documents -------------------------------------------------------


def test_chinese_queries_find_chinese_documents(index):
    index.upsert([doc(1, zh=WAFER_ZH), doc(2, zh=SKIN_ZH), doc(3, en="A wafer defect detector")])
    assert ids(index, "传感器") == [1]
    assert ids(index, "晶圆缺陷") == [1]
    assert ids(index, "缺陷检测") == [1]
    assert ids(index, "低噪声 读出电路") == [1]
    assert sorted(ids(index, "传感")) == [1, 2]
    assert ids(index, "石墨烯") == []


def test_a_chinese_word_segmented_differently_in_the_document_is_still_found(index):
    # As a query 生物传感 is one word; in this sentence jieba cuts 研究/生物/传感器.
    index.upsert([doc(1, zh="研究生物传感器的信号放大方法"), doc(2, zh="生物医药"),
                  doc(3, zh="面向自动驾驶的激光雷达点云语义分割算法")])
    assert ids(index, "生物传感") == [1]
    assert ids(index, "研究生") == []  # "graduate student" is not in that sentence
    assert ids(index, "激光雷达") == [3]
    assert ids(index, "雷达") == [3]


def test_english_queries_are_stemmed(index):
    index.upsert([doc(1, en="A low-noise sensor for wafer inspection"), doc(2, en="Battery chemistry")])
    assert ids(index, "sensors") == [1]
    assert ids(index, "Wafers INSPECTION") == [1]
    assert ids(index, "batteries") == [2]


def test_mixed_language_documents_and_queries(index):
    index.upsert([
        doc(1, en="Thermal management for GaN power devices", zh="ＧａＮ功率器件的热管理"),
        doc(2, zh="碳化硅功率器件封装"),
    ])
    assert ids(index, "gan") == [1]
    assert ids(index, "GaN 热管理") == [1]
    assert ids(index, "thermal 热管理") == [1]
    assert sorted(ids(index, "功率器件")) == [1, 2]
    assert ids(index, "ＧＡＮ") == [1]  # full-width query


def test_every_word_must_match_and_otherwise_any_word_is_accepted(index):
    index.upsert([doc(1, en="sensor wafer"), doc(2, en="sensor battery"), doc(3, en="graphene")])
    strict = index.search("sensor wafer")
    assert (strict.ids, strict.relaxed) == ([1], False)
    relaxed = index.search("wafer graphene")
    assert sorted(relaxed.ids) == [1, 3] and relaxed.relaxed
    assert index.search("xyzzy plugh") == SearchPage([], 0)


def test_an_empty_query_lists_everything_and_a_query_without_words_nothing(index):
    index.upsert([doc(i, en=f"challenge {i}") for i in range(1, 4)])
    assert index.search("").total == 3
    assert index.search("   ").total == 3
    assert index.search("the of and").total == 0
    assert index.search("🚀🚀").total == 0


MALFORMED = [
    '"unbalanced', "title:sensor", "((sensor", "sensor)", "AND", "OR NOT", "sensor AND", "* ? ~2 ^3",
    "field:[a TO", "{}[]<>", "\\", "sensor\x00wafer", "🚀 sensor 🛰️", "a" * 5000, "x:y:z" * 100,
    "传感器\u200b", " \t\n", "-sensor +wafer", "'", "sensor~", "%s%n", "<script>alert(1)</script>",
    " ".join(["sensor"] * 300), "".join(chr(c) for c in range(0x2000, 0x2400)),
]


@pytest.mark.parametrize("query", MALFORMED)
def test_malformed_queries_never_raise(index, query):
    index.upsert([doc(1, en="A low-noise sensor for wafer inspection", zh=WAFER_ZH)])
    page = index.search(query, filters={"status": "open"}, sort="relevance")
    assert isinstance(page, SearchPage) and page.total in (0, 1)
    assert set(index.facets(query, field_names=["field"])) == {"field"}
    analysis.highlight(WAFER_ZH, query)


def test_operators_and_quotes_are_plain_words(index):
    index.upsert([doc(1, en="sensor wafer"), doc(2, en="sensor")])
    assert ids(index, '"sensor" AND (wafer') == [1]
    assert sorted(ids(index, "text:sensor")) == [1, 2]  # the colon does not pick a field


# -- filters, sorting, pages -------------------------------------------------


@pytest.fixture
def catalogue(index):
    index.upsert([
        doc(1, en="sensor alpha", field="semiconductors", challenge_type="rtp", status="open", currency="USD",
            organization=10, award=500_000, published=BASE, deadline=BASE + timedelta(days=30)),
        doc(2, en="sensor beta", field="materials", challenge_type="ideation", status="open", currency="EUR",
            organization=11, award=2_000_000, published=BASE + timedelta(days=1),
            deadline=BASE + timedelta(days=10)),
        doc(3, en="sensor gamma", field="semiconductors", challenge_type="erfp", status="closed", currency="USD",
            organization=10, award=1_000_000, published=BASE + timedelta(days=2)),
        doc(4, en="battery delta", field="ai", challenge_type="theoretical", status="open", currency="CNY",
            organization=12, award=50_000, published=BASE - timedelta(days=5),
            # 20:00 in Shanghai is 12:00 UTC: the earliest deadline of all.
            deadline=datetime(2027, 3, 5, 20, tzinfo=timezone(timedelta(hours=8)))),
    ])
    return index


def test_keyword_filters(catalogue):
    assert sorted(ids(catalogue, "sensor", filters={"field": "semiconductors"})) == [1, 3]
    assert sorted(ids(catalogue, filters={"status": "open", "organization": 10})) == [1]
    assert sorted(ids(catalogue, filters={"challenge_type": ["rtp", "erfp"]})) == [1, 3]
    assert sorted(ids(catalogue, filters={"currency": "USD", "field": None, "challenge_type": ""})) == [1, 3]
    assert catalogue.search("sensor", filters={"field": "quantum"}) == SearchPage([], 0)
    assert catalogue.search("", filters={"challenge_type": []}).total == 0


def test_award_and_date_filters(catalogue):
    assert sorted(ids(catalogue, filters={"min_award": 1_000_000})) == [2, 3]
    assert sorted(ids(catalogue, filters={"min_award": 100_000, "max_award": 1_000_000})) == [1, 3]
    assert ids(catalogue, "sensor", filters={"min_award": 1_000_001}) == [2]
    assert sorted(ids(catalogue, filters={"deadline_before": BASE + timedelta(days=15)})) == [2, 4]
    assert sorted(ids(catalogue, filters={"published_after": BASE + timedelta(days=1)})) == [2, 3]


def test_bad_filters_and_arguments_are_programming_errors(catalogue):
    with pytest.raises(ValueError, match="unknown search filter"):
        catalogue.search("", filters={"colour": "red"})
    with pytest.raises(ValueError, match="minor units"):
        catalogue.search("", filters={"min_award": 10.5})
    with pytest.raises(ValueError, match="sort"):
        catalogue.search("", sort="popularity")
    with pytest.raises(ValueError, match="per_page"):
        catalogue.search("", per_page=1000)
    with pytest.raises(ValueError, match="not declared"):
        catalogue.upsert([doc(9, en="x", colour="red")])
    with pytest.raises(ValueError, match="unknown search kind"):
        SearchIndex(Path(tempfile.gettempdir()), "spaceships")


def test_sorting(catalogue):
    assert ids(catalogue) == [3, 2, 1, 4]  # newest first without a query
    assert ids(catalogue, sort="newest") == [3, 2, 1, 4]
    assert ids(catalogue, sort="award") == [2, 3, 1, 4]
    assert ids(catalogue, sort="deadline") == [4, 2, 1, 3]  # no deadline last
    assert ids(catalogue, "sensor", sort="award") == [2, 3, 1]


def test_documents_without_award_or_dates(index):
    index.upsert([doc(1, en="sensor", award=100, deadline=BASE, published=BASE), doc(2, en="sensor")])
    assert ids(index, sort="deadline") == [1, 2]
    assert ids(index, sort="newest") == [1, 2]
    assert ids(index, sort="award") == [1, 2]
    assert ids(index, filters={"max_award": 0}) == [2]
    assert ids(index, filters={"deadline_before": BASE + timedelta(days=1)}) == [1]


def test_relevance_prefers_title_matches(index):
    index.upsert([
        doc(1, en="A long description that mentions graphene once among many other words about materials"),
        doc(2, en="Graphene membranes for water filtration", title="Graphene membranes"),
    ])
    assert ids(index, "graphene") == [2, 1]


def test_pagination_totals(index):
    index.upsert([doc(i, en=f"sensor number {i}", published=BASE + timedelta(hours=i)) for i in range(1, 46)])
    pages = [index.search("sensor", page=n, per_page=20) for n in (1, 2, 3, 4)]
    assert [len(p.ids) for p in pages] == [20, 20, 5, 0]
    assert {p.total for p in pages} == {45}
    seen = [doc_id for p in pages for doc_id in p.ids]
    assert sorted(seen) == list(range(1, 46))
    assert index.search("", page=2, per_page=20).ids == list(range(25, 5, -1))


# -- facet counts ------------------------------------------------------------


def test_facet_counts(catalogue):
    counts = catalogue.facets("sensor", field_names=["field", "status"])
    assert counts == {"field": {"semiconductors": 2, "materials": 1}, "status": {"open": 2, "closed": 1}}


def test_a_facet_is_counted_without_its_own_filter(catalogue):
    counts = catalogue.facets("", filters={"field": "semiconductors", "status": "open"},
                              field_names=["field", "challenge_type"])
    # field: every field among open challenges; type: only within semiconductors + open.
    assert counts["field"] == {"semiconductors": 1, "materials": 1, "ai": 1}
    assert counts["challenge_type"] == {"rtp": 1}


def test_range_facets(catalogue):
    ranges = {
        "award": {"< 10k": (None, 999_999), "10k+": (1_000_000, None)},
        "deadline": {"within 7 days": (BASE, BASE + timedelta(days=7)), "later": (BASE + timedelta(days=7), None)},
    }
    counts = catalogue.facets("", filters={"status": "open", "min_award": 1_000_000}, ranges=ranges)
    assert counts["award"] == {"< 10k": 2, "10k+": 1}  # its own min_award filter left out
    assert counts["deadline"] == {"within 7 days": 0, "later": 1}
    assert catalogue.facets("xyzzy", field_names=["field"], ranges=ranges)["award"] == {"< 10k": 0, "10k+": 0}


# -- writing -----------------------------------------------------------------


def test_search_before_any_index_exists_is_empty_and_creates_nothing(whoosh_index):
    assert whoosh_index.search("sensor") == SearchPage([], 0)
    assert not (whoosh_index.folder / "challenges").exists()
    whoosh_index.ensure()
    assert whoosh_index.doc_count() == 0 and (whoosh_index.folder / "challenges" / "CURRENT").is_file()


def test_an_index_built_by_another_version_is_set_aside(whoosh_index, caplog):
    whoosh_index.upsert([doc(1, en="sensor")])
    root = whoosh_index.folder / "challenges"
    (root / "v0-0.1.abc").mkdir()
    (root / "CURRENT").write_text("v0-0.1.abc")
    assert whoosh_index.search("sensor").total == 0
    whoosh_index.ensure()
    assert "run `flask search reindex`" in caplog.text
    whoosh_index.upsert([doc(2, en="sensor")])
    assert ids(whoosh_index, "sensor") == [2]


def test_upsert_replaces_and_delete_removes(index):
    index.upsert([doc(1, en="sensor"), doc(2, en="sensor")])
    index.upsert([doc(1, en="battery")])
    assert ids(index, "sensor") == [2]
    assert ids(index, "battery") == [1]
    index.delete([2, 999])
    assert index.doc_count() == 1 and ids(index, "sensor") == []
    index.clear()
    assert index.doc_count() == 0


def test_an_id_given_twice_is_indexed_once(index):
    index.upsert([doc(1, en="sensor"), doc(1, en="battery")])
    assert index.doc_count() == 1 and ids(index, "battery") == [1] and ids(index, "sensor") == []
    with pytest.raises(ValueError, match="twice"):
        index.rebuild([[doc(2, en="x")], [doc(2, en="y")]])
    assert ids(index, "battery") == [1]


def test_another_handle_sees_writes_immediately(index):
    other = reopen(index)
    assert other.search("sensor").total == 0
    index.upsert([doc(1, en="sensor")])
    assert ids(other, "sensor") == [1]


def test_concurrent_writers_in_threads_queue_instead_of_failing(index):
    index.ensure()
    errors = []

    def write(offset):
        try:
            handle = reopen(index)
            for n in range(15):
                handle.upsert([doc(offset + n * 2 + k, en=f"sensor {offset}") for k in range(2)])
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(offset,)) for offset in (0, 1000, 2000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert index.doc_count() == 90


def test_concurrent_writers_in_processes_queue_instead_of_failing(whoosh_index):
    whoosh_index.ensure()
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(ROOT)!r})
        from marketplace.search.engine import SearchDoc, SearchIndex
        whoosh_index = SearchIndex(Path({str(whoosh_index.folder)!r}), "challenges")
        whoosh_index.upsert([SearchDoc(id=9_999, texts={{"zh_Hans": "预热"}})])  # jieba loaded: now race
        print("ready", flush=True)
        for n in range(30):
            whoosh_index.upsert([SearchDoc(id=10_000 + n, texts={{"en": "battery from another process"}})])
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    assert child.stdout.readline().strip() == "ready", child.communicate(timeout=60)[1]
    for n in range(30):
        whoosh_index.upsert([doc(n, en="sensor from this process")])
    _, stderr = child.communicate(timeout=120)
    assert child.returncode == 0, stderr
    assert whoosh_index.doc_count() == 61


def test_rebuild_swaps_in_a_fresh_index_while_searches_and_writes_continue(whoosh_index):
    whoosh_index.upsert([doc(1, en="old sensor"), doc(2, en="old sensor"), doc(3, en="stale")])
    seen_during_rebuild = []

    def batches():
        yield [doc(1, en="new sensor"), doc(2, en="new sensor")]
        # Mid-rebuild: the live index still answers, and writes still land.
        seen_during_rebuild.append(sorted(ids(whoosh_index, "old")))
        writer = SearchIndex(whoosh_index.folder, "challenges")
        writer.upsert([doc(50, en="published during the rebuild")])
        writer.delete([2])
        yield [doc(4, en="new battery")]

    progress = []
    assert whoosh_index.rebuild(batches(), progress=progress.append) == 3
    assert progress == [2, 1]
    assert seen_during_rebuild == [[1, 2]]
    assert ids(whoosh_index, "old") == [] and ids(whoosh_index, "stale") == []
    assert ids(whoosh_index, "new sensor") == [1]  # 2 was deleted during the rebuild
    assert ids(whoosh_index, "published rebuild") == [50]
    assert whoosh_index.doc_count() == 3
    root = whoosh_index.folder / "challenges"
    assert not (root / "REBUILDING").exists() and not (root / "journal.jsonl").exists()
    whoosh_index.rebuild([[doc(7, en="third")]])
    generations = [p for p in root.iterdir() if p.is_dir()]
    assert len(generations) == 2  # the live one and the one before


def test_a_failed_rebuild_leaves_the_live_index_untouched(whoosh_index):
    whoosh_index.upsert([doc(1, en="sensor")])

    def batches():
        yield [doc(2, en="battery")]
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        whoosh_index.rebuild(batches())
    assert ids(whoosh_index, "sensor") == [1] and ids(whoosh_index, "battery") == []
    root = whoosh_index.folder / "challenges"
    assert not (root / "REBUILDING").exists()
    assert len([p for p in root.iterdir() if p.is_dir()]) == 1


def test_reindex_command_shows_progress_and_rebuilds(tmp_path):
    app = Flask("reindex-test", instance_path=str(tmp_path / "instance"))
    documents = [doc(i, en=f"sensor {i}", zh=WAFER_ZH) for i in range(1, 6)]

    def source():
        return len(documents), (documents[i:i + 2] for i in range(0, len(documents), 2))

    app.cli.add_command(make_search_cli({"challenges": source}))
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexing challenges" in result.output and "Indexed 5 challenges" in result.output
    index = SearchIndex(tmp_path / "instance" / "search", "challenges")
    assert index.search("传感器").total == 5
    bad = app.test_cli_runner().invoke(args=["search", "reindex", "--kind", "spaceships"])
    assert bad.exit_code != 0
