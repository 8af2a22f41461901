"""Overlap finder on corpus/: planted pairs found, look-alikes not flagged, evidence real.

Real model, real vector store, real app (the session `api` over the corpus/ index)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from ingest.pipeline import IngestResult
from principles.embedder import Encoder
from principles.overlap import artefacts
from principles.overlap.pairs import find_clusters
from tests.conftest import CORPUS

Client = TestClient[Litestar]
RESULT_FIELDS = {"id", "title", "url", "type", "score", "band"}
STRONG_BANDS = {"near-duplicate", "strong overlap"}


def _pages(result: IngestResult) -> dict[str, dict[str, Any]]:
    assert result.build is not None
    return {p["id"]: p for p in json.loads((result.build / "pages.json").read_text("utf-8"))}


def _source(pages: dict[str, dict[str, Any]], page_id: str) -> str:
    return (CORPUS / str(pages[page_id]["rel_path"])).read_text("utf-8")


def _pairs(api: Client, min_score: float) -> dict[str, Any]:
    response = api.get("/v1/overlap/pairs", params={"min_score": min_score, "limit": 500})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _key(result: dict[str, Any]) -> frozenset[str]:
    return frozenset((result["id"], result["other"]["id"]))


def test_planted_pairs_rank_first_near_duplicate_flagged(api: Client, planted: dict[str, Any]) -> None:
    """STRONG is calibrated for precision on the site corpus's labelled pairs (0.75): on corpus/
    the planted pairs are the seven best-scoring pairs, those at 0.75 or more are "strong
    overlap", the rest "related", and nothing unplanted is flagged."""
    body = _pairs(api, 0.0)
    bands = {_key(r): r["band"] for r in body["results"]}
    ranked = [_key(r) for r in sorted(body["results"], key=lambda r: -r["score"])]
    pairs = {frozenset(p) for p in planted["overlap_pairs"]}
    assert set(ranked[:len(pairs)]) == pairs
    for r in body["results"]:
        key = _key(r)
        if key not in pairs:
            assert r["band"] == "related", r
        else:
            assert r["band"] == ("related" if r["score"] < 0.75 else bands[key]), r
    assert sum(band in STRONG_BANDS for key, band in bands.items() if key in pairs) >= 4
    for a, b in planted["near_duplicate_pairs"]:
        assert bands[frozenset((a, b))] == "near-duplicate"
    assert sum(band == "near-duplicate" for band in bands.values()) == len(planted["near_duplicate_pairs"])
    scores = [r["score"] for r in body["results"] if r["band"] != "near-duplicate"]
    assert scores == sorted(scores, reverse=True)


def test_clusters_are_cliques_of_flagged_pairs() -> None:
    def pair(a: str, b: str, band: str, score: float) -> dict[str, Any]:
        return {"a": a, "b": b, "band": band, "score": score}

    pairs = [pair("x", "y", "strong overlap", 0.8), pair("y", "z", "near-duplicate", 0.9),
             pair("x", "z", "strong overlap", 0.77), pair("z", "w", "strong overlap", 0.76),
             pair("w", "x", "related", 0.7)]
    clusters = find_clusters(pairs)
    assert [c["pages"] for c in clusters] == [["x", "y", "z"]]
    assert clusters[0]["score"] == pytest.approx((0.8 + 0.9 + 0.77) / 3, abs=1e-4)
    assert find_clusters(pairs[:2] + pairs[3:]) == []  # x-z missing: no clique


def test_lookalikes_never_listed_even_as_related(api: Client, planted: dict[str, Any]) -> None:
    listed = {_key(r) for r in _pairs(api, 0.0)["results"]}
    for a, b in planted["lookalike_pairs"]:
        assert frozenset((a, b)) not in listed, (a, b)


def test_pair_evidence_comes_from_the_named_pages(api: Client, corpus_ingest: IngestResult,
                                                  encoder: Encoder) -> None:
    pages = _pages(corpus_ingest)
    body = _pairs(api, 0.66)
    assert body["results"]
    for result in body["results"]:
        assert set(result) >= RESULT_FIELDS and result["evidence"]
        source, other = pages[result["id"]], pages[result["other"]["id"]]
        for match in result["evidence"]:
            for side, page in (("source", source), ("target", other)):
                ref = match[side]
                assert [ref["start"], ref["end"]] == page["passages"][ref["index"]]
                assert ref["text"] == page["body"][ref["start"]:ref["end"]]
    top = body["results"][1]  # the similarity is the cosine of exactly these two passages
    match = top["evidence"][0]
    vectors = encoder.encode([f"{top['title']}. {match['source']['text']}",
                              f"{top['other']['title']}. {match['target']['text']}"])
    assert float(np.dot(vectors[0], vectors[1])) == pytest.approx(match["similarity"], abs=2e-3)


def test_pairs_compare_far_fewer_than_all_pairs(corpus_ingest: IngestResult) -> None:
    assert corpus_ingest.build is not None and corpus_ingest.manifest is not None
    found = artefacts.load_pairs(corpus_ingest.build)
    assert found is not None
    artefact = found.as_dict()
    counts = artefact["counts"]
    assert counts["candidate_pairs"] < counts["all_pairs"]
    assert corpus_ingest.manifest.counts["overlap_pairs"] == counts["pairs"] > 0
    assert (corpus_ingest.build / "overlap" / "minhash.npz").is_file()
    compared = {p["a"] for p in artefact["pairs"]} | {p["b"] for p in artefact["pairs"]}
    pages = _pages(corpus_ingest)
    assert not any(pages[p]["type"] in {"tag", "category", "concept", "section"} for p in compared)


def test_draft_of_a_planted_page_finds_its_partner(api: Client, corpus_ingest: IngestResult,
                                                   planted: dict[str, Any]) -> None:
    pages = _pages(corpus_ingest)
    a, b = planted["overlap_pairs"][3]  # small batches: article vs blog post, different words
    response = api.post("/v1/overlap", json={"text": _source(pages, a)})
    assert response.status_code == 200
    body = response.json()
    results = body["results"]
    assert results[0]["id"] == a and results[0]["band"] == "near-duplicate"  # itself
    partner = next(r for r in results if r["id"] == b)
    assert partner["band"] in {"related", *STRONG_BANDS} and partner in results[:3]
    assert body["draft"]["title"] == pages[a]["title"] and body["draft"]["passages"] > 1
    for result in results:
        assert set(result) >= RESULT_FIELDS | {"evidence", "shared_terms", "covered"}
        page = pages[result["id"]]
        for match in result["evidence"]:
            target = match["target"]
            assert target["text"] == page["body"][target["start"]:target["end"]]
            assert match["source"]["text"] and match["source"]["text"] in pages[a]["body"]
    assert {t["id"] for t in partner["shared_terms"]} >= {"tags/small-batches"}


def test_draft_of_a_lookalike_does_not_flag_its_twin(api: Client, corpus_ingest: IngestResult,
                                                     planted: dict[str, Any]) -> None:
    pages = _pages(corpus_ingest)
    for a, b in planted["lookalike_pairs"][:2]:
        results = api.post("/v1/overlap", json={"text": _source(pages, a)}).json()["results"]
        assert b not in [r["id"] for r in results], (a, b)


def test_plain_text_draft_with_title_and_tags(api: Client) -> None:
    text = ("Teams that cap how many items they have in progress finish each item sooner. When "
            "everything is started at once, every item waits for attention and nothing ships. "
            "Agree a limit per column, stop starting new work when the limit is reached and "
            "help finish what is already in progress instead. ") * 3
    body = api.post("/v1/overlap", params={"limit": 5},
                    json={"text": text, "title": "Fewer items in progress", "tags": ["Flow"]}).json()
    assert body["draft"]["title"] == "Fewer items in progress" and "tags/flow" in body["draft"]["terms"]
    ids = [r["id"] for r in body["results"]]
    assert len(ids) <= 5 and "resources/articles/limit-work-in-progress" in ids[:3]


@pytest.mark.parametrize(("payload", "detail"), [
    ({"text": "   "}, "no text"),
    ({"text": "---\ntitle: x\nno closing line"}, "never closed"),
    ({"text": "---\ntitle: [\n---\nbody"}, "invalid YAML"),
    ({"text": "word " * 10001}, "the limit is"),
])
def test_bad_drafts_are_422_problems(api: Client, payload: dict[str, Any], detail: str) -> None:
    response = api.post("/v1/overlap", json=payload)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert detail in response.json()["detail"]


def test_missing_text_and_bad_parameters_are_422(api: Client) -> None:
    assert api.post("/v1/overlap", json={"title": "t"}).status_code == 422
    assert api.get("/v1/overlap/pairs", params={"min_score": 2}).status_code == 422
    assert api.post("/v1/overlap", params={"limit": 0}, json={"text": "x"}).status_code == 422


def test_bucket_pairs_are_the_lsh_candidates() -> None:
    """Ingest finds LSH candidate pairs from the signatures' bands; serve queries the index:
    both must name the same pairs (empty texts have none)."""
    import random

    from principles.overlap.shingles import Signatures

    rng = random.Random(1)
    words = [f"w{i}" for i in range(300)]
    bases = [[rng.choice(words) for _ in range(80)] for _ in range(60)]
    texts = []
    for i in range(400):
        text = list(bases[i % 60])
        for _ in range(rng.randrange(25)):
            text[rng.randrange(len(text))] = rng.choice(words)
        texts.append(" ".join(text))
    signatures = Signatures.compute((str(i), str(i), t) for i, t in enumerate([*texts, ""]))
    expected = {(min(i, signatures.row[o]), max(i, signatures.row[o]))
                for i in range(len(texts)) for o in signatures.similar(signatures.matrix[i])
                if signatures.row[o] != i}
    assert len(expected) > 100 and signatures.bucket_pairs() == expected
