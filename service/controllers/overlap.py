"""POST /v1/overlap (what already covers my draft) and GET /v1/overlap/pairs (which pages
duplicate each other). Mounted as one router that provides the `overlap` dependency."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import anyio
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from principles.overlap import scoring
from principles.overlap.results import DraftReport, PairsReport
from service.feature import Feature, provide
from service.json_guard import json_body_guard
from service.overlap import DraftRequest, OverlapService

if TYPE_CHECKING:
    from service.services import Services

TAGS = ["overlap"]
MAX_LIMIT = 50
SCORING = ("score = 0.5 page-vector cosine + 0.5 passage coverage (length-weighted mean best "
           "passage cosine); bands: near-duplicate (MinHash Jaccard of 5-word shingles >= 0.5, or "
           f"the shorter text >= 80% contained), strong overlap (score >= {scoring.STRONG}), "
           f"related (score >= {scoring.RELATED}).")


@post("/v1/overlap", operation_id="overlapDraft", tags=TAGS, status_code=200,
      summary="Existing pages that cover a draft",
      description="Ranks pages by how much of the draft they cover, each with a band and the "
                  "evidence: draft passage <-> page passage pairs with their cosine, and shared "
                  "terms (declared in `tags`/front matter or named in the text). Passage offsets "
                  "point into the draft's plain text. " + SCORING)
async def overlap_draft(
    request: Request[Any, Any, Any],
    data: JSONBody[DraftRequest],
    overlap: NamedDependency[OverlapService],
    limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT, description="Pages returned")] = 10,
    min_score: Annotated[float, Parameter(ge=0.0, le=1.0, description="Lowest score returned; "
                                          "near-duplicates are always returned")] = scoring.RELATED,
) -> DraftReport:
    return await overlap.check(data, limit, min_score, receive=request.receive)


@get("/v1/overlap/pairs", operation_id="overlapPairs", tags=TAGS,
     summary="Overlapping page pairs across the corpus, and clusters of 3+ pages",
     description="Precomputed at ingest (candidates from page nearest neighbours and MinHash LSH, "
                 "never all pairs). `id` is the page more covered by `other`; `covered` and "
                 "`other_covered` are the shares of each page's text matched by the other. "
                 "Pairs are stored down to the related threshold; tag, category, concept and "
                 "section pages are not compared. " + SCORING)
async def overlap_pairs(
    overlap: NamedDependency[OverlapService],
    min_score: Annotated[float, Parameter(ge=0.0, le=1.0, description="Lowest pair score "
                                          "returned")] = scoring.STRONG,
    limit: Annotated[int, Parameter(ge=1, le=500, description="Pairs returned")] = 100,
) -> PairsReport:
    # Off the event loop: the first call reads the pairs file (~45 MB at 10k pages) and every
    # call filters and sorts all stored pairs.
    return await anyio.to_thread.run_sync(overlap.pairs, min_score, limit)


def feature(services: Services) -> Feature:
    """The two handlers on one router that provides the `overlap` dependency and bounds the
    nesting of JSON bodies."""
    return Feature([Router(path="/", route_handlers=[overlap_draft, overlap_pairs],
                           dependencies={"overlap": provide(services.overlap)},
                           before_request=json_body_guard(services.settings.max_json_depth))])
