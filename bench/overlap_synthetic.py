"""A synthetic 10k-page corpus for the overlap finder's scaling bench (bench/overlap.py).

The vectors are synthesised, not embedded (10k pages would take ~15 min to encode here):
pages belong to topics (same-topic pages have page cosine ~0.4, like pages on one subject),
passages scatter around their page, and planted rewrites sit close to their original (page
cosine ~0.9, passages ~0.85). Texts are random words from a topic vocabulary plus a common
one; planted copies change 5% of the words (near-duplicates). The real candidate generation
(qdrant-edge nearest neighbours + MinHash LSH) and scoring code runs on them.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from principles.overlap.pairs import CorpusVectors, corpus_pairs
from principles.overlap.shingles import Signatures
from principles.vectors_edge import open_edge

DIM = 384
Array = npt.NDArray[np.float32]


@dataclass
class Synthetic:
    vectors: CorpusVectors
    texts: list[str]
    rewrites: set[frozenset[str]]
    copies: set[frozenset[str]]


def _unit(x: npt.NDArray[np.floating[Any]]) -> Array:
    unit: Array = (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)
    return unit


def make(n: int = 10_000, topics: int = 2_000, rewrites: int = 200, copies: int = 50,
         seed: int = 7) -> Synthetic:
    rng = np.random.default_rng(seed)
    centroids = _unit(rng.standard_normal((topics, DIM)))
    common = [f"w{i}" for i in range(3_000)]
    vocab = [[f"t{t}x{i}" for i in range(150)] for t in range(topics)]
    topic = rng.integers(0, topics, n)
    noise = _unit(rng.standard_normal((n, DIM)))
    page = _unit(centroids[topic] + 1.2 * noise)
    passages: list[Array] = []
    texts: list[str] = []
    for i in range(n):
        m = int(rng.integers(2, 8))
        passages.append(_unit(page[i] + 0.8 * _unit(rng.standard_normal((m, DIM)))))
        words = np.where(rng.random(60 * m) < 0.3, rng.choice(vocab[topic[i]], 60 * m),
                         rng.choice(common, 60 * m))
        texts.append(" ".join(words))
    pairs = rng.choice(n, size=(rewrites + copies, 2), replace=False)
    planted_rewrites: set[frozenset[str]] = set()
    planted_copies: set[frozenset[str]] = set()
    for k, (a, b) in enumerate(pairs):
        page[b] = _unit(page[a] + 0.35 * _unit(rng.standard_normal(DIM)))
        passages[b] = _unit(passages[a] + 0.45 * _unit(rng.standard_normal(passages[a].shape)))
        if k < rewrites:
            planted_rewrites.add(frozenset((f"p{a}", f"p{b}")))
        else:
            words = texts[a].split()
            for j in rng.choice(len(words), len(words) // 20, replace=False):
                words[j] = str(rng.choice(common))
            texts[b] = " ".join(words)
            planted_copies.add(frozenset((f"p{a}", f"p{b}")))
    vectors = CorpusVectors(ids=[f"p{i}" for i in range(n)], types=["article"] * n, page=page,
                            passages=passages, lengths=[[60] * len(p) for p in passages],
                            terms=[set() for _ in range(n)])
    return Synthetic(vectors, texts, planted_rewrites, planted_copies)


def run(n: int = 10_000) -> dict[str, float]:
    """Time each step on a synthetic corpus of n pages; print and return the figures."""
    started = time.perf_counter()
    data = make(n)
    made = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        store = open_edge(Path(tmp))
        store.create("pages", DIM)
        mark = time.perf_counter()
        store.upsert("pages", data.vectors.ids, data.vectors.page,
                     [{"page_id": i, "type": "article", "draft": False, "terms": []}
                      for i in data.vectors.ids])
        loaded = time.perf_counter() - mark
        mark = time.perf_counter()
        signatures = Signatures.compute(
            (page_id, str(k), text) for k, (page_id, text) in enumerate(
                zip(data.vectors.ids, data.texts, strict=True)))
        hashed = time.perf_counter() - mark
        mark = time.perf_counter()
        artefact = corpus_pairs(data.vectors, store, "pages", signatures)[0].as_dict()
        paired = time.perf_counter() - mark
        store.close()
    found = {frozenset((p["a"], p["b"])): p["band"] for p in artefact["pairs"]}
    strong = {k for k, band in found.items() if band in ("strong overlap", "near-duplicate")}
    counts = artefact["counts"]
    figures = {"pages": n, "synthesise_s": made, "store_upsert_s": loaded, "minhash_s": hashed,
               "pairs_s": paired, "candidate_pairs": counts["candidate_pairs"],
               "all_pairs": counts["all_pairs"],
               "rewrite_recall": len(data.rewrites & strong) / len(data.rewrites),
               "copy_recall": sum(found.get(k) == "near-duplicate" for k in data.copies) / len(data.copies)}
    print(f"\nsynthetic corpus: {n} pages, {sum(len(p) for p in data.vectors.passages)} passages "
          "(vectors synthesised, not embedded; see bench/overlap_synthetic.py)")
    print(f"  MinHash signatures            {hashed:7.2f} s")
    print(f"  corpus-wide pairs (kNN+LSH+score+clusters) {paired:7.2f} s")
    print(f"  (vector store upsert, not part of the pairs step: {loaded:.2f} s)")
    print(f"  candidate pairs scored        {counts['candidate_pairs']:,} of {counts['all_pairs']:,} "
          f"possible ({counts['candidate_pairs'] / counts['all_pairs']:.3%})")
    print(f"  planted rewrites flagged      {figures['rewrite_recall']:.1%}; planted copies as "
          f"near-duplicate {figures['copy_recall']:.1%}; pairs kept {counts['pairs']:,}, "
          f"clusters {counts['clusters']}")
    return figures
