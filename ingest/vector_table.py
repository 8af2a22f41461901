"""Every vector of a build in page order (`embeddings/`), each row with the key of its text.

Rows: the page vector of every page, in page order, then the passage vectors of every page,
in page order. A re-ingest takes an unchanged page's rows by position (no text to build, hash
or look up), and looks the texts of changed pages up by key, so an edited page re-encodes only
the passages that changed. Keys are sha256 of model and text, so a model change re-encodes all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from principles.contract import VECTOR_TABLE_DIR
from principles.embedder import Encoder, Vectors

OLD_CACHE_FILE = "embeddings.npz"  # builds before the table kept an embedding cache
KEY = np.dtype("S32")
Keys = npt.NDArray[np.bytes_]
Rows = npt.NDArray[np.int64]


def text_key(model: str, text: str) -> bytes:
    return hashlib.sha256(f"{model}\0{text}".encode("utf-8", "replace")).digest()


@dataclass(frozen=True)
class VectorTable:
    """A table loaded from an older build may have no pages: its rows serve lookups only."""

    page_ids: list[str]
    passage_counts: npt.NDArray[np.int32]  # passages per page
    keys: Keys  # (rows,)
    vectors: Vectors  # (rows, dimension)

    @property
    def passage_starts(self) -> Rows:
        """The first passage row of every page."""
        counts = self.passage_counts.astype(np.int64)
        return len(self.page_ids) + np.cumsum(counts) - counts

    def passages(self, i: int) -> Vectors:
        start = int(self.passage_starts[i])
        return self.vectors[start:start + int(self.passage_counts[i])]

    def save(self, folder: Path) -> None:
        """Plain .npy files: no zip, no checksum pass."""
        target = folder / VECTOR_TABLE_DIR
        target.mkdir()
        (target / "page_ids.json").write_text(json.dumps(self.page_ids), "utf-8")
        np.save(target / "passage_counts.npy", self.passage_counts)
        np.save(target / "keys.npy", self.keys)
        np.save(target / "vectors.npy", self.vectors)

    @classmethod
    def load(cls, folder: Path) -> VectorTable | None:
        """The table of a build (read whole: a re-ingest copies nearly every row, and faulting
        them in through a mapping costs more); None if it has no readable one (a damaged table
        only costs a re-encode)."""
        source = folder / VECTOR_TABLE_DIR
        if not source.is_dir():
            return cls._load_cache(folder / OLD_CACHE_FILE)
        try:
            table = cls(json.loads((source / "page_ids.json").read_text("utf-8")),
                        np.load(source / "passage_counts.npy").astype(np.int32),
                        np.load(source / "keys.npy"), np.load(source / "vectors.npy"))
        except (OSError, ValueError):
            return None
        rows = len(table.page_ids) + int(table.passage_counts.sum())
        valid = (table.keys.dtype == KEY and table.vectors.dtype == np.float32
                 and len(table.keys) == len(table.vectors) == rows)
        return table if valid else None

    @classmethod
    def _load_cache(cls, path: Path) -> VectorTable | None:
        """An older build's embedding cache (hex keys, no pages): its rows serve lookups."""
        try:
            with np.load(path) as data:
                keys, vectors = data["keys"], data["vectors"]
                return cls([], np.zeros(0, np.int32),
                           np.array([bytes.fromhex(str(k)) for k in keys], dtype=KEY),
                           vectors.astype(np.float32))
        except (OSError, ValueError, KeyError):
            return None


@dataclass(frozen=True)
class Embedded:
    table: VectorTable
    encoded: int  # texts sent to the model


def embed_table(model: str, page_ids: Sequence[str], carried: Mapping[str, int],
                fresh: Mapping[str, list[str]], previous: VectorTable | None, encoder: Encoder,
                progress: Callable[[int], None] | None = None) -> Embedded:
    """The table of `page_ids`: a carried page's rows copied from its position in `previous`,
    a fresh page's texts (page text, then passage texts) looked up by key in `previous` or
    encoded. `previous`'s arrays may become the new table's (changed in place)."""
    n = len(page_ids)
    old_counts = previous.passage_counts.tolist() if previous is not None else []
    counts = np.array([old_counts[carried[p]] if p in carried else len(fresh[p]) - 1
                       for p in page_ids], dtype=np.int32)
    starts = n + np.cumsum(counts, dtype=np.int64) - counts
    rows = n + int(counts.sum())
    source = np.full(rows, -1, dtype=np.int64)  # the previous row of every carried row
    if previous is not None and carried:
        pages = np.array([i for i, p in enumerate(page_ids) if p in carried], dtype=np.int64)
        old = np.array([carried[page_ids[i]] for i in pages.tolist()], dtype=np.int64)
        source[pages] = old
        sizes = counts[pages].astype(np.int64)
        within = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        source[np.repeat(starts[pages], sizes) + within] = (
            np.repeat(previous.passage_starts[old], sizes) + within)
    positions: list[int] = []
    texts: list[str] = []
    for i, page_id in enumerate(page_ids):
        if page_id in carried:
            continue
        page_text, *passage_texts = fresh[page_id]
        positions += [i, *range(int(starts[i]), int(starts[i]) + len(passage_texts))]
        texts += [page_text, *passage_texts]
    fresh_keys = [text_key(model, t) for t in texts]
    vectors, encoded = _vectors_of(fresh_keys, texts, previous, encoder, progress)
    dimension = vectors.shape[1] if len(texts) else (
        previous.vectors.shape[1] if previous is not None else encoder.dimension)
    copied = np.flatnonzero(source >= 0)
    if previous is not None and len(copied) and len(source) == len(previous.keys) and (
            np.array_equal(source[copied], copied)):  # rows stay put: overwrite the fresh ones
        matrix, keys = previous.vectors, previous.keys  # `previous` is not read after this
    elif previous is not None and len(copied):  # one gather; fresh rows after
        matrix = previous.vectors.take(np.maximum(source, 0), axis=0)
        keys = previous.keys.take(np.maximum(source, 0))
    else:
        matrix, keys = np.empty((rows, dimension), dtype=np.float32), np.empty(rows, dtype=KEY)
    if texts:
        matrix[positions] = vectors
        keys[positions] = np.array(fresh_keys, dtype=KEY)
    return Embedded(VectorTable(list(page_ids), counts, keys, matrix), encoded)


def _vectors_of(keys: list[bytes], texts: list[str], previous: VectorTable | None,
                encoder: Encoder, progress: Callable[[int], None] | None) -> tuple[Vectors, int]:
    """Vectors of `texts`: by key from `previous` where it has them, else encoded (each
    distinct text once, in batches, reporting progress)."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32), 0
    known = {k: i for i, k in enumerate(previous.keys.tolist())} if previous is not None else {}
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    found: dict[bytes, Vectors] = {}
    step = 64
    for start in range(0, len(missing), step):
        batch = missing[start:start + step]
        for (key, _), encoded in zip(batch, encoder.encode([t for _, t in batch]), strict=True):
            found[key] = np.asarray(encoded, dtype=np.float32)
        if progress:
            progress(len(batch))

    def vector(key: bytes) -> Vectors:
        if key in found:
            return found[key]
        assert previous is not None
        row: Vectors = previous.vectors[known[key]]
        return row

    return np.stack([vector(k) for k in keys]).astype(np.float32), len(missing)
