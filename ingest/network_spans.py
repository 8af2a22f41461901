"""graph.json of a re-ingest: the previous build's bytes of every page node and page's edges
that come out alike, copied by the kernel in runs; only the other pages are encoded (every
page's node and edges cost ~0.12 s of string work at 10k pages).

A page's node is alike when its pages.json record is (ingest/parse_cache.py `kept_records`:
title, type, url and draft come from the same bytes). Its edges are alike when, besides, the
related rows that make its `similar` edges (targets and scores of the first RELATED_EDGES) are
the previous build's and every term it names still exists (its term edges then name the same
nodes and pass the same checks). `SPANS_FILE` records where each page's node and edges lie,
for the next build; it is written only with graph.json's direct encoding (the general one
groups edges another way), so a build without it costs a full encode.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt

from ingest.network import RELATED_EDGES
from ingest.network_json import HEAD, MIDDLE, TAIL, Pieces, direct, general, quote
from ingest.pages import Page
from ingest.rdf_files import append_range, write_all
from ingest.terms import Term
from principles.arrays import places_in, ranges
from principles.contract import NETWORK_FILE, page_node, term_key
from principles.related_store import FILE as RELATED_FILE
from principles.related_store import RelatedColumns

SPANS_FILE = "graph_spans.npz"  # spans (pages, 4) int64, size, term_keys

Longs = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Kept:
    """Which pages' node and edges are the previous build's, and where that build had them."""

    nodes: Flags
    edges: Flags
    row: Longs  # each page's place in the previous build, -1 if it had none


@dataclass(frozen=True)
class PreviousGraph:
    path: Path  # its graph.json
    spans: Longs  # (pages, 4): node start, end; edges start, end (equal when it has none)
    page_ids: list[str]
    term_keys: frozenset[str]
    related: RelatedColumns | None

    @classmethod
    def load(cls, build: Path, page_ids: list[str]) -> PreviousGraph | None:
        """`page_ids`: that build's pages in order. None unless the spans fit its graph.json."""
        try:
            with np.load(build / SPANS_FILE) as data:
                spans, size, keys = data["spans"], int(data["size"]), data["term_keys"].tolist()
            actual = (build / NETWORK_FILE).stat().st_size
        except (OSError, ValueError, KeyError):
            return None
        if spans.dtype != np.int64 or spans.shape != (len(page_ids), 4) or size != actual:
            return None
        starts, ends = spans[:, 0], spans[:, 1]
        edges = spans[spans[:, 3] > spans[:, 2]][:, 2:]
        fits = (len(spans) > 0 and starts[0] >= len(HEAD) and bool(np.all(ends > starts))
                and bool(np.all(starts[1:] == ends[:-1] + 1))
                and bool(np.all(edges[1:, 0] > edges[:-1, 1]))
                and (not len(edges) or (edges[0, 0] > ends[-1] and edges[-1, 1] < size)))
        if not fits:
            return None
        try:
            related: RelatedColumns | None = RelatedColumns.load(build / RELATED_FILE)
        except (OSError, ValueError, KeyError):
            related = None
        return cls(build / NETWORK_FILE, spans, page_ids, frozenset(keys), related)

    def kept(self, pages: list[Page], alike: Collection[str], term_keys: Collection[str],
             related: RelatedColumns | None) -> Kept:
        ids = [page.id for page in pages]
        row = places_in(ids, self.page_ids)
        nodes = (row >= 0) & np.fromiter((page_id in alike for page_id in ids), bool, len(ids))
        if not self._runs_fit(ids, row, nodes):
            nodes = np.zeros(len(ids), dtype=bool)
        edges = np.zeros(len(ids), dtype=bool)
        if (related is not None and self.related is not None and related.page_ids == ids
                and self.related.page_ids == self.page_ids):
            edges = nodes & same_rows(related, self.related, row)
            gone = {key for key in self.term_keys if key not in term_keys}
            if gone:  # a page naming a term that is gone fails `direct`'s checks now
                edges &= np.fromiter((not _names_any(page, gone) for page in pages), bool,
                                     len(pages))
        return Kept(nodes, edges, row)

    def _runs_fit(self, ids: list[str], row: Longs, nodes: Flags) -> bool:
        """Each run of kept nodes ends with its last page's id, in the previous graph.json."""
        kept = np.flatnonzero(nodes)
        if not len(kept):
            return True
        old = row[kept]
        lasts = kept[np.append(np.flatnonzero(np.diff(old) != 1), len(kept) - 1)]
        fd = os.open(self.path, os.O_RDONLY)
        try:
            for i in lasts.tolist():
                tail = f'"id":{quote(page_node(ids[i]))}}}'.encode()
                if os.pread(fd, len(tail), int(self.spans[row[i], 1]) - len(tail)) != tail:
                    return False
        finally:
            os.close(fd)
        return True


def _names_any(page: Page, keys: set[str]) -> bool:
    return (any(term_key(kind, slug) in keys for kind, slugs in page.terms.items()
                for slug in slugs)
            or (page.taxonomy is not None and "/".join(page.taxonomy) in keys))


def same_rows(new: RelatedColumns, old: RelatedColumns, row: Longs) -> Flags:
    """For each page of `new`: are its first RELATED_EDGES related rows (targets, scores) those
    of page `row[i]` of `old`?"""
    take = np.minimum(np.diff(new.offsets), RELATED_EDGES)
    took = np.minimum(np.diff(old.offsets), RELATED_EDGES)
    present = np.flatnonzero(row >= 0)
    same = np.zeros(len(take), dtype=bool)
    same[present] = take[present] == took[row[present]]
    rows = np.flatnonzero(same)
    sizes = take[rows]
    at_new = ranges(new.offsets[rows], sizes)
    at_old = ranges(old.offsets[row[rows]], sizes)
    now = np.full(len(took), -1, dtype=np.int64)  # an old page's place now
    now[row[present]] = present
    differ = ((new.target[at_new] != now[old.target[at_old]])
              | (new.floats["score"][at_new] != old.floats["score"][at_old]))
    same[rows[np.repeat(np.arange(len(rows)), sizes)[differ]]] = False
    return same


def write_pieces(target: Path, pieces: Pieces, term_keys: Collection[str],
                 previous: PreviousGraph | None, kept: Kept | None) -> None:
    """graph.json of the pieces (a None piece: the previous build's bytes) and its spans."""
    old = previous.spans[kept.row] if previous is not None and kept is not None else None
    source = os.open(previous.path, os.O_RDONLY) if previous is not None else -1
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        write_all(fd, HEAD.encode())
        head = [",".join(pieces.term_nodes)] if pieces.term_nodes else []
        nodes, end = _section(fd, source, len(HEAD), [*head, *pieces.nodes],
                              None if old is None else old[:, :2], len(head))
        write_all(fd, MIDDLE.encode())
        head = [",".join(pieces.term_edges)] if pieces.term_edges else []
        edges, end = _section(fd, source, end + len(MIDDLE), [*head, *pieces.edges],
                              None if old is None else old[:, 2:], len(head))
        write_all(fd, TAIL.encode())
    finally:
        os.close(fd)
        if source >= 0:
            os.close(source)
    np.savez(target.parent / SPANS_FILE, spans=np.column_stack([nodes, edges]).astype(np.int64),
             size=np.int64(end + len(TAIL)), term_keys=np.array(sorted(term_keys), dtype=str))


def _section(fd: int, source: int, base: int, texts: list[str | None], old: Longs | None,
             skip: int) -> tuple[Longs, int]:
    """The fragments joined by commas, written at `base` (an empty one adds nothing, not even
    a comma): texts[f], or where None the previous file's bytes old[f - skip] (neighbours
    there copied as one range). Returns [start, end) of every fragment after the first
    `skip`, and where the section ends."""
    fresh = [f for f, text in enumerate(texts) if text is not None]
    sizes = np.zeros(len(texts), dtype=np.int64)
    starts = np.zeros(len(texts), dtype=np.int64)
    ends = np.zeros(len(texts), dtype=np.int64)
    if len(fresh) == len(texts):  # everything encoded: one join
        text = ",".join(t for t in cast(list[str], texts) if t)
        data = text.encode()
        sizes[:] = ([len(t) for t in cast(list[str], texts)] if len(data) == len(text)
                    else [len(t.encode()) for t in cast(list[str], texts)])
        write_all(fd, data)
    else:
        assert old is not None, "pieces kept without the previous build's spans"
        starts[skip:], ends[skip:] = old[:, 0], old[:, 1]
        sizes = ends - starts
        sizes[fresh] = [len(t.encode()) for t in (texts[f] for f in fresh) if t is not None]
        _copy(fd, source, texts, np.flatnonzero(sizes > 0), starts, ends)
    some = (sizes > 0).astype(np.int64)
    at = base + np.cumsum(sizes) - sizes + np.cumsum(some) - some  # the commas before it
    end = base + int(sizes.sum()) + max(int(some.sum()) - 1, 0)
    return np.column_stack([at, at + sizes])[skip:], end


def _copy(fd: int, source: int, texts: list[str | None], live: Longs, starts: Longs,
          ends: Longs) -> None:
    """Fragments `live` joined by commas: the text of fresh ones, the previous file's ranges
    of the others, a range that goes on where the one before ended copied with it."""
    if not len(live):
        return
    kept = np.array([texts[f] is None for f in live.tolist()], dtype=bool)
    joined = np.zeros(len(live), dtype=bool)
    joined[1:] = kept[1:] & kept[:-1] & (starts[live[1:]] == ends[live[:-1]] + 1)
    firsts = np.flatnonzero(~joined)
    lasts = np.append(firsts[1:], len(live)) - 1
    pending: list[str] = []  # fresh text, written at once
    for k, (first, last) in enumerate(zip(live[firsts].tolist(), live[lasts].tolist(),
                                          strict=True)):
        if k:
            pending.append(",")
        text = texts[first]
        if text is not None:
            pending.append(text)
            continue
        write_all(fd, "".join(pending).encode())
        pending = []
        append_range(source, fd, int(starts[first]), int(ends[last] - starts[first]))
    write_all(fd, "".join(pending).encode())


def write_network_json(pages: list[Page], terms: dict[str, Term], related: RelatedColumns | None,
                       target: Path, previous: PreviousGraph | None = None,
                       alike: Collection[str] = ()) -> int:
    """graph.json; with the direct encoding also its spans, and then the pages whose pieces
    are the previous build's (`alike`: their pages.json records are) are not encoded again.
    Returns how many pages' edges were encoded."""
    kept = previous.kept(pages, alike, terms.keys(), related) if previous is not None else None
    pieces = direct(pages, terms, related, *((kept.nodes, kept.edges) if kept else ()))
    if pieces is None and kept is not None:  # a fresh page needs the general way: all encoded
        kept, pieces = None, direct(pages, terms, related)
    if pieces is None:
        target.write_text(general(pages, terms, related).node_link(), "utf-8")
        return len(pages)
    write_pieces(target, pieces, terms.keys(), previous, kept)
    return sum(edges is not None for edges in pieces.edges)
