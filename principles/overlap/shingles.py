"""Word shingles, MinHash signatures and the LSH index over them (datasketch).

Signatures are computed at ingest and stored in the build (`overlap/minhash.npz`, keyed by the
page's content hash so an unchanged page is never re-hashed); serve only loads them and builds
the in-memory LSH index once at start-up (~0.25 s per 1,000 pages).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt
from datasketch import MinHash, MinHashLSH

SHINGLE_WORDS = 5
NUM_PERM = 128
SEED = 1
SCHEME = "affine32"
LSH_THRESHOLD = 0.4  # below NEAR_DUPLICATE, so borderline copies are still candidates
FILE = "minhash.npz"
_WORD = re.compile(r"\w+")

Signature = npt.NDArray[np.uint32]


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[bytes]:
    """Lower-cased word n-grams; a text shorter than n words is one shingle."""
    words = _WORD.findall(text.lower())
    if not words:
        return set()
    return {" ".join(words[i:i + size]).encode() for i in range(max(1, len(words) - size + 1))}


def signature(shingle_set: set[bytes]) -> Signature:
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
    minhash.update_batch(sorted(shingle_set))
    return np.asarray(minhash.hashvalues, dtype=np.uint32)


def jaccard(a: Signature, b: Signature) -> float:
    return round(float(np.mean(a == b)), 4)


class Signatures:
    """One MinHash signature per page, in a fixed order, plus shingle counts and hashes."""

    def __init__(self, ids: list[str], matrix: npt.NDArray[np.uint32], sizes: list[int],
                 hashes: list[str]) -> None:
        self.ids = ids
        self.matrix = matrix
        self.sizes = sizes
        self.hashes = hashes
        self.row = {page_id: i for i, page_id in enumerate(ids)}
        self._lsh: MinHashLSH | None = None

    @classmethod
    def compute(cls, texts: Iterable[tuple[str, str, str]],
                previous: Signatures | None = None) -> Signatures:
        """(page id, content hash, text) -> signatures; unchanged pages reuse `previous`."""
        ids: list[str] = []
        rows: list[Signature] = []
        sizes: list[int] = []
        hashes: list[str] = []
        for page_id, digest, text in texts:
            old = previous.row.get(page_id) if previous else None
            if previous is not None and old is not None and previous.hashes[old] == digest:
                rows.append(previous.matrix[old])
                sizes.append(previous.sizes[old])
            else:
                found = shingles(text)
                rows.append(signature(found))
                sizes.append(len(found))
            ids.append(page_id)
            hashes.append(digest)
        matrix = np.stack(rows) if rows else np.zeros((0, NUM_PERM), dtype=np.uint32)
        return cls(ids, matrix.astype(np.uint32), sizes, hashes)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / FILE, ids=np.array(self.ids, dtype=str), matrix=self.matrix,
                 sizes=np.array(self.sizes, dtype=np.int64), hashes=np.array(self.hashes, dtype=str))

    @classmethod
    def load(cls, folder: Path) -> Signatures | None:
        """None when the build has no signatures (made before the overlap finder existed)."""
        path = folder / FILE
        if not path.is_file():
            return None
        with np.load(path) as data:
            return cls([str(x) for x in data["ids"]], data["matrix"].astype(np.uint32),
                       [int(x) for x in data["sizes"]], [str(x) for x in data["hashes"]])

    @property
    def lsh(self) -> MinHashLSH:
        if self._lsh is None:
            lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
            with lsh.insertion_session() as session:
                for i, page_id in enumerate(self.ids):
                    if self.sizes[i]:
                        session.insert(page_id, _minhash(self.matrix[i]), check_duplication=False)
            self._lsh = lsh
        return self._lsh

    def bucket_pairs(self) -> set[tuple[int, int]]:
        """Every (row, row) pair, smaller row first, that the LSH index puts in one bucket: the
        same candidates as `similar` of each row (empty texts left out), found by comparing the
        signatures' bands directly, without building the index."""
        bands, rows = _lsh_shape()
        keep = np.flatnonzero(np.asarray(self.sizes, dtype=np.int64) > 0)
        pairs: set[tuple[int, int]] = set()
        if len(keep) < 2:
            return pairs
        matrix = np.ascontiguousarray(self.matrix[keep], dtype=np.uint32)
        for band in range(bands):
            part = np.ascontiguousarray(matrix[:, band * rows:(band + 1) * rows])
            _, bucket, counts = np.unique(part.view(np.dtype((np.void, 4 * rows))).ravel(),
                                          return_inverse=True, return_counts=True)
            shared = np.flatnonzero(counts > 1)
            if not len(shared):
                continue
            members = np.flatnonzero(np.isin(bucket, shared))
            order = members[np.argsort(bucket[members], kind="stable")]
            edges = np.flatnonzero(np.diff(bucket[order])) + 1
            for group in np.split(order, edges):
                rows_in = sorted(keep[group].tolist())
                pairs.update((a, b) for n, a in enumerate(rows_in) for b in rows_in[n + 1:])
        return pairs

    def bucket_partners(self, rows: Iterable[int]) -> set[tuple[int, int]]:
        """The `bucket_pairs` that include one of `rows` (a re-ingest's changed pages): each
        row's bands compared with every row's, without bucketing the others."""
        bands, width = _lsh_shape()
        keep = np.asarray(self.sizes, dtype=np.int64) > 0
        used = self.matrix[:, :bands * width]
        pairs: set[tuple[int, int]] = set()
        for row in rows:
            if not keep[row]:
                continue
            same = (used == used[row]).reshape(len(used), bands, width).all(axis=2).any(axis=1)
            same &= keep
            same[row] = False
            pairs.update((min(row, o), max(row, o)) for o in np.flatnonzero(same).tolist())
        return pairs

    def similar(self, sig: Signature) -> list[str]:
        """Pages whose signature LSH puts in a bucket with `sig` (candidate near-duplicates)."""
        return sorted(str(key) for key in self.lsh.query(_minhash(sig)))

    def jaccard(self, a: str, sig: Signature, size: int) -> float | None:
        """Estimated Jaccard between page `a` and a signature; None when either text is empty."""
        row = self.row.get(a)
        if row is None or not size or not self.sizes[row]:
            return None
        return jaccard(self.matrix[row], sig)


def _lsh_shape() -> tuple[int, int]:
    """(bands, rows per band) the LSH index uses for LSH_THRESHOLD and NUM_PERM."""
    lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
    return int(lsh.b), int(lsh.r)


def _minhash(values: Signature) -> MinHash:
    return MinHash(num_perm=NUM_PERM, seed=SEED, hashvalues=values, scheme=SCHEME)
