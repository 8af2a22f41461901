"""Overlap of a checked page with the pages already in the index, as findings with an action.

The overlap finder decides (principles.overlap: bands and thresholds calibrated on the site
corpus); this module only turns its bands into what an author should do:
near-duplicate -> merge into the other page and keep this url as an alias (error: publishing
a copy splits readers and search ranking); strong overlap -> differentiate or merge (warning);
related -> link to it (info, and only when the page does not link there already).
"""

from __future__ import annotations

from ingest.check.findings import CheckFinding, Evidence
from principles.embedder import QueryEncoder
from principles.overlap import scoring
from principles.overlap.draft import Draft
from principles.overlap.finder import OverlapFinder
from principles.overlap.results import DraftOverlap

RELATED_SHOWN = 3  # "link to X" suggestions per page
SNIPPET = 280


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET else text[: SNIPPET - 1].rsplit(" ", 1)[0] + "…"


def _other(result: DraftOverlap) -> dict[str, object]:
    return {"id": result.id, "title": result.title, "url": result.url, "type": result.type,
            "band": result.band, "score": result.score, "covered": result.covered,
            "jaccard": result.jaccard, "shared_terms": [t.label for t in result.shared_terms]}


def overlap_findings(finder: OverlapFinder, encoder: QueryEncoder, draft: Draft, *, file: str,
                     url: str, exclude: frozenset[str], linked: set[str],
                     line: int | None) -> list[CheckFinding]:
    """`exclude`: the page's own id (and its id before a rename) and pages whose files are gone;
    `linked`: page ids the page already links to."""
    report = finder.find(encoder, draft, limit=10, min_score=scoring.RELATED, exclude=exclude)
    out: list[CheckFinding] = []
    related = 0
    for result in report.results:
        name = f"{result.title!r} ({result.url})"
        measure = (f"score {result.score:.2f}, {result.covered:.0%} of this page's text matched"
                   + (f", shingle Jaccard {result.jaccard:.2f}" if result.jaccard else ""))
        if result.band == scoring.BANDS[0]:
            severity, kind = "error", "near-duplicate"
            message = f"near-duplicate of {name}: {measure}"
            action = f"merge this page into {result.id} and add {url} to its aliases"
        elif result.band == scoring.BANDS[1]:
            severity, kind = "warning", "strong-overlap"
            message = f"strong overlap with {name}: {measure}"
            action = (f"differentiate this page from {result.id} (a different main argument), "
                      f"or merge it into {result.id} and add {url} to its aliases")
        elif result.band == scoring.BANDS[2]:
            if result.id in linked or related == RELATED_SHOWN:
                continue
            related += 1
            severity, kind = "info", "related"
            message = f"related to {name}: {measure}"
            action = f"link to {result.url}"
        else:
            continue
        evidence = [Evidence(similarity=m.similarity, page=_snippet(m.source.text),
                             other=_snippet(m.target.text)) for m in result.evidence]
        out.append(CheckFinding(file=file, line=line, severity=severity, kind=kind,
                                message=message, action=action, other=_other(result),
                                evidence=evidence))
    return out
