"""graph.json written from pieces, some kept as ranges of the previous file
(ingest/network_spans.py), is the text of all pieces encoded; its spans say where each page's
node and edges are."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from ingest.network_json import Pieces
from ingest.network_spans import SPANS_FILE, Kept, PreviousGraph, write_pieces


def _pieces(rng: random.Random, ids: list[str], terms: int) -> Pieces:
    edges = [",".join(f'{{"e":"{i}-{k}"}}' for k in range(rng.choice([0, 0, 1, 3])))
             for i in ids]
    return Pieces([f'{{"t":{k}}}' for k in range(terms)], [f'{{"b":{k}}}' for k in range(terms // 2)],
                  [f'{{"n":"{i}","id":"page:{i}"}}' for i in ids], list(edges))


def test_kept_pieces_are_copied_as_the_full_text_has_them(tmp_path: Path) -> None:
    rng = random.Random(6)
    for trial in range(30):
        ids = [f"p{k}" for k in range(rng.randint(1, 12))]
        first = _pieces(rng, ids, rng.choice([0, 1, 3]))
        folder = tmp_path / f"first{trial}"
        folder.mkdir()
        write_pieces(folder / "graph.json", first, ["a"], None, None)
        assert (folder / "graph.json").read_text() == first.text()
        previous = PreviousGraph.load(folder, ids)
        assert previous is not None
        now = [i for i in ids if rng.random() < 0.8] + [f"new{trial}"]
        if rng.random() < 0.3:
            rng.shuffle(now)
        full = _pieces(rng, now, rng.choice([0, 2]))
        row = np.array([ids.index(i) if i in ids else -1 for i in now], dtype=np.int64)
        nodes = np.array([r >= 0 and rng.random() < 0.7 for r in row.tolist()], dtype=bool)
        edges = nodes & (np.array([rng.random() for _ in now]) < 0.7)
        for i, r in enumerate(row.tolist()):  # a kept piece is the previous build's
            if nodes[i]:
                full.nodes[i] = first.nodes[r]
            if edges[i]:
                full.edges[i] = first.edges[r]
        patched = Pieces(full.term_nodes, full.term_edges,
                         [None if nodes[i] else p for i, p in enumerate(full.nodes)],
                         [None if edges[i] else p for i, p in enumerate(full.edges)])
        target = tmp_path / f"again{trial}"
        target.mkdir()
        write_pieces(target / "graph.json", patched, ["a"], previous, Kept(nodes, edges, row))
        text = (target / "graph.json").read_text()
        assert text == full.text()
        spans = np.load(target / SPANS_FILE)["spans"].tolist()
        for (a, b, c, d), node, edge in zip(spans, full.nodes, full.edges, strict=True):
            assert text[a:b] == node and text[c:d] == edge
