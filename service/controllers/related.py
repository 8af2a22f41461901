"""GET /v1/related: the widget's related content, a lookup in what ingest precomputed."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get
from litestar.di import NamedDependency
from litestar.params import Parameter

from service.controllers.pages import require_page
from service.index import IndexView
from service.models import PassageEvidence, PassagePair, Reasons, RelatedResponse, RelatedResult, TermRef

MAX_LIMIT = 30


def _passage(page: dict[str, Any], index: int) -> PassageEvidence:
    spans = page["passages"]
    start, end = spans[index] if 0 <= index < len(spans) else (0, 0)
    text = page["body"][start:end] if end else (page["description"] or "")
    return PassageEvidence(index=index, start=start, end=end, text=text)


def _term(index: IndexView, key: str) -> TermRef:
    kind, slug = key.split("/", 1)
    term = index.terms.get(key)
    return TermRef(kind=kind, slug=slug, label=term["label"] if term else slug, id=key)


@get("/v1/related", operation_id="related", tags=["related"], summary="Related pages for a page",
     description="Hybrid: shared concepts, categories and tags weighted by rarity, fused with "
                 "page and passage embedding similarity. Each result says why (`reasons`).")
async def related(
    index: NamedDependency[IndexView],
    page: Annotated[str, Parameter(description="Page id, url or alias")],
    limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = 5,
    type: Annotated[str | None, Parameter(description="Only pages of this type")] = None,
) -> RelatedResponse:
    return related_pages(index, page, limit, type)


def related_pages(index: IndexView, page: str, limit: int, type: str | None) -> RelatedResponse:
    """The related answer; also the MCP `related` tool's."""
    source = require_page(index, page)
    results = []
    for row in index.related.rows(source["id"]):
        target = index.pages[row["id"]]
        if not index.visible(target) or (type and target["type"] != type):
            continue
        a, b = row["pair"]
        results.append(RelatedResult(
            id=target["id"], title=target["title"], url=target["url"], type=target["type"],
            score=row["score"],
            reasons=Reasons(
                shared_terms=[_term(index, key) for key in row["shared"]],
                passages=PassagePair(similarity=row["passage"], source=_passage(source, a),
                                     target=_passage(target, b)),
                signals={"graph": row["graph"], "dense": row["dense"], "passage": row["passage"]},
            )))
        if len(results) == limit:
            break
    return RelatedResponse(page=source["id"], results=results)
