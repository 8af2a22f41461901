"""The state a build's related step keeps for the next one (STATE_FILE): every page's
neighbour lists with their scores and radii, its candidates and the term document counts
(ingest/related.py says how a re-ingest uses them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from principles.npz import PatchedRows, Ragged, ragged_rows

STATE_FILE = "related_state.npz"
STATE_VERSION = 2  # 2: list scores and passage list entries
NO_RADIUS = np.float32(-np.inf)  # a list shorter than k: any page would enter it

Idx = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float32]


class Hits(NamedTuple):
    """One page's passage lists, entry by entry: which of its passages the list is of (`at`),
    the page and passage number the entry is (`to`, `no`) and its score."""

    at: Idx
    to: Idx
    no: Idx
    score: Floats

    @classmethod
    def none(cls) -> Hits:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64),
                   np.zeros(0, np.float32))


@dataclass
class Lists:
    """Per page: its nearest pages by page vector (`near`, with their scores), the pages its
    passages' nearest other-page passages belong to (`via`, from the entries in `hits`), and
    the radius of each list (the k-th hit's score; per passage for `via`). The scores let a
    re-ingest keep a list that names a changed page without searching it again. Rows are
    carried over flat and the few searched again replace theirs (`PatchedRows`)."""

    near: PatchedRows  # of Idx
    near_scores: PatchedRows  # the score of each of `near`
    near_radius: Floats  # (n,)
    via: PatchedRows  # of Idx
    passage_radius: PatchedRows  # per page, (m_i,)
    hits_at: PatchedRows
    hits_to: PatchedRows
    hits_no: PatchedRows
    hits_score: PatchedRows

    @classmethod
    def empty(cls, n: int) -> Lists:
        """Placeholders: every page's lists are searched or carried over."""
        def ints() -> PatchedRows:
            return PatchedRows.empty(n, np.int64)

        def floats() -> PatchedRows:
            return PatchedRows.empty(n, np.float32)

        return cls(ints(), floats(), np.full(n, NO_RADIUS, np.float32), ints(), floats(),
                   ints(), ints(), ints(), floats())

    def hits(self, i: int) -> Hits:
        return Hits(self.hits_at[i], self.hits_to[i], self.hits_no[i], self.hits_score[i])

    def set_hits(self, i: int, hits: Hits) -> None:
        self.hits_at[i], self.hits_to[i], self.hits_no[i], self.hits_score[i] = hits


@dataclass(frozen=True)
class StoredLists:
    """`Lists` as the previous build stored them: rows read when used (`Ragged`)."""

    near: Ragged
    near_scores: Ragged
    near_radius: Floats
    via: Ragged
    passage_radius: Ragged
    hits_at: Ragged
    hits_to: Ragged
    hits_no: Ragged
    hits_score: Ragged


# --- the state a build keeps for the next one ---------------------------------------------


@dataclass
class RelatedState:
    """What a build's related rows were made from (STATE_FILE); read back as `StoredState`."""

    page_ids: list[str]
    lists: Lists
    candidates: PatchedRows  # of Idx
    df: dict[str, int]
    params: list[int]

    def save(self, folder: Path) -> None:
        keys = sorted(self.df)
        lists = self.lists
        np.savez(folder / STATE_FILE, allow_pickle=False,
                 page_ids=np.array(self.page_ids, dtype=str), params=np.array(self.params),
                 near_radius=lists.near_radius, df_keys=np.array(keys, dtype=str),
                 df=np.array([self.df[k] for k in keys], dtype=np.int64),
                 **_flat("near", lists.near, np.int32), **_flat("via", lists.via, np.int32),
                 **_flat("near_scores", lists.near_scores, np.float32),
                 **_flat("radius", lists.passage_radius, np.float32),
                 **_flat("hits_at", lists.hits_at, np.int16),
                 **_flat("hits_to", lists.hits_to, np.int32),
                 **_flat("hits_no", lists.hits_no, np.int16),
                 **_flat("hits_score", lists.hits_score, np.float32),
                 **_flat("candidates", self.candidates, np.int32))


def _flat(name: str, rows: PatchedRows, dtype: type[np.generic]) -> dict[str, npt.NDArray[Any]]:
    """The arrays `ragged` writes (and `ragged_rows` reads), from rows carried over flat."""
    flat = rows.flat()
    return {f"{name}_offsets": flat.offsets, f"{name}_values": flat.values.astype(dtype)}



@dataclass(frozen=True)
class StoredState:
    """A previous build's `RelatedState`, its rows read when used."""

    page_ids: list[str]
    lists: StoredLists
    candidates: Ragged
    df: dict[str, int]
    params: list[int]

    @classmethod
    def load(cls, folder: Path) -> StoredState | None:
        path = folder / STATE_FILE
        if not path.is_file():
            return None
        try:
            with np.load(path) as data:
                return cls(
                    page_ids=data["page_ids"].tolist(),
                    lists=StoredLists(
                        ragged_rows(data, "near"), ragged_rows(data, "near_scores"),
                        data["near_radius"], ragged_rows(data, "via"),
                        ragged_rows(data, "radius"),
                        *(ragged_rows(data, f"hits_{f}") for f in ("at", "to", "no", "score"))),
                    candidates=ragged_rows(data, "candidates"),
                    df=dict(zip(data["df_keys"].tolist(), data["df"].tolist(), strict=True)),
                    params=data["params"].tolist())
        except (OSError, ValueError, KeyError):
            return None  # a damaged state only costs a full recompute


