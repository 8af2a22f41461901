"""A re-ingest computes only the related rows and overlap pairs a change touches, and what it
stores equals a full recompute over the same build: real model on corpus/ (one page's body
edited, then one page's tags), and synthetic vectors (bench/scale.py's encoder) under random
edits, tag changes, pages added and removed."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from bench.related_cv import load_build
from bench.scale import SyntheticEncoder, generate
from ingest import steps
from ingest.overlap_build import corpus_vectors
from ingest.pipeline import IngestResult, ingest
from ingest.related import Params, VectorIndex, compute_related
from ingest.related_state import STATE_FILE, RelatedState, StoredState
from principles.embedder import Encoder
from principles.index import Manifest
from principles.overlap import artefacts
from principles.overlap.pairs import corpus_pairs
from principles.related_store import FILE, RelatedColumns
from principles.settings import Settings
from principles.stores import open_store
from tests.conftest import CORPUS

# lists shorter than the corpora here, so a change touches some pages and not others (with
# ingest's k of 80, every page of a 75-page corpus is in every list)
SMALL = Params(page_neighbours=6, passage_neighbours=4, rare_term_pages=3)


@pytest.fixture(autouse=True)
def small_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(steps, "RELATED_PARAMS", SMALL)


def _full(settings: Settings, build: Path) -> tuple[RelatedColumns, RelatedState, dict[str, Any]]:
    """What a full ingest of the same corpus would store: every row and pair computed afresh."""
    pages, vectors = load_build(settings, build)
    manifest = Manifest.load(build)
    store = open_store(manifest.engine, build, None, None)
    try:
        index = VectorIndex(store, manifest.collections, [p.id for p in pages], vectors)
        result = compute_related(pages, vectors, index, {p.id: p.content_hash() for p in pages},
                                 params=SMALL)
        found, _ = corpus_pairs(corpus_vectors(settings, pages, vectors), store,
                                manifest.collections["pages"], artefacts.load_signatures(build),
                                settings.overlap_candidates)
        overlap = found.as_dict()
    finally:
        store.close()
    return result.columns, result.state, overlap


def _assert_equal_to_full(settings: Settings, result: IngestResult) -> dict[str, Any]:
    assert result.build is not None and result.manifest is not None
    stored = RelatedColumns.load(result.build / FILE)
    state = StoredState.load(result.build)
    assert state is not None
    full, full_state, overlap = _full(settings, result.build)
    assert stored.page_ids == full.page_ids
    for i, page_id in enumerate(full.page_ids):
        assert stored.rows(i) == full.rows(i), page_id
        assert state.candidates[i].tolist() == full_state.candidates[i].tolist(), page_id
        assert state.lists.near[i].tolist() == full_state.lists.near[i].tolist(), page_id
    assert state.df == full_state.df
    stored_pairs = artefacts.load_pairs(result.build)
    assert stored_pairs is not None
    pairs = stored_pairs.as_dict()
    assert pairs["pairs"] == json.loads(json.dumps(overlap["pairs"]))
    assert pairs["clusters"] == json.loads(json.dumps(overlap["clusters"]))
    assert pairs["counts"]["candidate_pairs"] == overlap["counts"]["candidate_pairs"]
    return result.manifest.counts


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), "utf-8")


def test_one_changed_page_recomputes_what_it_touches(tmp_path: Path, encoder: Encoder) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", overlap_candidates=5)
    first = ingest(settings, encoder=encoder)
    assert first.build is not None and (first.build / STATE_FILE).is_file()
    pages = first.manifest.counts["pages"] if first.manifest else 0
    assert _assert_equal_to_full(settings, first)["related_pages_scored"] == pages

    page = corpus / "resources" / "articles" / "limit-work-in-progress" / "index.md"
    with page.open("a", encoding="utf-8") as handle:
        handle.write("\nA team that starts less finishes more, and sooner.\n")
    counts = _assert_equal_to_full(settings, ingest(settings, encoder=encoder))
    assert counts["changed_pages"] == 1
    assert 0 < counts["related_pages_scored"] < pages

    # a tag added: its weight (idf) moves, so every page with it is rescored
    _edit(page, "tags:\n", "tags:\n- Small Batches\n")
    counts = _assert_equal_to_full(settings, ingest(settings, encoder=encoder))
    assert counts["changed_pages"] == 1


def _synthetic_edit(rng: random.Random, corpus: Path, number: int, paired: set[str]) -> None:
    """One of: a body edit, a tag added or dropped, a page removed, a page added; edits and
    removals hit a page of a kept overlap pair (`paired`) when there is one."""
    files = sorted((corpus / "resources").rglob("index.md"))
    hot = [f for f in files if f.parent.relative_to(corpus).as_posix() in paired]
    target = rng.choice(hot or files)
    head, front, body = target.read_text("utf-8").split("\n", 2)
    meta = json.loads(front)
    kind = number % 4
    if kind == 0:
        body += f"topic{rng.randrange(40)} topic{rng.randrange(40)} word{rng.randrange(99)}\n"
    elif kind == 1:
        meta["tags"] = meta["tags"][1:] if len(meta["tags"]) > 1 else [*meta["tags"], "topic5"]
    elif kind == 2:
        shutil.rmtree(target.parent)
        return
    else:
        target = target.parent.with_name(f"new-{number}") / "index.md"
        target.parent.mkdir()
        meta["ResourceId"] = f"N{number:010d}"
    target.write_text("\n".join([head, json.dumps(meta), body]), "utf-8")


def test_random_changes_equal_a_full_recompute(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    generate(corpus, 150)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model="synthetic",
                        query_encoder="torch", overlap_candidates=5)
    synthetic: Any = SyntheticEncoder()
    result = ingest(settings, encoder=synthetic)
    _assert_equal_to_full(settings, result)
    rng = random.Random(5)
    searched, number = [], 0
    for round_no in range(8):
        assert result.build is not None
        stored = artefacts.load_pairs(result.build)
        kept = stored.as_dict()["pairs"] if stored else []
        paired = {p["a"] for p in kept} | {p["b"] for p in kept}
        for _ in range(1 + round_no % 2):  # one change, then two at once
            _synthetic_edit(rng, corpus, number, paired)
            number += 1
        result = ingest(settings, encoder=synthetic)
        counts = _assert_equal_to_full(settings, result)
        searched.append((counts["related_pages_searched"] / counts["pages"],
                         counts["overlap_pages_searched"] / counts["pages"]))
    # a change searches again only what it touches
    assert min(s[0] for s in searched) < 0.5 and min(s[1] for s in searched) < 0.5, searched


def test_other_candidate_settings_recompute_everything(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus"
    generate(corpus, 60)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model="synthetic",
                        query_encoder="torch")
    synthetic: Any = SyntheticEncoder()
    first = ingest(settings, encoder=synthetic)
    assert first.build is not None
    state = StoredState.load(first.build)
    assert state is not None and state.params == SMALL.record()
    monkeypatch.setattr(steps, "RELATED_PARAMS", Params(page_neighbours=5, passage_neighbours=4,
                                                        rare_term_pages=3))
    with (corpus / "resources" / "articles" / "000" / "page-3" / "index.md").open("a") as handle:
        handle.write("topic9 word9\n")
    counts = ingest(settings, encoder=synthetic).manifest.counts  # type: ignore[union-attr]
    assert counts["related_pages_searched"] == counts["pages"]
