"""A re-ingest patches a copy of the previous build's vector store and carries over its vectors
and BM25 term counts; what it writes equals a full ingest of the same corpus (same points and
payloads in both collections, same vector table, equal BM25 files), and the previous build,
which a running server reads, is left byte for byte as it was."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path, PurePath
from typing import Any

import numpy as np
import pytest

from bench.scale import SyntheticEncoder, generate
from ingest import bm25_build
from ingest.pipeline import IngestResult, ingest
from ingest.tree_copy import copy_tree
from ingest.vector_table import VectorTable, embed_table
from principles.contract import BM25_TF_FILE
from principles.passages import Passage, chunk
from principles.settings import Settings
from principles.sparse import PAGES_DIR, SPARSE_DIR, SparseIndex, tokenize
from principles.stores import open_store
from principles.vectors import point_id
from principles.vectors_edge import open_edge, written_once

Points = dict[str, tuple[dict[str, Any], list[float]]]


def _edge_points(shard_folder: Path) -> Points:
    from qdrant_edge import EdgeShard, ScrollRequest

    shard = EdgeShard.load(str(shard_folder))
    try:
        records, _ = shard.scroll(ScrollRequest(limit=1_000_000, with_payload=True,
                                                with_vector=True))
    finally:
        shard.close()
    return {str(r.id): (dict(r.payload or {}), list(r.vector)) for r in records}  # type: ignore[arg-type]


def _points(build: Path, engine: str, collection: str) -> Points:
    """Every point of a collection: id -> (payload, vector)."""
    if engine == "edge":
        return _edge_points(build / "edge" / collection)
    from qdrant_client import QdrantClient

    client = QdrantClient(path=str(build / "qdrant"))
    try:
        records, _ = client.scroll(collection, limit=1_000_000, with_payload=True,
                                   with_vectors=True)
    finally:
        client.close()
    return {str(r.id): (dict(r.payload or {}), list(r.vector)) for r in records}  # type: ignore[arg-type]


def _snapshot(build: Path) -> dict[str, tuple[int, int, str]]:
    """Size, mtime and content hash of every file of a build."""
    return {str(p.relative_to(build)): (p.stat().st_size, p.stat().st_mtime_ns,
                                        hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(build.rglob("*")) if p.is_file()}


def _page(corpus: Path, number: int) -> Path:
    return corpus / "resources" / "articles" / f"{number // 1000:03d}" / f"page-{number}" / "index.md"


def _assert_same_builds(ours: Path, full: Path, engine: str) -> None:
    for collection in ("pages", "passages"):
        assert _points(ours, engine, collection) == _points(full, engine, collection), collection
    mine, theirs = VectorTable.load(ours), VectorTable.load(full)
    assert mine is not None and theirs is not None
    assert mine.page_ids == theirs.page_ids
    assert np.array_equal(mine.passage_counts, theirs.passage_counts)
    assert np.array_equal(mine.keys, theirs.keys) and np.array_equal(mine.vectors, theirs.vectors)
    for name in (SPARSE_DIR, PAGES_DIR):
        files = sorted(p.name for p in (full / name).iterdir())
        assert sorted(p.name for p in (ours / name).iterdir()) == files
        assert BM25_TF_FILE in files
        for file in files:
            assert (ours / name / file).read_bytes() == (full / name / file).read_bytes(), file
        assert json.loads((ours / name / "payloads.json").read_text("utf-8"))  # still one list


def _assert_same_answers(ours: Path, full: Path, engine: str) -> None:
    queries = SyntheticEncoder().encode(["topic3 word7", "topic11 topic40", "word1 word2"])
    stores = [open_store(engine, build, None, None) for build in (ours, full)]
    try:
        for collection in ("pages", "passages"):
            for query in queries:
                hits = [[(h.key, round(h.score, 5), h.payload) for h in s.search(collection, query, 10)]
                        for s in stores]
                assert hits[0] == hits[1]
    finally:
        for store in stores:
            store.close()
    for name in (SPARSE_DIR, PAGES_DIR):
        a, b = SparseIndex.load(ours, name, mmap=True), SparseIndex.load(full, name)
        for query in ("topic3 word7", "page topic11", "sentence edit"):
            assert a.search(query, 10) == b.search(query, 10)


def _settings(corpus: Path, index: Path, engine: str) -> Settings:
    return Settings(corpus_dir=corpus, index_dir=index, model="synthetic", query_encoder="torch",
                    embedded_engine=engine)


def _ingest(settings: Settings) -> IngestResult:
    result = ingest(settings, encoder=SyntheticEncoder())  # type: ignore[arg-type]
    assert result.build is not None and result.manifest is not None
    return result


@pytest.mark.parametrize("engine", ["edge", "local"])
def test_reingest_equals_a_full_ingest_and_leaves_the_previous_build(tmp_path: Path,
                                                                      engine: str) -> None:
    corpus = tmp_path / "corpus"
    generate(corpus, 40)
    settings = _settings(corpus, tmp_path / "index", engine)
    first = _ingest(settings)
    assert first.build is not None
    before = _snapshot(first.build)

    with _page(corpus, 7).open("a", encoding="utf-8") as handle:  # a body edited
        handle.write("One more sentence about topic7 and word5, added by an edit.\n")
    tagged = _page(corpus, 9)  # only the tags change: payloads do, texts do not
    tagged.write_text(tagged.read_text("utf-8").replace('"tags": [', '"tags": ["topic2", ', 1))
    shutil.rmtree(_page(corpus, 12).parent)  # a page deleted
    added = _page(corpus, 900)  # a page added (sorted among the others)
    added.parent.mkdir(parents=True)
    added.write_text(_page(corpus, 3).read_text("utf-8").replace("R0000000003", "R0000000900")
                     + "A new page about topic9.\n", "utf-8")

    second = _ingest(settings)
    assert second.build is not None and second.manifest is not None
    assert _snapshot(first.build) == before  # a server reading it sees no change
    counts = second.manifest.counts
    assert counts["changed_pages"] == 3 and counts["removed_pages"] == 1
    assert counts["stored_pages"] == 3  # the store was patched, not rewritten
    assert counts["encoded"] == 4  # page and passage texts of the edited and the new page
    assert counts["bm25_documents_tokenized"] == 6  # 3 pages x (1 passage + the whole page)

    full = _ingest(_settings(corpus, tmp_path / "full", engine))
    assert full.build is not None and full.manifest is not None
    assert full.manifest.counts["stored_pages"] == full.manifest.counts["page_vectors"]
    _assert_same_builds(second.build, full.build, engine)
    _assert_same_answers(second.build, full.build, engine)

    # a re-ingest on top of a patched build: still equal to a full one
    before = _snapshot(second.build)
    shutil.rmtree(_page(corpus, 20).parent)
    with _page(corpus, 30).open("a", encoding="utf-8") as handle:
        handle.write("topic1 " * 200 + "\n")  # now two passages
    third = _ingest(settings)
    assert third.build is not None and _snapshot(second.build) == before
    again = _ingest(_settings(corpus, tmp_path / "full-again", engine))
    assert again.build is not None
    _assert_same_builds(third.build, again.build, engine)
    _assert_same_answers(third.build, again.build, engine)


def test_other_passages_or_index_settings_rebuild_the_store(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    generate(corpus, 10)
    settings = _settings(corpus, tmp_path / "index", "edge")
    first = _ingest(settings)
    with _page(corpus, 2).open("a", encoding="utf-8") as handle:
        handle.write("An edit.\n")
    tuned = _ingest(settings.model_copy(update={"hnsw_m": 12}))
    assert tuned.manifest is not None and first.manifest is not None
    assert tuned.manifest.counts["stored_pages"] == first.manifest.counts["page_vectors"]
    with _page(corpus, 3).open("a", encoding="utf-8") as handle:
        handle.write("Another edit.\n")
    cut = _ingest(settings.model_copy(update={"hnsw_m": 12, "passage_words": 60,
                                              "passage_overlap": 10}))
    assert cut.manifest is not None
    assert cut.manifest.counts["stored_pages"] == cut.manifest.counts["page_vectors"]
    assert cut.manifest.counts["encoded"] > 0  # other passages: other texts
    assert cut.manifest.counts["bm25_documents_tokenized"] > cut.manifest.counts["page_vectors"]


def _docs(rng: np.random.Generator, words: list[str], page: int) -> list[bm25_build.Doc]:
    return [({"page_id": f"p{page}", "passage": k},
             " ".join(rng.choice(words, int(rng.integers(0, 30))).tolist()))
            for k in range(int(rng.integers(1, 4)))]


def test_bm25_from_counts_matches_bm25s_and_a_full_build(tmp_path: Path) -> None:
    import bm25s

    rng = np.random.default_rng(5)
    words = ["batch", "batches", "flow", "team", "teams", "work", "progress", "limit", "the",
             "and", "customer", "value", "feedback", "Ünïcode", "x1", "42"]
    pages = {f"p{n:03d}": _docs(rng, words, n) for n in range(50)}
    ids = sorted(pages)
    bm25_build.build(ids, pages, None).save(tmp_path / "first")
    ours = SparseIndex.load(tmp_path, "first")
    reference = bm25s.BM25()
    reference.index(tokenize([text for p in ids for _, text in pages[p]]), show_progress=False)
    for query in ("batch flow", "customer value team", "limit", "42 x1 ünïcode"):
        tokens = [t for t in tokenize([query])[0] if t in reference.vocab_dict]
        assert np.allclose(ours.retriever.get_scores(tokens), reference.get_scores(tokens),
                           rtol=1e-6, atol=1e-7)

    previous = bm25_build.Previous.load(tmp_path / "first")
    assert previous is not None
    fresh = {p: _docs(rng, words, int(p[1:4])) for p in ("p010", "p049", "p100", "p020x")}
    kept = [p for p in ids if p not in ("p005", "p040")]
    for order in (sorted(kept + ["p100", "p020x"]), list(reversed(kept)) + ["p100", "p020x"]):
        every = {p: fresh.get(p) or pages[p] for p in order}
        patched = bm25_build.build(order, fresh, previous)
        assert patched.tokenized_docs == sum(len(d) for d in fresh.values())
        patched.save(tmp_path / "patched")
        bm25_build.build(order, every, None).save(tmp_path / "full")
        for file in sorted(p.name for p in (tmp_path / "full").iterdir()):
            assert (tmp_path / "patched" / file).read_bytes() == (tmp_path / "full" / file).read_bytes()
        shutil.rmtree(tmp_path / "patched")
        shutil.rmtree(tmp_path / "full")


def test_tree_copy_keeps_holes_and_leaves_the_source(tmp_path: Path) -> None:
    source = tmp_path / "a"
    (source / "sub").mkdir(parents=True)
    sparse = source / "sub" / "chunk.mmap"
    with sparse.open("wb") as handle:
        handle.truncate(32 << 20)
        handle.seek(1 << 20)
        handle.write(b"data" * 1000)
        handle.seek((8 << 20) + 5)
        handle.write(b"more")
    (source / "small.json").write_text("{}")
    (source / "sub" / "frozen.dat").write_bytes(b"x" * 5000)
    before = _snapshot(source)
    copy_tree(source, tmp_path / "b", lambda p: p == PurePath("sub", "frozen.dat"))
    copied = tmp_path / "b" / "sub" / "chunk.mmap"
    assert copied.read_bytes() == sparse.read_bytes()
    assert copied.stat().st_blocks <= sparse.stat().st_blocks + 64  # holes stayed holes
    assert (tmp_path / "b" / "small.json").read_text() == "{}"
    frozen = [root / "sub" / "frozen.dat" for root in (source, tmp_path / "b")]
    assert frozen[0].stat().st_ino == frozen[1].stat().st_ino  # linked, not copied
    assert copied.stat().st_nlink == 1
    assert _snapshot(source) == before


@pytest.mark.slow
def test_patching_a_copy_of_an_indexed_store_leaves_the_original(tmp_path: Path) -> None:
    """Above the indexing threshold a collection is an HNSW segment, which a patch marks points
    deleted in: the patched copy holds the expected points, the original's files do not change."""
    n = 7000
    vectors = np.random.default_rng(1).standard_normal((n + 1, 384)).astype(np.float32)
    keys = [f"p{i}" for i in range(n + 1)]
    payloads = [{"page_id": k, "type": "article", "draft": False, "terms": []} for k in keys]

    store = open_edge(tmp_path / "a")
    store.create("pages", 384)
    store.upsert("pages", keys[:n], vectors[:n], payloads[:n])
    store.finish("pages")
    store.close()
    store = open_edge(tmp_path / "a")
    assert store._shard("pages").info().indexed_vectors_count == n
    store.close()
    before = _snapshot(tmp_path / "a")
    copy_tree(tmp_path / "a", tmp_path / "b", written_once)
    linked = {p.name for p in (tmp_path / "b").rglob("*") if p.is_file() and p.stat().st_nlink > 1}
    assert linked == {"graph.bin", "links_compressed.bin", "matrix.dat", "point_to_values.bin",
                      "values_to_points.bin"}
    store = open_edge(tmp_path / "b")
    store.delete_pages("pages", ["p3", "p5"])
    vectors[5] = -vectors[5]
    store.upsert("pages", ["p5", f"p{n}"], vectors[[5, n]], [payloads[5], payloads[n]])
    store.finish("pages")
    store.close()
    assert _snapshot(tmp_path / "a") == before
    ours = _edge_points(tmp_path / "b" / "pages")
    expected = [i for i in range(n + 1) if i != 3]
    assert sorted(ours) == sorted(point_id(keys[i]) for i in expected)
    assert all(ours[point_id(keys[i])][0] == {**payloads[i], "draft": "false"}  # as stored
               for i in expected)
    found = np.array([ours[point_id(keys[i])][1] for i in expected])
    units = vectors[expected] / np.linalg.norm(vectors[expected], axis=1, keepdims=True)
    assert np.allclose(found, units, atol=1e-6)  # cosine collections store unit vectors


class _CountingEncoder(SyntheticEncoder):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def encode(self, texts: list[str], **_: Any) -> np.ndarray:
        self.seen += texts
        return super().encode(texts)


def _table_texts(version: dict[str, list[str]]) -> dict[str, list[str]]:
    return {p: [f"page {p} {body}", *(f"passage {k} of {p}: {body}" for k in range(n))]
            for p, (body, n) in ((p, (v[0], int(v[1]))) for p, v in version.items())}


@pytest.mark.parametrize("change", ["in place", "rows move"])
def test_vector_table_carries_rows_by_position(tmp_path: Path, change: str) -> None:
    """Carried rows, texts looked up by key and texts encoded give the table a full embed
    gives, whether rows stay where they were (overwritten in place) or move."""
    before = {"a": ["one", "1"], "b": ["two", "2"], "c": ["three", "1"], "d": ["four", "3"]}
    after = ({**before, "b": ["two, edited", "2"]} if change == "in place" else
             {"a": before["a"], "b": ["two", "3"], "bb": ["new", "1"], "d": before["d"]})
    first = embed_table("m", list(before), {}, _table_texts(before), None,
                        SyntheticEncoder())  # type: ignore[arg-type]
    first.table.save(tmp_path)
    previous = VectorTable.load(tmp_path)
    assert previous is not None and previous.page_ids == list(before)
    carried = {p: list(before).index(p) for p in after if after[p] == before.get(p)}
    fresh = {p: t for p, t in _table_texts(after).items() if p not in carried}
    encoder = _CountingEncoder()
    patched = embed_table("m", list(after), carried, fresh, previous, encoder)  # type: ignore[arg-type]
    full = embed_table("m", list(after), {}, _table_texts(after), None,
                       SyntheticEncoder())  # type: ignore[arg-type]
    assert patched.table.page_ids == full.table.page_ids
    assert np.array_equal(patched.table.passage_counts, full.table.passage_counts)
    assert np.array_equal(patched.table.keys, full.table.keys)
    assert np.array_equal(patched.table.vectors, full.table.vectors)
    known = {t for texts in _table_texts(before).values() for t in texts}
    assert encoder.seen and not set(encoder.seen) & known  # only texts never seen are encoded


def test_a_one_window_body_is_cut_as_the_word_offsets_cut_it() -> None:
    """`chunk`'s shortcut for bodies of one window (str.split/strip instead of a regex match per
    word) gives the passages the word offsets give, with every kind of Unicode space."""
    import random
    import re

    assert all(c.isspace() == bool(re.fullmatch(r"\s", c)) for c in map(chr, range(0x110000)))
    spaces = [" ", "\t", "\n", "\x0b", "\x1c", "\x85", "\xa0", "\u2028", "\u3000", "\u200b", "\ufeff"]
    rng = random.Random(1)
    for _ in range(3000):
        body = "".join(rng.choice(["a", "bb", "ç", "x.y", "—", ""]) + rng.choice(spaces) * rng.randint(0, 2)
                       for _ in range(rng.randint(0, 12)))
        words = rng.randint(1, 8)
        spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", body)]
        cut = chunk(body, words, min(words - 1, 2))
        if 0 < len(spans) <= words:
            assert cut == [Passage(0, spans[0][0], spans[-1][1], body[spans[0][0]:spans[-1][1]])]
        elif not spans:
            assert cut == []


def test_a_damaged_previous_store_is_rebuilt_not_fatal(tmp_path: Path) -> None:
    """The previous store is only a head start: when its copy cannot be patched, every page is
    written afresh, the report says so, and the answers equal a full ingest's."""
    corpus = tmp_path / "corpus"
    generate(corpus, 20)
    settings = _settings(corpus, tmp_path / "index", "edge")
    first = _ingest(settings)
    assert first.build is not None
    damaged = list((first.build / "edge").glob("*/segments/*/segment.json"))
    assert damaged  # the shards' settings stay readable: a patch is tried, and fails
    for segment in damaged:
        segment.unlink()  # a new file, not a write through a link another build shares
        segment.write_text("{not json", "utf-8")
    with _page(corpus, 7).open("a", encoding="utf-8") as handle:
        handle.write("One more sentence about topic7 and word5, added by an edit.\n")

    second = _ingest(settings)
    assert second.build is not None and second.manifest is not None
    counts = second.manifest.counts
    assert counts["stored_pages"] == counts["page_vectors"]  # written afresh
    assert [f.kind for f in second.report.findings].count("previous-store-unusable") == 1
    full = _ingest(_settings(corpus, tmp_path / "full", "edge"))
    assert full.build is not None
    _assert_same_answers(second.build, full.build, "edge")
