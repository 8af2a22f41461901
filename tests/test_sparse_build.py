"""The pieces of the incremental BM25 build (ingest/bm25_build.py): entries edited by term,
payload lines carried as byte runs, the bm25s files written as bm25s writes them and, when
equal to the previous build's, hard-linked to them."""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from pathlib import Path

import bm25s
import numpy as np

from ingest import bm25_build
from ingest.bm25_entries import Entries, counted, first_at_least, kept, merged
from ingest.payload_lines import PayloadLines, assemble, payloads_text


def test_first_at_least_is_searchsorted_within_each_range() -> None:
    rng = np.random.default_rng(1)
    for _ in range(50):
        sizes = rng.integers(0, 9, 30)
        ordered = np.concatenate([np.sort(rng.integers(0, 20, n)) for n in sizes]).astype(np.int32)
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        pick = rng.integers(0, 30, 40)
        lo, hi = bounds[pick], bounds[pick + 1]
        values = rng.integers(-1, 22, 40)
        expected = [a + int(np.searchsorted(ordered[a:b], v)) for a, b, v in zip(lo, hi, values, strict=True)]
        assert first_at_least(ordered, lo, hi, values).tolist() == expected


def _entries(docs: list[Counter[str]], n_docs: int) -> Entries:
    vocab = sorted({t for c in docs for t in c})
    return counted(vocab, list(range(len(docs))), docs, n_docs)


def test_kept_and_merged_equal_the_entries_counted_at_once() -> None:
    rng = random.Random(2)
    words = [f"w{i}" for i in range(12)]
    for _ in range(40):
        docs = [Counter(rng.choices(words, k=rng.randint(0, 6))) for _ in range(8)]
        old = _entries(docs, len(docs))
        gone = set(rng.sample(range(8), rng.randint(0, 3)))
        order = [d for d in range(8) if d not in gone]
        if rng.random() < 0.3:
            rng.shuffle(order)
        fresh = [Counter(rng.choices(words + ["new"], k=rng.randint(0, 6))) for _ in range(2)]
        new_docs = [docs[d] for d in order] + fresh
        renumbered = np.full(8, -1, dtype=np.int32)
        renumbered[order] = np.arange(len(order))
        carried = kept(old, renumbered, len(new_docs))
        vocab = sorted(set(carried.vocab) | {t for c in fresh for t in c})
        patched = merged(carried, counted(vocab, [len(order), len(order) + 1], fresh,
                                          len(new_docs)))
        full = _entries(new_docs, len(new_docs))
        assert patched.vocab == full.vocab
        for field in ("df", "docs", "tf"):
            assert getattr(patched, field).tolist() == getattr(full, field).tolist()


def test_payload_lines_assemble_what_payloads_text_writes() -> None:
    rng = random.Random(3)
    for n in (0, 1, 2, 7):
        lines = [json.dumps({"doc": i, "text": "a,\u2028b"}) for i in range(n)]
        old = PayloadLines.parse(payloads_text(lines))
        assert old is not None and old.lines() == lines
        for _ in range(20):
            source = [i for i in range(n) if rng.random() < 0.7]
            if rng.random() < 0.3:
                rng.shuffle(source)
            fresh_at = sorted(rng.sample(range(len(source) + 2), rng.randint(0, 2)))
            for at in fresh_at:
                source.insert(at, -1)
            fresh = {i: json.dumps({"fresh": i}) for i, s in enumerate(source) if s < 0}
            expected = [fresh[i] if s < 0 else lines[s] for i, s in enumerate(source)]
            assert assemble(old, np.array(source), fresh) == payloads_text(expected)
    assert PayloadLines.parse(b"[\n{}\n{}\n]\n") is None  # a comma missing
    assert PayloadLines.parse(b"{}\n") is None


def _pages(rng: random.Random, n: int) -> dict[str, list[bm25_build.Doc]]:
    words = ["batch", "flow", "team", "work", "limit", "value", "Ünïcode", "x1"]
    return {f"p{i:02d}": [({"page_id": f"p{i:02d}", "passage": k},
                           " ".join(rng.choices(words, k=rng.randint(1, 9))))
                          for k in range(rng.randint(1, 3))] for i in range(n)}


def test_the_files_are_those_bm25s_saves(tmp_path: Path) -> None:
    pages = _pages(random.Random(4), 20)
    built = bm25_build.build(sorted(pages), pages, None)
    built.save(tmp_path / "ours")
    retriever = bm25s.BM25(k1=bm25_build.K1, b=bm25_build.B)
    retriever.scores = {"data": bm25_build.scores(built.entries),
                        "indices": built.entries.docs.astype(np.int32),
                        "indptr": bm25_build.column_starts(built.entries.df),
                        "num_docs": built.entries.n_docs}
    retriever.vocab_dict = {t: i for i, t in enumerate([*built.entries.vocab, ""])}
    retriever.nonoccurrence_array = None
    retriever.save(str(tmp_path / "theirs"), show_progress=False)
    for file in sorted(p.name for p in (tmp_path / "theirs").iterdir()):
        assert (tmp_path / "ours" / file).read_bytes() == (tmp_path / "theirs" / file).read_bytes()


def test_files_equal_to_the_previous_builds_are_linked_to_them(tmp_path: Path) -> None:
    pages = _pages(random.Random(5), 20)
    ids = sorted(pages)
    bm25_build.build(ids, pages, None).save(tmp_path / "first")
    previous = bm25_build.Previous.load(tmp_path / "first")
    assert previous is not None
    bm25_build.build(ids, {"p03": pages["p03"]}, previous).save(tmp_path / "same")
    more = [({"page_id": "p03", "passage": k}, "flow flow limit") for k in range(4)]
    changed = dict(pages, p03=more)  # one document more than before, of known words
    bm25_build.build(ids, {"p03": changed["p03"]}, previous).save(tmp_path / "changed")
    bm25_build.build(ids, changed, None).save(tmp_path / "full")

    def linked(folder: str) -> set[str]:
        return {p.name for p in (tmp_path / folder).iterdir()
                if os.stat(p).st_ino == os.stat(tmp_path / "first" / p.name).st_ino}

    assert linked("same") == {p.name for p in (tmp_path / "first").iterdir()}
    assert linked("changed") == {"vocab.index.json"}
    for file in (tmp_path / "full").iterdir():
        assert (tmp_path / "changed" / file.name).read_bytes() == file.read_bytes()
