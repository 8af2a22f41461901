"""Metrics and data loaders shared by the quality benches (bench/quality.py, bench/related_cv.py).

Judged data lives in tests/data: judged_queries.json (corpus/, grades 1-3) and site_queries.json,
site_overlap_pairs.json (the site corpus, ../shared/corpora/nkdagility); how each was made is in
its `description`. The site's own related lists (data.index.related.json) are read from the
corpus folder itself.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from principles.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SITE = ROOT.parent / "shared" / "corpora" / "nkdagility"
SEEDS = ROOT.parent / "shared" / "seeds"
KINDS = ("keyword", "paraphrase", "conceptual", "draft")
RELATED_FILE = "data.index.related.json"


@contextmanager
def site_build(index: Path | None) -> Iterator[tuple[Settings, Path]]:
    """Settings over the site corpus and the current build of `index`; without one, the site
    is ingested into a temporary folder that lasts as long as the block."""
    from ingest.pipeline import ingest
    from principles.index import IndexLayout
    from principles.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(corpus_dir=SITE, index_dir=index or Path(tmp) / "site")
        if index is None:
            ingest(settings)
        build = IndexLayout(settings.index_dir).current_build()
        assert build is not None, f"no build in {settings.index_dir}"
        yield settings, build


def ndcg(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    dcg = sum((2 ** relevant.get(pid, 0) - 1) / math.log2(i + 2) for i, pid in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum((2 ** rel - 1) / math.log2(i + 2) for i, rel in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant) if relevant else 0.0


def mrr(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    """Reciprocal rank of the first page graded as a main answer (the top grade present)."""
    best = max(relevant.values(), default=0)
    for i, pid in enumerate(ranked[:k]):
        if relevant.get(pid, 0) == best:
            return 1.0 / (i + 1)
    return 0.0


def load_queries(name: str, served: set[str]) -> list[dict[str, Any]]:
    """Judged queries with relevance restricted to pages the service serves (drafts are never
    answers), and queries left with no relevant page dropped."""
    out = []
    for q in json.loads((DATA / name).read_text("utf-8"))["queries"]:
        relevant = {pid: grade for pid, grade in q["relevant"].items() if pid in served}
        if relevant:
            out.append({**q, "relevant": relevant})
    return out


def site_related_lists(served: set[str], top: int = 5) -> dict[str, list[str]]:
    """The site's own related list per page, best first, cut to `top` pages we serve."""
    lists: dict[str, list[str]] = {}
    for path in sorted(SITE.rglob(RELATED_FILE)):
        source = path.parent.relative_to(SITE).as_posix()
        rows = json.loads(path.read_text("utf-8")).get("related", [])
        refs = [r["Reference"] for r in sorted(rows, key=lambda r: -float(r["Similarity"]))
                if r["Reference"] in served and r["Reference"] != source]
        if source in served and refs:
            lists[source] = refs[:top]
    return lists


def agreement(ours: list[str], theirs: list[str], k: int = 10) -> float:
    """Share of the site's list found in our top k."""
    return len(set(ours[:k]) & set(theirs)) / len(theirs)


def overlap_pairs() -> list[dict[str, str]]:
    pairs: list[dict[str, str]] = json.loads((DATA / "site_overlap_pairs.json").read_text("utf-8"))["pairs"]
    return pairs
