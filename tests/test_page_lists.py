"""The array ranking of a search (service/page_lists.py) gives what the former per-hit code
gave: the same pages, order, ranks, passages and fused scores, ties included; and the fast
query tokenizer and snippet marking agree with the ones they replace."""

from __future__ import annotations

import html
import random
import re

import numpy as np
import pytest

from principles.settings import Settings
from principles.sparse import query_tokens, stem_word, stems, tokenize
from service.engines import open_search, query_encoder
from service.index import open_index
from service.page_lists import PageHit, PageList, best_per_page, fuse
from service.snippets import mark
from tests.conftest import CORPUS


def _reference_best(hits: list[tuple[float, str, int]]) -> list[tuple[str, float, int]]:
    """The former roll-up: a dict of each page's best (first of equal best) hit."""
    best: dict[str, tuple[float, int]] = {}
    for score, page_id, passage in hits:
        seen = best.get(page_id)
        if seen is None or score > seen[0]:
            best[page_id] = (score, passage)
    ordered = sorted(best.items(), key=lambda item: (-item[1][0], item[0]))
    return [(page_id, score, passage) for page_id, (score, passage) in ordered]


def _reference_rrf(rankings: dict[str, list[PageHit]], k: int) -> list[PageHit]:
    """The former fusion: a PageHit per page, updated list by list."""
    fused: dict[str, PageHit] = {}
    for name, ranking in rankings.items():
        for rank, hit in enumerate(ranking, start=1):
            entry = fused.setdefault(hit.page_id, PageHit(hit.page_id, 0.0, hit.passage))
            entry.score += 1.0 / (k + rank)
            entry.ranks[name] = rank
            if name == "dense_passages" or (entry.passage < 0 <= hit.passage):
                entry.passage = hit.passage
    return sorted(fused.values(), key=lambda h: (-h.score, h.page_id))


def _ids(count: int) -> list[str]:
    return sorted(f"page-{i:03d}" for i in range(count))


@pytest.mark.parametrize("seed", range(40))
def test_best_per_page_matches_the_former_roll_up(seed: int) -> None:
    rng = random.Random(seed)
    ids = _ids(30)
    # coarse scores so that ties (within and across pages) are common
    hits = [(rng.choice([0.1, 0.2, 0.3, 0.5, 0.9]), rng.choice(ids), rng.randint(-1, 5))
            for _ in range(rng.randint(0, 80))]
    found = best_per_page(np.array([ids.index(p) for _, p, _ in hits], dtype=np.intp),
                          np.array([s for s, _, _ in hits], dtype=np.float32),
                          np.array([n for _, _, n in hits], dtype=np.intp))
    got = [(ids[p], s, n) for p, s, n in zip(found.pages.tolist(), found.scores.tolist(),
                                              found.passages.tolist(), strict=True)]
    expected = _reference_best([(float(np.float32(s)), p, n) for s, p, n in hits])
    assert got == expected


@pytest.mark.parametrize("seed", range(40))
def test_fuse_matches_the_former_rrf(seed: int) -> None:
    rng = random.Random(seed)
    ids = _ids(rng.randint(1, 40))
    names = ["sparse_passages", "sparse_pages", "dense_passages", "dense_pages"]
    rankings = {name: [PageHit(p, 0.0, rng.randint(-1, 3) if "passages" in name else -1)
                       for p in rng.sample(ids, rng.randint(0, len(ids)))]
                for name in rng.sample(names, rng.randint(1, 4))}
    lists = {name: PageList(np.array([ids.index(h.page_id) for h in ranking], dtype=np.intp),
                            np.zeros(len(ranking), dtype=np.float32),
                            np.array([h.passage for h in ranking], dtype=np.intp))
             for name, ranking in rankings.items()}
    limit = rng.randint(1, 50)
    got = fuse(lists, len(ids), limit, 10, ids)
    expected = _reference_rrf(rankings, 10)[:limit]
    assert [(h.page_id, h.score, h.passage, list(h.ranks.items())) for h in got] == \
        [(h.page_id, h.score, h.passage, list(h.ranks.items())) for h in expected]


def _texts() -> list[str]:
    texts = [p.read_text("utf-8") for p in sorted(CORPUS.rglob("*.md"))[:60]]
    return texts + ["Naïve CAFÉ teams_and_ü ü don't, won't; the THE The", "", "a b c 12 x1 ß straße"]


def test_query_tokens_are_bm25s_tokens() -> None:
    texts = _texts()
    pieces = [t[i:i + 80] for t in texts for i in range(0, min(len(t), 2000), 80)]
    for text in texts + pieces:
        assert query_tokens(text) == tokenize([text])[0]


def _reference_mark(text: str, query_stems: set[str]) -> str:
    """The former marking: every matching word found first, then the window cut."""
    matched = [(m.start(), m.end()) for m in re.finditer(r"(?u)\b\w\w+\b", text)
               if stem_word(m.group()) in query_stems] if query_stems else []
    start = 0
    if matched and matched[0][0] > 140:
        start = text.rfind(" ", 0, matched[0][0] - 60) + 1
    end = min(len(text), start + 280)
    if end < len(text):
        end = text.rfind(" ", start, end) if text.rfind(" ", start, end) > start else end
    out, cursor = [], start
    for s, e in matched:
        if s < start or e > end:
            continue
        out.append(html.escape(text[cursor:s]))
        out.append(f"<mark>{html.escape(text[s:e])}</mark>")
        cursor = e
    out.append(html.escape(text[cursor:end]))
    snippet = re.sub(r"\s+", " ", "".join(out)).strip()
    return ("… " if start > 0 else "") + snippet + (" …" if end < len(text) else "")


@pytest.mark.parametrize("query", ["how do we limit work in progress", "Flow", "customer feedback",
                                   "teams_and_ü naïve café", "batches batch batching", "x",
                                   "value delivery scrum"])
def test_marking_is_the_former_marking(query: str) -> None:
    query_stems = stems(query)
    for text in _texts():
        for at in range(0, min(len(text), 3000), 400):
            piece = text[at:at + 900]
            assert mark(piece, query_stems) == _reference_mark(piece, query_stems)


def test_dense_lists_from_matrix_rows_equal_lists_from_store_hits(corpus_settings: Settings) -> None:
    """The engine's row path (a small collection's matrix) and its hit path (any store) give
    the same ranked pages, scores and passages."""
    view = open_index(corpus_settings)
    engine = open_search(corpus_settings, view, query_encoder(corpus_settings, view))
    try:
        types = sorted(view.page_types)
        for query in ["limit work in progress", "why teams stop starting", "feedback", "zz"]:
            vector = engine.encoder.encode_query(query)
            for where in ([("draft", False)], [("draft", False), ("type", types[0])], []):
                engine._exact.clear()
                rows = engine.dense(vector, where, 10)
                assert all(engine._exact.values())  # the corpus/ collections are small
                engine._exact.update(dict.fromkeys(engine._exact))  # None: ask the store
                hits = engine.dense(vector, where, 10)
                for name, ranked in rows.items():
                    for part in ("pages", "scores", "passages"):
                        assert np.array_equal(getattr(ranked, part), getattr(hits[name], part))
    finally:
        engine.close()
