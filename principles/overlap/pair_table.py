"""The corpus-wide overlapping pairs as columns plus each pair's record as encoded bytes.

    <build>/overlap/pairs.npz           ids, and per pair: a, b (rows of ids), score, band,
                                        cluster, and where its record sits (segment, offset)
    <build>/overlap/records-NNNNNN.bin  segments of records: one JSON object per pair
                                        (evidence, coverage, shared terms)

Why not one JSON file: at 10k pages a corpus keeps ~140k pairs (~45 MB of JSON), and a
re-ingest after one edit rescored a few dozen of them yet decoded and encoded them all
(~0.5 s). Here a build hard-links the previous build's segments (written once, never changed)
and writes only the new records into a new segment; once less than half of the linked bytes
are still in use, the kept records are written again with the new ones. Clusters, filters and
order work on the columns; the pairs endpoint decodes only the records it returns.

Rows are ordered by score (highest first), then by the page ids of a and b.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import numpy as np
import numpy.typing as npt

from principles.arrays import distinct, places
from principles.overlap import scoring

COLUMNS = "pairs.npz"
RECORDS = "records-NNNNNN.bin"

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
class Segment:
    """One records file: its bytes, and the previous build's file holding the same bytes
    (hard-linked into the new build instead of written again) when there is one."""

    name: str
    data: bytes | mmap.mmap
    source: Path | None = None


@dataclass(frozen=True)
class PairTable:
    """Kept pairs of one build; each record is `length` bytes at `offset` in segment
    `segment`."""

    ids: list[str]
    a: Idx
    b: Idx
    score: npt.NDArray[np.float64]
    band: npt.NDArray[np.int8]  # index into scoring.BANDS
    cluster: npt.NDArray[np.int32]  # -1: in no cluster
    segment: Idx
    offset: Idx
    length: Idx
    segments: list[Segment]

    def __len__(self) -> int:
        return len(self.a)

    def record(self, row: int) -> dict[str, Any]:
        """One pair as the JSON object it was scored into, with its cluster."""
        start, data = int(self.offset[row]), self.segments[int(self.segment[row])].data
        found: dict[str, Any] = _DECODER.decode(data[start:start + int(self.length[row])])
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
        """Segments the previous build holds are hard-linked (writing 40 MB costs ~0.15 s
        here; a link nothing), new ones written."""
        folder.mkdir(parents=True, exist_ok=True)
        for segment in self.segments:
            target = folder / segment.name
            if segment.source is not None and _linked(segment.source, target):
                continue
            with target.open("wb") as handle:
                handle.write(segment.data)
        np.savez(folder / COLUMNS, allow_pickle=False, ids=np.array(self.ids, dtype=str),
                 a=self.a.astype(np.int32), b=self.b.astype(np.int32), score=self.score,
                 band=self.band, cluster=self.cluster, segment=self.segment.astype(np.int32),
                 offset=self.offset, length=self.length.astype(np.int32),
                 segment_names=np.array([s.name for s in self.segments], dtype=str))

    @classmethod
    def load(cls, folder: Path) -> PairTable | None:
        """The build's pairs, their records memory-mapped; None when the build has none (or
        it is damaged: a build that cannot carry its pairs over computes them again)."""
        columns = folder / COLUMNS
        if not columns.is_file():
            return None
        try:
            with np.load(columns) as data:
                ids = data["ids"].tolist()
                table = (data["a"].astype(np.int64), data["b"].astype(np.int64),
                         data["score"], data["band"], data["cluster"],
                         data["segment"].astype(np.int64), data["offset"],
                         data["length"].astype(np.int64))
                names = data["segment_names"].tolist()
            segments = [Segment(name, _mapped(folder / name), folder / name) for name in names]
        except (OSError, ValueError, KeyError):
            return None
        return cls(ids, *table, segments)


def _mapped(path: Path) -> bytes | mmap.mmap:
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""


def _linked(source: Path, target: Path) -> bool:
    try:
        os.link(source, target)
    except OSError:
        return False  # another file system, or links not allowed: written instead
    return True


def _replace(table: PairTable, **changes: Any) -> PairTable:
    return PairTable(**{**vars(table), **changes})


def _row_of(ids: list[str]) -> dict[str, int]:
    return {page_id: i for i, page_id in enumerate(ids)}


def build_table(ids: Sequence[str], fresh: list[dict[str, Any]], previous: PairTable | None,
                carried: npt.NDArray[np.bool_] | None, row_of_old: Idx | None) -> PairTable:
    """This build's table: `fresh` records (just scored), in a new segment, and the `carried`
    rows of the previous table (page rows mapped to this build's by `row_of_old`), whose
    records stay in the previous build's segments. When less than half of those segments'
    bytes are still in use, the kept records are written again, into the new segment."""
    ids = list(ids)
    row = _row_of(ids)
    encoded: list[bytes | memoryview] = [
        _ENCODER.encode({k: v for k, v in r.items() if k != "cluster"}) for r in fresh]
    a = np.array([row[r["a"]] for r in fresh], dtype=np.int64)
    b = np.array([row[r["b"]] for r in fresh], dtype=np.int64)
    score = np.array([r["score"] for r in fresh], dtype=np.float64)
    band = np.array([scoring.BANDS.index(r["band"]) for r in fresh], dtype=np.int8)
    length = np.array([len(e) for e in encoded], dtype=np.int64)
    segments: list[Segment] = []
    segment = offset = np.zeros(0, np.int64)  # of the records kept where they are
    number = 0  # the new segment's
    rows = np.flatnonzero(carried) if carried is not None else np.zeros(0, np.int64)
    if previous is not None and row_of_old is not None and len(rows):
        old = previous
        number = 1 + max((_number(s.name) for s in old.segments), default=-1)
        used = distinct(old.segment[rows])
        if 2 * int(old.length[rows].sum()) >= sum(len(old.segments[s].data) for s in used.tolist()):
            renumber = np.full(len(old.segments), -1, dtype=np.int64)
            renumber[used] = np.arange(len(used))
            segments = [old.segments[s] for s in used.tolist()]
            segment, offset = renumber[old.segment[rows]], old.offset[rows]
        else:  # compact
            encoded = [*_slices(old, rows), *encoded]
        a = np.concatenate([row_of_old[old.a[rows]], a])
        b = np.concatenate([row_of_old[old.b[rows]], b])
        score = np.concatenate([old.score[rows], score])
        band = np.concatenate([old.band[rows], band])
        length = np.concatenate([old.length[rows], length])
    written = length[len(segment):]  # the lengths of what goes into the new segment
    if len(written):
        segments.append(Segment(f"records-{number:06d}.bin", b"".join(encoded)))
        segment = np.concatenate([segment, np.full(len(written), len(segments) - 1)])
        offset = np.concatenate([offset, np.concatenate([[0], np.cumsum(written)[:-1]])])
    rank = places(ids)
    order = np.lexsort((rank[b], rank[a], -score)) if len(a) else np.zeros(0, np.int64)
    return PairTable(ids, a[order], b[order], score[order], band[order],
                     np.full(len(order), -1, dtype=np.int32), segment.astype(np.int64)[order],
                     offset.astype(np.int64)[order], length[order], segments)


def _number(name: str) -> int:
    try:
        return int(name.removeprefix("records-").removesuffix(".bin"))
    except ValueError:
        return 0


def _slices(table: PairTable, rows: Idx) -> list[bytes | memoryview]:
    views = [memoryview(s.data) for s in table.segments]
    return [views[int(s)][o:o + n] for s, o, n in zip(
        table.segment[rows].tolist(), table.offset[rows].tolist(), table.length[rows].tolist(),
        strict=True)]


@dataclass(frozen=True)
class PairsArtefact:
    """What the overlap step stores: `summary` (thresholds, neighbours, counts, clusters, as
    summary.json) and the pairs."""

    summary: dict[str, Any]
    table: PairTable

    def as_dict(self) -> dict[str, Any]:
        """Every pair decoded, in the shape of the summary plus `pairs` (tools and tests)."""
        return {**self.summary, "pairs": self.table.all_records()}
