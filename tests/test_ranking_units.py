"""Unit tests of the pure ranking pieces: snippet marking, rank fusion, related signals, bands."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.related import PageVectors, coverage, page_profiles
from principles.overlap import scoring
from principles.sparse import stems
from service.search import PageHit, roll_up, rrf
from service.snippets import mark


def test_snippets_mark_meaningful_words_only() -> None:
    query = "How do I stop my team starting too much work in progress?"
    assert stems(query) == {"stop", "team", "start", "work", "progress"}
    text = "How do teams stop starting work? My advice: limit work in progress."
    marked = mark(text, stems(query))
    assert "<mark>How</mark>" not in marked and "<mark>My</mark>" not in marked
    assert "<mark>do</mark>" not in marked and "<mark>in</mark>" not in marked
    for word in ("teams", "stop", "starting", "work", "progress"):
        assert f"<mark>{word}</mark>" in marked


def test_snippet_of_only_function_words_marks_nothing() -> None:
    assert stems("how do I do it, and why?") == set()
    assert "<mark>" not in mark("How do I do it?", stems("how do I do it"))


def test_rrf_sums_reciprocal_ranks_and_keeps_the_dense_passage() -> None:
    lists = {"sparse_passages": [PageHit("a", 9.0, 2), PageHit("b", 5.0, 0)],
             "dense_passages": [PageHit("b", 0.9, 3), PageHit("c", 0.8, 1)],
             "dense_pages": [PageHit("b", 0.7, -1), PageHit("a", 0.6, -1)]}
    fused = rrf(lists, k=10)
    assert [h.page_id for h in fused] == ["b", "a", "c"]
    assert fused[0].score == pytest.approx(1 / 12 + 1 / 11 + 1 / 11)
    assert fused[0].ranks == {"sparse_passages": 2, "dense_passages": 1, "dense_pages": 1}
    assert fused[0].passage == 3  # the dense passage makes the snippet
    assert fused[1].passage == 2  # no dense passage: the sparse one, never the page (-1)


def test_roll_up_keeps_each_pages_best_passage() -> None:
    hits = [(0.5, {"page_id": "a", "passage": 0}), (0.9, {"page_id": "a", "passage": 4}),
            (0.7, {"page_id": "b", "passage": 1})]
    assert [(h.page_id, h.passage) for h in roll_up(hits)] == [("a", 4), ("b", 1)]


def _unit(*rows: list[float]) -> np.ndarray:
    m = np.array(rows, dtype=np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_coverage_is_symmetric_mean_of_best_matches() -> None:
    a = _unit([1, 0, 0], [0, 1, 0])
    b = _unit([1, 0, 0], [0, 0, 1], [0, 0, 1])
    both, pair, best = coverage(a, b)
    # a's passages: best 1.0 and 0.0 -> 0.5; b's: 1.0, 0.0, 0.0 -> 1/3
    assert both == pytest.approx((0.5 + 1 / 3) / 2)
    assert pair == (0, 0) and best == pytest.approx(1.0)
    assert coverage(b, a)[0] == pytest.approx(both)


def test_page_profiles_are_unit_sums_of_page_and_mean_passage() -> None:
    vectors = PageVectors(page=_unit([1, 0, 0], [0, 1, 0]),
                          passages=[_unit([0, 1, 0], [0, 0, 1]), _unit([0, 1, 0])])
    profiles = page_profiles(vectors)
    assert np.allclose(np.linalg.norm(profiles, axis=1), 1.0)
    mean = np.array([0, 1, 1]) / np.sqrt(2)
    expected = np.array([1, 0, 0]) + mean
    assert np.allclose(profiles[0], expected / np.linalg.norm(expected), atol=1e-6)
    assert np.allclose(profiles[1], [0, 1, 0])


def test_bands_hubs_capped_copies_always_near_duplicate() -> None:
    assert scoring.band(scoring.STRONG) == "strong overlap"
    assert scoring.band(scoring.STRONG - 0.01) == "related"
    assert scoring.band(0.95, hub=True) == "related"
    assert scoring.band(0.2, jaccard=0.6, hub=True) == "near-duplicate"
    assert scoring.band(0.2, containment=0.9) == "near-duplicate"
    assert scoring.band(scoring.RELATED - 0.01) == "none"
