"""HNSW on real embeddings: recall@10 against exact search, latency and build time.

Vectors are REAL: every sentence, every run of two and of three sentences, and every
120-word passage of the site corpus (../shared/corpora/nkdagility) and of corpus/, encoded
with the project's model (cached in .bench-cache/ after the first run, so reruns take
seconds). Overlapping windows make tight clusters of near neighbours, as overlapping passages
do in the real index: the hard case for HNSW. 300 held-out sentences and the
56 judged queries are the queries; neither is in the collection. The reference is exact
search (numpy dot products on the same normalised vectors). Each HNSW setting is built in
qdrant-edge exactly as ingest builds it, then searched with and without a payload filter
(a keyword field that keeps ~1/3 of the points), at several `hnsw_ef` values, once with
ACORN filtered search and once with int8 scalar quantisation (rescored). Recall is the mean
over all queries, latency the median; the exact-search latency of the same shard
(`SearchParams(exact=True)`) is the baseline the ratios are against.
Run: .venv/bin/python bench/hnsw.py [--limit N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import frontmatter
import numpy as np
from qdrant_edge import (
    AcornSearchParams,
    Distance,
    EdgeConfig,
    EdgeOptimizersConfig,
    EdgeShard,
    EdgeVectorParams,
    FieldCondition,
    Filter,
    HnswIndexConfig,
    MatchValue,
    PayloadSchemaType,
    Point,
    QuantizationSearchParams,
    Query,
    QueryRequest,
    ScalarQuantizationConfig,
    ScalarType,
    SearchParams,
    UpdateOperation,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
SITE = ROOT.parent / "shared" / "corpora" / "nkdagility"
CACHE = ROOT / ".bench-cache"
SENTENCE = re.compile(r"(?<=[.!?])\s+")
K = 10
GROUPS = ("a", "b", "c")


def texts_of(folders: list[Path]) -> list[str]:
    """Sentence windows (1-3 sentences, 4-120 words) and 120-word passages of every markdown
    page, deduplicated, in file order."""
    from principles.passages import chunk
    from principles.text import markdown_to_text

    seen: dict[str, None] = {}
    for folder in folders:
        for path in sorted(folder.rglob("*.md")):
            try:
                body = frontmatter.loads(path.read_text("utf-8", errors="replace")).content
            except Exception:  # noqa: BLE001 - messy site files: skip what does not parse
                continue
            text = markdown_to_text(body)
            sentences = [" ".join(s.split()) for s in SENTENCE.split(text) if s.strip()]
            for size in (1, 2, 3):
                for start in range(len(sentences) - size + 1):
                    window = " ".join(sentences[start:start + size])
                    if 4 <= len(window.split()) <= 120:
                        seen.setdefault(window, None)
            for passage in chunk(text, 120, 20):
                seen.setdefault(passage.text, None)
    return list(seen)


def embeddings(texts: list[str], model: str) -> np.ndarray:
    key = hashlib.sha1(("\n".join(texts) + model).encode()).hexdigest()[:16]
    path = CACHE / f"hnsw-{key}.npy"
    if path.exists():
        cached: np.ndarray = np.load(path)
        return cached
    from principles.embedder import Encoder

    begin = time.perf_counter()
    vectors = Encoder(model, batch_size=64).encode(texts).astype(np.float32)
    print(f"encoded {len(texts)} texts in {time.perf_counter() - begin:.0f} s (cached in {path})")
    CACHE.mkdir(exist_ok=True)
    np.save(path, vectors)
    return vectors


def build(root: Path, vectors: np.ndarray, hnsw: HnswIndexConfig | None,
          quantised: bool = False) -> tuple[EdgeShard, float]:
    config = EdgeConfig(
        vectors=EdgeVectorParams(size=vectors.shape[1], distance=Distance.Cosine,
                                 quantization_config=ScalarQuantizationConfig(
                                     type=ScalarType.Int8, quantile=0.99, always_ram=True)
                                 if quantised else None),
        hnsw_config=hnsw, wal_enabled=False,
        optimizers=EdgeOptimizersConfig(indexing_threshold=1 if hnsw else None))
    shard = EdgeShard.create(str(root), config)
    shard.update(UpdateOperation.create_field_index("group", PayloadSchemaType.Keyword))
    begin = time.perf_counter()
    for start in range(0, len(vectors), 512):
        shard.update(UpdateOperation.upsert_points([
            Point(id=i, vector=vectors[i].tolist(), payload={"group": GROUPS[i % 3]})
            for i in range(start, min(start + 512, len(vectors)))]))
    shard.optimize()
    shard.flush()
    return shard, time.perf_counter() - begin


def exact_top(vectors: np.ndarray, queries: np.ndarray, group: str | None) -> list[set[int]]:
    scores = queries @ vectors.T
    if group is not None:
        mask = np.array([GROUPS[i % 3] != group for i in range(len(vectors))])
        scores[:, mask] = -np.inf
    return [set(np.argsort(-row)[:K].tolist()) for row in scores]


def run(shard: EdgeShard, queries: np.ndarray, truth: list[set[int]], group: str | None,
        params: SearchParams | None) -> tuple[float, float]:
    flt = Filter(must=[FieldCondition(key="group", match=MatchValue(group))]) if group else None
    recalls, times = [], []
    for query, expected in zip(queries, truth, strict=True):
        begin = time.perf_counter()
        hits = shard.query(QueryRequest(limit=K, query=Query.Nearest(query.tolist()), filter=flt,
                                        params=params, with_payload=False))
        times.append((time.perf_counter() - begin) * 1000)
        recalls.append(len({int(h.id) for h in hits} & expected) / K)
    return statistics.mean(recalls), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=0, help="use only the first N texts")
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    args = parser.parse_args()
    folders = [f for f in (SITE, ROOT / "corpus") if f.is_dir()]
    texts = texts_of(folders)
    texts = texts[: args.limit] if args.limit else texts
    judged = [q["query"] for q in
              json.loads((ROOT / "tests/data/judged_queries.json").read_text())["queries"]]
    everything = embeddings(texts + judged, args.model)
    rng = np.random.default_rng(11)
    held = rng.choice(len(texts), size=300, replace=False)
    keep = np.setdiff1d(np.arange(len(texts)), held)
    vectors = everything[keep]
    queries = np.concatenate([everything[held], everything[len(texts):]])
    print(f"{len(vectors)} real vectors ({', '.join(f.name for f in folders)}), "
          f"{len(queries)} queries (300 held-out sentences + {len(judged)} judged queries)")
    truth = {g: exact_top(vectors, queries, g) for g in (None, "a")}
    with tempfile.TemporaryDirectory() as tmp:
        plain, _ = build(Path(tmp) / "plain", vectors, None)
        exact_ms = {g: run(plain, queries, truth[g], g, SearchParams(exact=True))[1] for g in truth}
        plain.close()
        print(f"exact search: {exact_ms[None]:.2f} ms, filtered {exact_ms['a']:.2f} ms (baseline)\n")
        print(f"{'m':>3}{'ef_c':>6}{'variant':>8}{'build s':>9}{'hnsw_ef':>9}{'recall@10':>11}"
              f"{'p50 ms':>8}{'vs exact':>9}{'filt recall':>13}{'filt p50':>10}")
        for m, ef_construct, variant in ((8, 100, "-"), (8, 200, "-"), (16, 100, "-"),
                                         (16, 100, "acorn"), (16, 200, "-"), (32, 200, "-"),
                                         (8, 100, "int8")):
            hnsw = HnswIndexConfig(m=m, ef_construct=ef_construct, full_scan_threshold=1)
            shard, seconds = build(Path(tmp) / f"m{m}-{ef_construct}-{variant}", vectors, hnsw,
                                   quantised=variant == "int8")
            for ef in (16, 32, 64, 128, 256):
                params = SearchParams(
                    hnsw_ef=ef, acorn=AcornSearchParams(enable=True) if variant == "acorn" else None,
                    quantization=QuantizationSearchParams(rescore=True) if variant == "int8" else None)
                recall, ms = run(shard, queries, truth[None], None, params)
                f_recall, f_ms = run(shard, queries, truth["a"], "a", params)
                print(f"{m:>3}{ef_construct:>6}{variant:>8}{seconds:>9.1f}"
                      f"{ef:>9}{recall:>11.4f}{ms:>8.2f}{exact_ms[None] / ms:>8.1f}x"
                      f"{f_recall:>13.4f}{f_ms:>10.2f}", flush=True)
            shard.close()


if __name__ == "__main__":
    main()
