"""How much one text covers another, the bands, and the calibrated thresholds.

Calibration on the site corpus (bench/quality.py, tests/data/site_overlap_pairs.json: 106 pairs
labelled by reading both pages, 44 duplicate or strong, 62 same-topic "not"; all-MiniLM-L6-v2,
150-word passages). Each labelled pair is checked as an author would (page a's file as a draft):
- same-topic pairs score as high as real overlaps (up to 0.84 for two planning tags, 0.80 for a
  video and a signal on the same backlog theme): the embedding sees the subject, not whether the
  main argument is the same. STRONG is therefore set for precision: at 0.75, 12 of 13 flagged
  pairs are labelled duplicate or strong (0.66, the corpus/ calibration, flagged 36 pairs of
  which 12 were same-topic only). Recall is the price (about a quarter of the labelled pairs).
- hub pages (tags, categories, concepts, sections) are at most "related": 25 of the 62
  same-topic pairs involve one, and a tag page summing up its subject is what a taxonomy is for.
- 5-word shingle Jaccard >= 0.5 or containment >= 0.8 (copied text) is a near-duplicate at any
  score; on the site corpus both copied pairs clear it.
- RELATED (0.55) keeps shared-subject pages visible as "related".
- a passage counts as covered at cosine >= 0.65.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

STRONG = 0.75
RELATED = 0.55
NEAR_DUPLICATE = 0.5  # MinHash Jaccard of 5-word shingles
CONTAINED = 0.8  # share of the smaller text's shingles found in the other
MIN_CONTAINED_SHINGLES = 50  # below this a few stock phrases would make "containment"
PASSAGE_MATCH = 0.65
PAGE_WEIGHT = 0.5
EVIDENCE = 3

BANDS = ("near-duplicate", "strong overlap", "related", "none")
Matrix = npt.NDArray[np.float32]
Weights = npt.NDArray[np.float64]


def thresholds() -> dict[str, float]:
    return {"strong": STRONG, "related": RELATED, "near_duplicate_jaccard": NEAR_DUPLICATE,
            "near_duplicate_containment": CONTAINED, "passage_match": PASSAGE_MATCH}


def band(score: float, jaccard: float | None = None, containment: float | None = None, *,
         hub: bool = False) -> str:
    """Near-duplicate needs copied wording; the other bands are semantic. A hub page (tag,
    category, concept, section) is at most "related": it exists to sum up its subject, so
    sharing that subject is not an overlap an author should merge."""
    if jaccard is not None and jaccard >= NEAR_DUPLICATE:
        return BANDS[0]
    if containment is not None and containment >= CONTAINED:
        return BANDS[0]
    if score >= STRONG and not hub:
        return BANDS[1]
    return BANDS[2] if score >= RELATED else BANDS[3]


def combine(page_cosine: float, passage_coverage: float) -> float:
    return PAGE_WEIGHT * page_cosine + (1.0 - PAGE_WEIGHT) * passage_coverage


@dataclass(frozen=True)
class Coverage:
    """One direction: how well the source's passages are matched in the target."""

    similarity: float  # length-weighted mean of each source passage's best cosine
    covered: float  # length-weighted share of source passages with a match >= PASSAGE_MATCH


def coverage(best: npt.NDArray[np.floating], weights: Weights) -> Coverage:
    total = float(weights.sum()) or 1.0
    return Coverage(similarity=float((weights * best).sum() / total),
                    covered=float((weights * (best >= PASSAGE_MATCH)).sum() / total))


def passage_weights(lengths: list[int]) -> Weights:
    """Longer passages count more; an empty passage (title-only page) still counts once."""
    return np.maximum(np.asarray(lengths, dtype=np.float64), 1.0)


def evidence(sims: Matrix, k: int = EVIDENCE) -> list[tuple[int, int, float]]:
    """The k best (source passage, target passage, cosine), each source passage once."""
    if sims.size == 0:
        return []
    best_target = sims.argmax(axis=1)
    best = sims[np.arange(sims.shape[0]), best_target]
    order = np.argsort(-best, kind="stable")[:k]
    return [(int(i), int(best_target[i]), round(float(best[i]), 4)) for i in order]


def containment(jaccard: float, size_a: int, size_b: int) -> float | None:
    """Share of the smaller shingle set found in the other, from the Jaccard estimate:
    |A and B| = J (|A| + |B|) / (1 + J). None when the smaller text is too short to say."""
    smaller = min(size_a, size_b)
    if smaller < MIN_CONTAINED_SHINGLES:
        return None
    shared = jaccard * (size_a + size_b) / (1.0 + jaccard)
    return round(min(1.0, shared / smaller), 4)
