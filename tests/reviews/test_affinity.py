"""Affinity: text analysis (Latin and Chinese), TF-IDF with the max over a reviewer's documents, top-N candidates."""

from __future__ import annotations

import numpy as np
import pytest

from marketplace.reviews.assignment.affinity import (
    CandidateCollector,
    TextAnalyzer,
    search_index_terms,
    tfidf_affinity,
    tfidf_matrix,
)


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory):
    return TextAnalyzer(cache_dir=tmp_path_factory.mktemp("jieba"))


def test_latin_text_is_lowercased_stripped_of_punctuation_stopwords_and_plurals():
    tokens = TextAnalyzer().tokens("The Sensors, and the BATTERIES: low-power (5G) chips for 2027!")
    assert tokens == ["sensor", "battery", "low", "power", "5g", "chip"]


def test_full_width_characters_are_normalised():
    assert TextAnalyzer().tokens("ＬＩＤＡＲ　ｓｅｎｓｏｒ") == ["lidar", "sensor"]


def test_chinese_is_segmented_by_jieba_with_its_cache_in_the_given_folder(tmp_path):
    analyzer = TextAnalyzer(cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()  # nothing loaded until Chinese text arrives
    tokens = analyzer.tokens("基于深度学习的半导体缺陷检测")
    assert {"深度", "学习", "半导体", "缺陷", "检测"} <= set(tokens)
    assert "的" not in tokens  # stopword
    assert (tmp_path / "cache" / "jieba.cache").is_file()


def test_mixed_chinese_and_latin_text_splits_at_the_script_boundary(analyzer):
    tokens = analyzer.tokens("5G基站的功耗optimisation")
    assert "5g" in tokens and "optimisation" in tokens
    assert "基站" in tokens and "功耗" in tokens


def test_tfidf_rows_are_unit_vectors_and_rare_terms_weigh_more():
    matrix = tfidf_matrix([["graphene", "battery"], ["battery", "cell"], ["battery"], []])
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    assert norms[:3] == pytest.approx([1, 1, 1])
    assert norms[3] == 0
    row = matrix[0].toarray().ravel()
    assert row.max() == row[0]  # "graphene" (1 document) outweighs "battery" (3 documents)


def test_affinity_takes_the_best_of_a_reviewer_documents(analyzer):
    proposals = ["Solid-state lithium battery electrolyte with ceramic separators",
                 "钙钛矿太阳能电池的稳定性研究"]
    reviewers = [
        ["Machine translation of legal documents", "Ceramic electrolytes for solid-state lithium batteries"],
        ["Ceramic electrolytes for solid-state lithium batteries"],
        ["Cloud databases and query optimisation"],
        ["钙钛矿太阳能电池的稳定性与寿命"],
        [],
    ]
    cand = tfidf_affinity(proposals, reviewers, analyzer=analyzer)
    aff = {(p, r): a for p, r, a in zip(cand.proposal_index, cand.reviewer_index, cand.affinity, strict=True)}
    # An unrelated second document does not dilute reviewer 0's match.
    assert aff[(0, 0)] == pytest.approx(aff[(0, 1)])
    assert aff[(0, 0)] > 0.5
    assert aff[(0, 2)] == 0 and aff[(0, 4)] == 0
    assert aff[(1, 3)] > 0.5 and aff[(1, 3)] > max(aff[(1, r)] for r in (0, 1, 2, 4))
    assert all(0 <= a <= 1 for a in aff.values())
    assert tfidf_affinity(["same words here"], [["same words here"]]).affinity[0] == pytest.approx(1.0)


def test_excluded_pairs_never_become_candidates(analyzer):
    proposals = ["quantum sensing magnetometer", "quantum computing qubits"]
    reviewers = [["quantum sensing"], ["quantum computing"], ["quantum"]]
    cand = tfidf_affinity(proposals, reviewers, analyzer=analyzer, exclude=[(0, 0), (1, 1)])
    pairs = set(zip(cand.proposal_index.tolist(), cand.reviewer_index.tolist(), strict=True))
    assert pairs == {(0, 1), (0, 2), (1, 0), (1, 2)}


def test_candidates_are_the_union_of_top_n_per_proposal_and_per_reviewer():
    rng = np.random.default_rng(5)
    n_p, n_r, top = 37, 23, 4
    scores = rng.integers(0, 6, (n_p, n_r)) / 5  # many ties
    scores[rng.random((n_p, n_r)) < 0.05] = -np.inf  # excluded
    collector = CandidateCollector(n_p, n_r, top)
    for first in range(0, n_p, 5):  # blocks smaller than top_n on the reviewer side, several merges
        collector.add_block(first, scores[first:first + 5])
    cand = collector.result()

    expected = set()
    for p in range(n_p):
        best = np.argsort(-scores[p], kind="stable")[:top]  # stable: ties to the lower index
        expected |= {(p, r) for r in best if np.isfinite(scores[p, r])}
    for r in range(n_r):
        best = np.argsort(-scores[:, r], kind="stable")[:top]
        expected |= {(p, r) for p in best if np.isfinite(scores[p, r])}
    got = set(zip(cand.proposal_index.tolist(), cand.reviewer_index.tolist(), strict=True))
    assert got == expected
    assert np.array_equal(cand.affinity, scores[cand.proposal_index, cand.reviewer_index])
    keys = cand.proposal_index * n_r + cand.reviewer_index
    assert (np.diff(keys) > 0).all()  # sorted by (proposal, reviewer), no duplicates


def test_small_challenges_keep_every_reviewer_as_a_candidate(analyzer):
    cand = tfidf_affinity(["microfluidic chip"], [["microfluidics"], ["history of art"], ["chip design"]],
                          analyzer=analyzer)
    assert cand.reviewer_index.tolist() == [0, 1, 2]  # zero-affinity reviewers remain as fallback candidates


def test_block_size_does_not_change_the_result(analyzer):
    rng = np.random.default_rng(0)
    words = "sensor battery laser polymer catalyst enzyme graphene robot antenna membrane".split()
    proposals = [" ".join(rng.choice(words, 5)) for _ in range(40)]
    reviewers = [[" ".join(rng.choice(words, 3)) for _ in range(rng.integers(0, 3))] for _ in range(15)]
    a = tfidf_affinity(proposals, reviewers, top_n=5, analyzer=analyzer)
    b = tfidf_affinity(proposals, reviewers, top_n=5, analyzer=analyzer, block_cells=30)
    assert np.array_equal(a.proposal_index, b.proposal_index)
    assert np.array_equal(a.reviewer_index, b.reviewer_index)  # ties (many zeros here) go to the lower index
    assert np.allclose(a.affinity, b.affinity)


def test_the_search_index_analysis_can_score_affinity_too(tmp_path_factory):
    from marketplace.search import analysis

    analysis.configure(tmp_path_factory.mktemp("search"))  # as the app does; never jieba's system temp folder
    proposals = ["基于深度学习的晶圆缺陷检测", "Porous graphene membranes for desalination"]
    reviewers = [["晶圆缺陷的光学检测方法"], ["Graphene membrane desalination"], ["Medieval manuscripts"]]
    cand = tfidf_affinity(proposals, reviewers, analyzer=search_index_terms)
    aff = {(p, r): a for p, r, a in zip(cand.proposal_index, cand.reviewer_index, cand.affinity, strict=True)}
    assert aff[(0, 0)] > 0.2 and aff[(1, 1)] > 0.5
    assert aff[(0, 2)] == 0 and aff[(1, 2)] == 0
