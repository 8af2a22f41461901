"""Corpus-wide overlap: every pair of pages that overlap, and the clusters of 3+ pages.

Never all n^2 pairs: candidates are each page's k nearest page vectors in the vector store
plus the MinHash LSH buckets, then each page is scored against its candidates in one matrix
product over their passages. Taxonomy and section pages are left out: a tag page is meant
to sum up the pages it tags, which is not duplication.

Incremental: a build keeps each page's neighbour list with its scores, its radius (the k-th
neighbour's score), the candidate pairs it scored, the LSH bucket pairs and the ranked maximal
cliques (`PairsState`, overlap/state.npz). With the previous build's state, only pages whose
list may have moved are searched again (changed pages, pages whose list named a removed page or
a changed page that may drop out of it - its score before or now within MARGIN of the radius -,
pages a changed page's vector now enters), and only candidate pairs that touch a changed page
or were not candidates before are scored; the verdicts of the other pairs (kept with their
record, or not kept) are carried over. The LSH buckets are found from the signatures' bands
directly: all of them without a previous state, else only the changed pages'. Cliques are
updated around the pages whose strong pairs moved and keep their rank order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from principles.arrays import any_per_row, distinct, places, places_in, union, unit_rows, within
from principles.embedder import Vectors
from principles.npz import PatchedRows, Ragged, ragged_rows, taken
from principles.overlap import cliques as cliques_of
from principles.overlap import scoring
from principles.overlap.pair_table import PairsArtefact, PairTable, Scores, build_table
from principles.overlap.ranked_cliques import RankedCliques
from principles.overlap.shingles import Signatures
from principles.page_types import HUB_TYPES
from principles.vectors import VectorStore, point_number

NOT_COMPARED = HUB_TYPES
NEIGHBOURS = 20
STATE = "state.npz"
STATE_VERSION = 3  # bump when scoring or the state changes: a state from older code is recomputed
# 2: list scores, cliques stored in rank order; 3: each clique's pages in page-id order
TIE_SLACK = 4  # hits fetched beyond k, so equal scores at the cut are cut by page order
MARGIN = 1e-4  # the store's cosines and numpy's differ in the last bits

Idx = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class CorpusVectors:
    """Vectors of the pages to compare, in one order: `ids[i]` has `page[i]`, `passages[i]`."""

    ids: list[str]
    types: list[str]
    page: Vectors  # (n, d)
    passages: list[Vectors]  # (m_i, d)
    lengths: Sequence[list[int]]  # words per passage
    terms: Sequence[set[str]]


def candidate_pairs(vectors: CorpusVectors, store: VectorStore, collection: str,
                    signatures: Signatures | None, k: int = NEIGHBOURS) -> set[tuple[int, int]]:
    """(i, j) with i < j: j among i's k nearest pages (or i among j's), or in one LSH bucket."""
    eligible = _eligible(vectors)
    near, _, _ = neighbour_lists(vectors, store, collection, np.flatnonzero(eligible).tolist(), k)
    return _knn_pairs(near) | _bucket_pairs(vectors, signatures, eligible)


def _eligible(vectors: CorpusVectors) -> npt.NDArray[np.bool_]:
    return np.array([t not in NOT_COMPARED for t in vectors.types], dtype=bool)


def neighbour_lists(vectors: CorpusVectors, store: VectorStore, collection: str,
                    rows: Sequence[int], k: int
                    ) -> tuple[dict[int, Idx], dict[int, Floats], dict[int, float]]:
    """Each row's k nearest compared pages (sorted rows), their scores, and the k-th one's
    score (its list's radius; -inf while the list is shorter than k). Ties at the cut go by
    page order."""
    if not rows:
        return {}, {}, {}
    eligible = _eligible(vectors)
    row_of = {point_number(page_id): i for i, page_id in enumerate(vectors.ids)}
    types = sorted({t for t, ok in zip(vectors.types, eligible, strict=True) if ok})
    where = None if eligible.all() else [("type", types)]  # a filter costs ~40% per query
    found = store.nearest(collection, vectors.page[list(rows)], k + 1 + TIE_SLACK, where)
    near: dict[int, Idx] = {}
    scores: dict[int, Floats] = {}
    radius: dict[int, float] = {}
    for i, hits in zip(rows, found, strict=True):
        best = sorted((-score, row_of[key]) for score, key in hits
                      if row_of.get(key, i) != i and eligible[row_of[key]])[:k]
        by_row = sorted((j, -score) for score, j in best)
        near[i] = np.array([j for j, _ in by_row], dtype=np.int64)
        scores[i] = np.array([s for _, s in by_row], dtype=np.float32)
        radius[i] = -best[-1][0] if len(best) == k else -np.inf
    return near, scores, radius


def _knn_pairs(near: dict[int, Idx]) -> set[tuple[int, int]]:
    return {(min(i, j), max(i, j)) for i, mine in near.items() for j in mine.tolist()}


def _bucket_pairs(vectors: CorpusVectors, signatures: Signatures | None,
                  eligible: npt.NDArray[np.bool_],
                  only: Sequence[int] | None = None) -> set[tuple[int, int]]:
    """LSH bucket pairs of compared pages, as rows; `only`: those with one of these rows."""
    if signatures is None:
        return set()
    row = {page_id: i for i, page_id in enumerate(vectors.ids)}
    at = [row.get(page_id, -1) for page_id in signatures.ids]
    found = (signatures.bucket_pairs() if only is None else signatures.bucket_partners(
        signatures.row[vectors.ids[i]] for i in only if vectors.ids[i] in signatures.row))
    pairs = set()
    for a, b in found:
        i, j = at[a], at[b]
        if i >= 0 and j >= 0 and eligible[i] and eligible[j]:
            pairs.add((min(i, j), max(i, j)))
    return pairs


def score_pairs(vectors: CorpusVectors, pairs: set[tuple[int, int]],
                signatures: Signatures | None) -> list[dict[str, Any]]:
    """Score each candidate pair; keep those in a band (score >= RELATED or copied text)."""
    by_source: dict[int, list[int]] = {}
    for i, j in sorted(pairs):
        by_source.setdefault(i, []).append(j)
    weights: dict[int, scoring.Weights] = {}
    for i in sorted({r for pair in pairs for r in pair}):
        weights[i] = scoring.passage_weights(vectors.lengths[i])
    kept: list[dict[str, Any]] = []
    for i, targets in by_source.items():
        sizes = [len(vectors.passages[j]) for j in targets]
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
        target_weights = np.concatenate([weights[j] for j in targets])
        sims = vectors.passages[i] @ np.concatenate([vectors.passages[j] for j in targets]).T
        row_best = np.maximum.reduceat(sims, offsets, axis=1)  # (m_i, targets)
        col_best = sims.max(axis=0)
        total = np.add.reduceat(target_weights, offsets)
        forward_sim = weights[i] @ row_best / weights[i].sum()
        forward_cov = weights[i] @ (row_best >= scoring.PASSAGE_MATCH) / weights[i].sum()
        back_sim = np.add.reduceat(target_weights * col_best, offsets) / total
        back_cov = np.add.reduceat(target_weights * (col_best >= scoring.PASSAGE_MATCH), offsets) / total
        cosines = vectors.page[targets] @ vectors.page[i]
        for n, j in enumerate(targets):
            score = scoring.combine(float(cosines[n]), (forward_sim[n] + back_sim[n]) / 2)
            jac, contained = _lexical(vectors, signatures, i, j)
            hub = vectors.types[i] in HUB_TYPES or vectors.types[j] in HUB_TYPES
            band = scoring.band(score, jac, contained, hub=hub)
            if band == scoring.BANDS[3]:
                continue
            block = sims[:, offsets[n]:offsets[n] + sizes[n]]
            forward = (float(forward_cov[n]), float(forward_sim[n]))
            backward = (float(back_cov[n]), float(back_sim[n]))
            kept.append(_record(vectors, i, j, block, forward, backward, float(cosines[n]),
                                score, band, jac, contained))
    kept.sort(key=lambda r: (-r["score"], r["a"], r["b"]))
    return kept


def _lexical(vectors: CorpusVectors, signatures: Signatures | None, i: int,
             j: int) -> tuple[float | None, float | None]:
    if signatures is None:
        return None, None
    a, b = signatures.row.get(vectors.ids[i]), signatures.row.get(vectors.ids[j])
    if a is None or b is None or not signatures.sizes[a] or not signatures.sizes[b]:
        return None, None
    jac = round(float(np.mean(signatures.matrix[a] == signatures.matrix[b])), 4)
    return jac, scoring.containment(jac, signatures.sizes[a], signatures.sizes[b])


def _record(vectors: CorpusVectors, i: int, j: int, block: Vectors, forward: tuple[float, float],
            backward: tuple[float, float], cosine: float, score: float, band: str,
            jac: float | None, contained: float | None) -> dict[str, Any]:
    """`a` is the page more covered by the other, so evidence reads from a's passages."""
    if backward > forward:
        i, j, block, forward, backward = j, i, block.T, backward, forward
    return {"a": vectors.ids[i], "b": vectors.ids[j], "score": round(score, 4), "band": band,
            "covered": [round(forward[0], 4), round(backward[0], 4)],
            "passage_similarity": round((forward[1] + backward[1]) / 2, 4),
            "page_similarity": round(cosine, 4), "jaccard": jac, "containment": contained,
            "evidence": [list(e) for e in scoring.evidence(block)],
            "shared": sorted(vectors.terms[i] & vectors.terms[j])}


def find_clusters(pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Groups of 3+ pages that all overlap each other (cliques of strong/near-duplicate
    pairs), largest and strongest first; a page joins one cluster at most."""
    ids = sorted({p[end] for p in pairs for end in ("a", "b")})
    row = {page_id: i for i, page_id in enumerate(ids)}
    scores: Scores[int] = {}
    for pair in pairs:
        if pair["band"] in scoring.BANDS[:2]:
            a, b, score = row[pair["a"]], row[pair["b"]], float(pair["score"])
            scores.setdefault(a, {})[b] = score
            scores.setdefault(b, {})[a] = score
    place = np.arange(len(ids), dtype=np.int64)  # ids are sorted: a row is its place
    return RankedCliques.of(cliques_of.find(_adjacency(scores)), scores, place).clusters(scores, ids)


def _adjacency(scores: Scores[int]) -> cliques_of.Adjacency[int]:
    return {page: others.keys() for page, others in scores.items()}


@dataclass(frozen=True)
class PairsState:
    """What a build's pairs were made from: per page its content hash, neighbour list and
    radius, and every candidate pair scored (as page-id rows of this state)."""

    ids: list[str]
    hashes: list[str]
    near: Ragged  # each page's neighbour list, as rows
    radius: npt.NDArray[np.float32]
    candidates: npt.NDArray[np.int64]  # (c, 2)
    params: list[float]
    cliques: RankedCliques | None = None  # maximal cliques (3+) of the strong graph, as rows
    near_scores: Ragged | None = None  # the score of each page in `near`
    buckets: Idx | None = None  # (b, 2): the LSH bucket pairs among the candidates

    def save(self, folder: Path) -> None:
        np.savez(folder / STATE, allow_pickle=False, ids=np.array(self.ids, dtype=str),
                 hashes=np.array(self.hashes, dtype=str), **_arrays("near", self.near, np.int32),
                 radius=self.radius, candidates=self.candidates.reshape(-1, 2).astype(np.int32),
                 params=np.array(self.params, dtype=np.float64),
                 **({"cliques_values": self.cliques.members.values.astype(np.int32),
                     "cliques_offsets": self.cliques.members.offsets,
                     "clique_means": self.cliques.means} if self.cliques is not None else {}),
                 **(_arrays("near_scores", self.near_scores, np.float32)
                    if self.near_scores is not None else {}),
                 **({"buckets": self.buckets.reshape(-1, 2).astype(np.int32)}
                    if self.buckets is not None else {}))

    @classmethod
    def load(cls, folder: Path) -> PairsState | None:
        path = folder / STATE
        if not path.is_file():
            return None
        try:
            with np.load(path) as data:
                cliques = (RankedCliques(ragged_rows(data, "cliques"), data["clique_means"])
                           if "cliques_offsets" in data.files else None)
                scores = (ragged_rows(data, "near_scores") if "near_scores_offsets" in data.files
                          else None)
                buckets = (data["buckets"].reshape(-1, 2).astype(np.int64)
                           if "buckets" in data.files else None)
                return cls(data["ids"].tolist(), data["hashes"].tolist(),
                           ragged_rows(data, "near"), data["radius"],
                           data["candidates"].reshape(-1, 2).astype(np.int64),
                           data["params"].tolist(), cliques, scores, buckets)
        except (OSError, ValueError, KeyError):
            return None  # a damaged state only costs a full recompute


def _arrays(name: str, rows: Ragged, dtype: type[np.generic]) -> dict[str, npt.NDArray[Any]]:
    """The arrays `ragged` writes and `ragged_rows` reads."""
    return {f"{name}_offsets": rows.offsets, f"{name}_values": rows.values.astype(dtype)}


@dataclass(frozen=True)
class PreviousPairs:
    state: PairsState
    table: PairTable  # the previous build's kept pairs


def state_params(k: int) -> list[float]:
    return [STATE_VERSION, k, *scoring.thresholds().values()]


def corpus_pairs(vectors: CorpusVectors, store: VectorStore, collection: str,
                 signatures: Signatures | None, k: int = NEIGHBOURS, *,
                 hashes: Sequence[str] | None = None,
                 previous: PreviousPairs | None = None) -> tuple[PairsArtefact, PairsState]:
    """The artefact ingest writes (kept pairs, clusters, what was compared) and the state the
    next build starts from. With `previous` (and `hashes`, each page's content hash) only what
    the change touches is searched and scored."""
    n = len(vectors.ids)
    hashes = list(hashes) if hashes is not None else [""] * n
    eligible = _eligible(vectors)
    near = PatchedRows.empty(n, np.int64)
    near_scores = PatchedRows.empty(n, np.float32)
    radius = np.full(n, -np.inf, dtype=np.float32)
    search = set(np.flatnonzero(eligible).tolist())
    changed = np.ones(n, dtype=bool)
    new_of_old: Idx | None = None  # the previous build's rows -> this build's (-1: gone)
    old_pairs = np.zeros(0, np.int64)  # candidates before, as pair keys of this build's rows
    usable = (previous is not None and previous.state.params == state_params(k)
              and previous.state.near_scores is not None and all(hashes))
    if usable and previous is not None:
        state = previous.state
        old_row = {page_id: o for o, page_id in enumerate(state.ids)}
        new_of_old = np.full(len(state.ids), -1, dtype=np.int64)
        for i, page_id in enumerate(vectors.ids):
            was = old_row.get(page_id)
            if was is not None:
                new_of_old[was] = i
                changed[i] = state.hashes[was] != hashes[i]
        stale = (new_of_old < 0) | changed[np.maximum(new_of_old, 0)]
        search = {i for i in search if changed[i]}
        unit = unit_rows(vectors.page)
        # unchanged compared pages keep their list (row `list_row[i]` of the state), renumbered;
        # those naming a changed or removed page keep it only if `_keeps` says so
        list_row = np.full(n, -1, dtype=np.int64)
        present = np.flatnonzero(new_of_old >= 0)
        list_row[new_of_old[present]] = present
        list_row[~eligible | changed] = -1
        assert state.near_scores is not None
        near = PatchedRows(taken(Ragged(new_of_old[state.near.values], state.near.offsets),
                                 list_row))
        near_scores = PatchedRows(taken(state.near_scores, list_row))  # a copy `_keeps` updates
        listed = np.flatnonzero(list_row >= 0)
        radius[listed] = state.radius[list_row[listed]]
        naming = any_per_row(stale[state.near.values], state.near.offsets)
        for i in listed[naming[list_row[listed]]].tolist():
            if not _keeps(unit, eligible, i, near[i], stale[state.near[int(list_row[i])]],
                          near_scores[i], float(radius[i])):
                search.add(i)
        search |= _entering(unit, near, radius, eligible, np.flatnonzero(changed & eligible))
        ends = new_of_old[state.candidates]
        kept = (ends >= 0).all(axis=1) & ~changed[np.maximum(ends, 0)].any(axis=1)
        old_pairs = _pair_keys(ends[kept, 0], ends[kept, 1], n)
    found, found_scores, radii = neighbour_lists(vectors, store, collection, sorted(search), k)
    for i, mine in found.items():
        near[i], near_scores[i], radius[i] = mine, found_scores[i], radii[i]
    buckets = _buckets(vectors, signatures, eligible, changed,
                       previous.state if usable and previous is not None else None, new_of_old)
    lists = near.flat()
    candidates = union(
        _pair_keys(np.repeat(np.arange(n), np.diff(lists.offsets)), lists.values, n),
        _pair_keys(buckets[:, 0], buckets[:, 1], n))
    carried = np.intersect1d(candidates, old_pairs, assume_unique=True)
    fresh = np.setdiff1d(candidates, carried, assume_unique=True)
    fresh_records = score_pairs(vectors, set(zip((fresh // n).tolist(), (fresh % n).tolist(),
                                                 strict=True)), signatures)
    carried_rows = row_of_old = None
    if usable and previous is not None and new_of_old is not None and len(carried):
        old = previous.table
        row_of_old = new_of_old if old.ids == previous.state.ids else places_in(old.ids, vectors.ids)
        ends = row_of_old[np.stack([old.a, old.b], axis=1)]
        alive = (ends >= 0).all(axis=1)
        carried_rows = np.zeros(len(old), dtype=bool)
        carried_rows[alive] = within(_pair_keys(ends[alive, 0], ends[alive, 1], n, unique=False),
                                     carried)
    table = build_table(vectors.ids, fresh_records, previous.table if previous else None,
                        carried_rows, row_of_old)
    scores = table.strong()
    place = places(vectors.ids)
    old_cliques = previous.state.cliques if usable and previous is not None else None
    if old_cliques is None or previous is None or new_of_old is None:
        cliques = RankedCliques.of(cliques_of.find(_adjacency(scores)), scores, place)
    else:  # the strong graph moved only at pairs scored now and pairs no longer carried over
        rescored = set(np.concatenate([fresh // n, fresh % n]).tolist())
        old = previous.table
        dropped = (old.band < 2) & ~(carried_rows if carried_rows is not None
                                     else np.zeros(len(old), dtype=bool))
        # a page of the previous build that is gone is node -1 - its old row
        old_nodes = np.array(_nodes(places_in(old.ids, vectors.ids)), dtype=np.int64)
        touched = rescored | set(old_nodes[old.a[dropped]].tolist()) | set(
            old_nodes[old.b[dropped]].tolist())
        cliques = old_cliques.updated(np.array(_nodes(new_of_old), dtype=np.int64), scores, touched,
                                 rescored, place)
    clusters = cliques.clusters(scores, vectors.ids)
    row_of = {page_id: i for i, page_id in enumerate(vectors.ids)}
    table = table.with_clusters({row_of[p]: c["id"] for c in clusters for p in c["pages"]})
    compared = int(eligible.sum())
    summary = {"thresholds": scoring.thresholds(), "neighbours": k,
               "counts": {"pages_compared": compared, "candidate_pairs": len(candidates),
                          "all_pairs": compared * (compared - 1) // 2, "pairs": len(table),
                          "clusters": len(clusters), "pages_searched": len(found),
                          "pairs_scored": len(candidates) - len(carried)},
               "clusters": clusters}
    state = PairsState(list(vectors.ids), hashes, lists, radius,
                       np.stack([candidates // n, candidates % n], axis=1), state_params(k),
                       cliques, near_scores.flat(), buckets)
    return PairsArtefact(summary, table), state


def _buckets(vectors: CorpusVectors, signatures: Signatures | None,
             eligible: npt.NDArray[np.bool_], changed: npt.NDArray[np.bool_],
             state: PairsState | None, new_of_old: Idx | None) -> Idx:
    """The LSH bucket pairs (b, 2) of this build: the previous build's between unchanged pages
    (their signatures are the same) plus those of the changed pages, found from their
    signatures alone; all of them found afresh without a previous state."""
    if state is None or state.buckets is None or new_of_old is None:
        found = _bucket_pairs(vectors, signatures, eligible)
    else:
        ends = new_of_old[state.buckets]
        alive = (ends >= 0).all(axis=1)
        ends = ends[alive]
        ends = ends[~changed[ends].any(axis=1)]
        found = {(int(a), int(b)) for a, b in np.sort(ends, axis=1).tolist()}
        found |= _bucket_pairs(vectors, signatures, eligible, np.flatnonzero(changed).tolist())
    return np.array(sorted(found), dtype=np.int64).reshape(-1, 2)


def _nodes(rows: Idx) -> list[int]:
    """Rows of a previous build as nodes of this one: the row now, or -1 - the old row for a
    page that is gone (still a node of the graph before)."""
    nodes: list[int] = np.where(rows >= 0, rows, -1 - np.arange(len(rows))).tolist()
    return nodes


def _pair_keys(a: Idx, b: Idx, n: int, *, unique: bool = True) -> Idx:
    """Pairs of rows as keys `min * n + max`, sorted and distinct unless `unique` is off (set
    algebra in numpy: a 10k-page corpus has ~200k candidate pairs)."""
    keys = (np.minimum(a, b) * n + np.maximum(a, b)).astype(np.int64)
    return distinct(keys) if unique else keys


def _keeps(unit: Vectors, eligible: npt.NDArray[np.bool_], i: int, near: Idx,
           moved: npt.NDArray[np.bool_], scores: Floats, radius: float) -> bool:
    """Does page i's list keep the `moved` pages it names (changed or removed), unsearched?
    Each is still there and compared, and its score before and now clear the radius by MARGIN:
    it was not the k-th entry and is still in, so the list and its radius stand (their scores
    are updated in place)."""
    pages = near[moved]
    if (pages < 0).any():
        return False  # a removed page's place is taken by one not known yet
    now = unit[pages] @ unit[i]
    if not (eligible[pages].all() and (scores[moved] > radius + MARGIN).all()
            and (now > radius + MARGIN).all()):
        return False
    scores[moved] = now
    return True


def _entering(unit: Vectors, near: Sequence[Idx], radius: npt.NDArray[np.float32],
              eligible: npt.NDArray[np.bool_], changed: Idx) -> set[int]:
    """Compared pages whose list a changed page's vector now enters (reaches its radius)
    without being in it already."""
    if not len(changed):
        return set()
    reach = (unit @ unit[changed].T >= radius[:, None] - MARGIN) & eligible[:, None]
    out = set()
    for i, c in zip(*np.nonzero(reach), strict=True):
        page, other = int(i), int(changed[int(c)])
        if page != other and other not in near[page]:
            out.add(page)
    return out
