"""The corpus-wide overlapping pairs as columns plus each pair's record as encoded bytes.

    <build>/overlap/pairs.npz    ids, and per pair: a, b (rows of ids), score, band, cluster,
                                 and where its record sits in records.bin
    <build>/overlap/records.bin  one JSON object per pair (evidence, coverage, shared terms)

Why not one JSON file: at 10k pages a corpus keeps ~140k pairs (~45 MB of JSON), and a
re-ingest after one edit rescored a few dozen of them yet decoded and encoded them all
(~0.5 s). Here a build copies the previous build's record bytes it keeps in a few runs and
encodes only the new ones; clusters, filters and order work on the columns; the pairs
endpoint decodes only the records it returns.

Rows are ordered by score (highest first), then by the page ids of a and b.
"""

from __future__ import annotations

import mmap
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import numpy as np
import numpy.typing as npt

from principles.overlap import scoring

COLUMNS = "pairs.npz"
RECORDS = "records.bin"

Idx = npt.NDArray[np.int64]
N = TypeVar("N", bound=Hashable)
Scores = dict[N, dict[N, float]]  # page -> the pages it overlaps strongly -> the pair's score


def _plain(value: object) -> object:
    """numpy scalars in evidence (msgspec takes only exact floats and ints)."""
    if isinstance(value, np.generic):
        return value.item()
    raise NotImplementedError(f"cannot write {type(value).__name__} to {RECORDS}")


_ENCODER = msgspec.json.Encoder(enc_hook=_plain)
_DECODER = msgspec.json.Decoder()


@dataclass(frozen=True)
class PairTable:
    """Kept pairs of one build; `records` holds the bytes `offset`/`length` point into."""

    ids: list[str]
    a: Idx
    b: Idx
    score: npt.NDArray[np.float64]
    band: npt.NDArray[np.int8]  # index into scoring.BANDS
    cluster: npt.NDArray[np.int32]  # -1: in no cluster
    offset: Idx
    length: Idx
    records: bytes | mmap.mmap | memoryview

    def __len__(self) -> int:
        return len(self.a)

    def record(self, row: int) -> dict[str, Any]:
        """One pair as the JSON object it was scored into, with its cluster."""
        start = int(self.offset[row])
        found: dict[str, Any] = _DECODER.decode(self.records[start:start + int(self.length[row])])
        cluster = int(self.cluster[row])
        found["cluster"] = cluster if cluster >= 0 else None
        return found

    def all_records(self) -> list[dict[str, Any]]:
        return [self.record(row) for row in range(len(self))]

    def strong(self, node: list[int] | None = None) -> Scores[int]:
        """Pages joined by a strong or near-duplicate pair, with its score: the graph clusters
        are cliques of. Pages are rows of `ids`, or `node[row]`."""
        scores: Scores[int] = {}
        rows = np.flatnonzero(self.band < 2)
        a, b = self.a[rows], self.b[rows]
        if node is not None:
            nodes = np.array(node, dtype=np.int64)
            a, b = nodes[a], nodes[b]
        for x, y, score in zip(a.tolist(), b.tolist(), self.score[rows].tolist(), strict=True):
            scores.setdefault(x, {})[y] = score
            scores.setdefault(y, {})[x] = score
        return scores

    def with_clusters(self, member: dict[int, int]) -> PairTable:
        """Each pair's cluster: the one both its pages (rows) are members of, if any."""
        of_row = np.full(len(self.ids), -1, dtype=np.int32)
        for row, cluster in member.items():
            of_row[row] = cluster
        a, b = of_row[self.a], of_row[self.b]
        return _replace(self, cluster=np.where((a >= 0) & (a == b), a, -1).astype(np.int32))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / RECORDS).open("wb") as handle:
            handle.write(self.records)
        np.savez(folder / COLUMNS, allow_pickle=False, ids=np.array(self.ids, dtype=str),
                 a=self.a.astype(np.int32), b=self.b.astype(np.int32), score=self.score,
                 band=self.band, cluster=self.cluster, offset=self.offset,
                 length=self.length.astype(np.int32))

    @classmethod
    def load(cls, folder: Path) -> PairTable | None:
        """The build's pairs, their records memory-mapped; None when the build has none."""
        columns, records = folder / COLUMNS, folder / RECORDS
        if not columns.is_file() or not records.is_file():
            return None
        with np.load(columns) as data:
            ids = data["ids"].tolist()
            table = (data["a"].astype(np.int64), data["b"].astype(np.int64), data["score"],
                     data["band"], data["cluster"], data["offset"],
                     data["length"].astype(np.int64))
        with records.open("rb") as handle:
            blob: bytes | mmap.mmap = (mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
                                       if records.stat().st_size else b"")
        return cls(ids, *table, blob)


def _replace(table: PairTable, **changes: Any) -> PairTable:
    return PairTable(**{**vars(table), **changes})


def _row_of(ids: list[str]) -> dict[str, int]:
    return {page_id: i for i, page_id in enumerate(ids)}


def build_table(ids: Sequence[str], fresh: list[dict[str, Any]], previous: PairTable | None,
                carried: npt.NDArray[np.bool_] | None, row_of_old: Idx | None) -> PairTable:
    """This build's table: `fresh` records (just scored) and the `carried` rows of the previous
    table, whose page rows `row_of_old` maps to this build's."""
    ids = list(ids)
    row = _row_of(ids)
    encoded = [_ENCODER.encode({k: v for k, v in r.items() if k != "cluster"}) for r in fresh]
    a = np.array([row[r["a"]] for r in fresh], dtype=np.int64)
    b = np.array([row[r["b"]] for r in fresh], dtype=np.int64)
    score = np.array([r["score"] for r in fresh], dtype=np.float64)
    band = np.array([scoring.BANDS.index(r["band"]) for r in fresh], dtype=np.int8)
    length = np.array([len(e) for e in encoded], dtype=np.int64)
    parts: list[memoryview] = []
    kept_length = np.zeros(0, np.int64)
    if previous is not None and carried is not None and row_of_old is not None and carried.any():
        rows = np.flatnonzero(carried)
        rows = rows[np.argsort(previous.offset[rows], kind="stable")]  # in file order: few runs
        parts = _runs(previous, rows)
        kept_length = previous.length[rows]
        a = np.concatenate([row_of_old[previous.a[rows]], a])
        b = np.concatenate([row_of_old[previous.b[rows]], b])
        score = np.concatenate([previous.score[rows], score])
        band = np.concatenate([previous.band[rows], band])
    lengths = np.concatenate([kept_length, length])
    offset = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    blob = b"".join([*parts, *encoded])
    rank = np.empty(len(ids), dtype=np.int64)
    rank[np.argsort(np.array(ids, dtype=str), kind="stable")] = np.arange(len(ids))
    order = np.lexsort((rank[b], rank[a], -score)) if len(a) else np.zeros(0, np.int64)
    return PairTable(ids, a[order], b[order], score[order], band[order],
                     np.full(len(order), -1, dtype=np.int32), offset[order], lengths[order], blob)


def _runs(table: PairTable, rows: Idx) -> list[memoryview]:
    """The records of `rows` (in file order) as slices of the table's bytes, adjacent records
    joined into one slice."""
    start, end = table.offset[rows], table.offset[rows] + table.length[rows]
    breaks = np.flatnonzero(start[1:] != end[:-1]) + 1
    firsts = np.concatenate([[0], breaks])
    lasts = np.concatenate([breaks - 1, [len(rows) - 1]])
    view = memoryview(table.records)
    return [view[s:e] for s, e in zip(start[firsts].tolist(), end[lasts].tolist(), strict=True)]


@dataclass(frozen=True)
class PairsArtefact:
    """What the overlap step stores: `summary` (thresholds, neighbours, counts, clusters, as
    summary.json) and the pairs."""

    summary: dict[str, Any]
    table: PairTable

    def as_dict(self) -> dict[str, Any]:
        """Every pair decoded, in the shape of the summary plus `pairs` (tools and tests)."""
        return {**self.summary, "pairs": self.table.all_records()}
