"""POST /v1/overlap (what already covers my draft) and GET /v1/overlap/pairs (which pages
duplicate each other). Mounted as one router that provides the `overlap` dependency."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, Parameter

from principles.overlap import scoring
from principles.overlap.results import DraftReport, PairsReport
from principles.settings import Settings
from service.index import IndexView
from service.json_guard import json_body_guard
from service.overlap import DraftRequest, OverlapService
from service.search import SearchEngine

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


def overlap_router(settings: Settings, index: IndexView, engine: SearchEngine,
                   service: OverlapService | None = None) -> Router:
    """The overlap handlers with their service, opened now (signatures, LSH; the pairs on
    first use) unless the caller already opened it (create_app shares it with /mcp)."""
    service = service or OverlapService(settings, index, engine)

    def provide_overlap() -> OverlapService:
        return service

    return Router(path="/", route_handlers=[overlap_draft, overlap_pairs],
                  dependencies={"overlap": Provide(provide_overlap, sync_to_thread=False)},
                  before_request=json_body_guard(settings.max_json_depth))
