"""qdrant-edge store: HNSW only above the indexing threshold, recall against exact search,
payload-free hits that still name their point, and write failures surfacing as OSError."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from principles.vectors import Tuning, point_id
from principles.vectors_edge import open_edge

DIM = 384


def _clustered(n: int, seed: int) -> np.ndarray:
    """Unit vectors with a low intrinsic dimension (16 latent factors spread over 384), as
    sentence embeddings have; a fixed projection so queries live in the same space."""
    latent = np.random.default_rng(seed).standard_normal((n, 16)).astype(np.float32)
    projection = np.random.default_rng(0).standard_normal((16, DIM)).astype(np.float32)
    vectors = latent @ projection
    normalised: np.ndarray = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return normalised


def _fill(root: Path, n: int, tuning: Tuning) -> tuple[np.ndarray, list[str]]:
    store = open_edge(root, tuning)
    vectors, keys = _clustered(n, 1), [f"p/{i}" for i in range(n)]
    store.create("pages", DIM)
    store.upsert("pages", keys, vectors, [{"page_id": k, "type": "article", "terms": [],
                                            "draft": i % 10 == 0} for i, k in enumerate(keys)])
    store.finish("pages")
    store.close()
    return vectors, keys


@pytest.mark.slow
def test_large_collection_gets_hnsw_with_exact_search_recall(tmp_path: Path) -> None:
    vectors, keys = _fill(tmp_path, 9000, Tuning())
    store = open_edge(tmp_path)
    assert store._shard("pages").info().indexed_vectors_count == 9000  # a graph was built
    index_of = {point_id(k): i for i, k in enumerate(keys)}
    queries, found = _clustered(100, 2), 0
    for query in queries:
        exact = set(np.argsort(-(vectors @ query))[:10].tolist())
        hits = store.search("pages", query, 10, fields=())
        assert len(hits) == 10 and all(h.payload == {} for h in hits)
        found += len(exact & {index_of[h.key] for h in hits})
    assert found / (10 * len(queries)) >= 0.98
    drafts_out = store.search("pages", queries[0], 10, [("draft", False)], fields=("draft",))
    assert len(drafts_out) == 10 and not any(h.payload["draft"] for h in drafts_out)
    store.close()


def test_small_collection_stays_exact(tmp_path: Path) -> None:
    _fill(tmp_path, 500, Tuning())
    store = open_edge(tmp_path)
    assert store._shard("pages").info().indexed_vectors_count == 0
    store.close()


def test_a_failed_write_is_an_oserror(tmp_path: Path) -> None:
    """qdrant-edge reports a full disk as a bare Exception; the store raises OSError (EFBIG
    here, under a 256 KB file-size limit in a child process)."""
    code = (f"import resource, sys, numpy as np\n"
            f"resource.setrlimit(resource.RLIMIT_FSIZE, (262144, 262144))\n"
            f"sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})\n"
            f"from pathlib import Path\nfrom principles.vectors_edge import open_edge\n"
            f"store = open_edge(Path({str(tmp_path)!r}))\n"
            f"try:\n    store.create('pages', 384)\n"
            f"    store.upsert('pages', [str(i) for i in range(3000)], "
            f"np.ones((3000, 384), np.float32), [{{'page_id': str(i)}} for i in range(3000)])\n"
            f"    store.close()\nexcept OSError as exc:\n    print('OSError', exc.errno)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         check=False)
    assert out.stdout.strip() == "OSError 27", out.stdout + out.stderr


@pytest.mark.parametrize("engine", ["edge", "local"])
def test_nearest_answers_as_one_search_per_vector(tmp_path: Path, engine: str) -> None:
    """Ingest's neighbour lists search many vectors at once (600: more than one request)."""
    from principles.stores import open_store
    from principles.vectors import point_number

    vectors, keys = _clustered(300, 3), [f"p/{i}" for i in range(300)]
    store = open_store(engine, tmp_path, None, None)
    store.create("pages", DIM)
    store.upsert("pages", keys, vectors, [{"page_id": k, "type": "article"} for k in keys])
    store.finish("pages")
    queries = _clustered(600, 4)
    batch = store.nearest("pages", queries, 7)
    assert len(batch) == 600
    number = {point_number(k): point_id(k) for k in keys}
    for query, hits in zip(queries[::50], batch[::50], strict=True):
        one = store.search("pages", query, 7, fields=())
        assert [number[key] for _, key in hits] == [h.key for h in one]
        assert [round(score, 5) for score, _ in hits] == [round(h.score, 5) for h in one]
    filtered = store.nearest("pages", queries[:3], 5, [("type", "none")])
    assert filtered == [[], [], []]
    store.close()


def test_small_collection_searched_from_memory_answers_as_the_shard(tmp_path: Path) -> None:
    """Below EXACT_MAX the store answers from a matrix in memory (no UUID built per hit):
    the same points, order and scores as the shard's own exact scan, filters included."""
    store = open_edge(tmp_path)
    vectors, keys = _clustered(800, 3), [f"p/{i}" for i in range(800)]
    store.create("passages", DIM)
    payloads = [{"page_id": f"page/{i // 4}", "type": ["article", "tag", "video"][i % 3],
                 "terms": [f"tags/t{i % 5}", f"categories/c{i % 7}"] if i % 11 else [],
                 "draft": i % 10 == 0, "passage": i % 4} for i in range(800)]
    store.upsert("passages", keys, vectors, payloads)
    store.finish("passages")
    wheres: list[list[tuple[str, object]]] = [
        [], [("draft", False)], [("draft", False), ("type", "tag")],
        [("terms", "tags/t2"), ("terms", "categories/c3")], [("type", ["video", "tag"])],
        [("type", "nothing")]]
    for query in _clustered(20, 4):
        for where in wheres:
            for fields in [(), None, ("page_id", "draft")]:
                fast = store.search("passages", query, 25, where, fields=fields)
                store._exact["passages"] = None  # the shard's own query, for comparison
                slow = store.search("passages", query, 25, where, fields=fields)
                del store._exact["passages"]
                assert [h.key for h in fast] == [h.key for h in slow]
                assert np.allclose([h.score for h in fast], [h.score for h in slow], atol=1e-5)
                assert [h.payload for h in fast] == [h.payload for h in slow]
    store.search("passages", _clustered(1, 5)[0], 5, fields=())
    assert store._exact["passages"] is not None  # the matrix answers
    store.upsert("passages", ["p/new"], _clustered(1, 9), [payloads[0]])  # a write drops it
    assert "passages" not in store._exact
    assert store.search("passages", _clustered(1, 9)[0], 1, fields=())[0].key == point_id("p/new")
    store.close()
