"""GET /v1/related: the widget's related content, a lookup in what ingest precomputed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from litestar import get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import Parameter
from litestar.serialization import encode_json
from litestar.types import ASGIApp

from principles import editorial
from principles.contract import PageRecord
from principles.page_types import HUB_TYPES
from service.answers import OK, AnswerCache, JsonAnswer
from service.controllers.pages import require_page
from service.feature import Feature, provide
from service.guards import check_page_type
from service.index import IndexView
from service.models import PassageEvidence, PassagePair, Reasons, RelatedResponse, RelatedResult, TermRef

if TYPE_CHECKING:
    from service.services import Services


MAX_LIMIT = 30


def related_rows(index: IndexView, page_id: str, limit: int, *, type: str | None = None,
                 hubs: bool = False) -> list[dict[str, Any]]:
    """The precomputed rows the endpoint answers with: served pages only, of one type when
    asked, hub pages only when asked (`hubs`, or a `type` that is a hub type)."""
    def allowed(target: PageRecord) -> bool:
        if not index.visible(target) or (type and target["type"] != type):
            return False
        return bool(hubs or type) or target["type"] not in HUB_TYPES

    rows = [row for row in index.related.rows(page_id) if allowed(index.pages[row["id"]])]
    if index.editorial.empty:
        return rows[:limit]
    # the editor's pins, exclusions and site rules, layered over the computed rows
    return editorial.apply(index.editorial, index.pages[page_id], rows, index.pages, allowed, limit)


def _passage(page: PageRecord, index: int) -> PassageEvidence:
    spans = page["passages"]
    start, end = spans[index] if 0 <= index < len(spans) else (0, 0)
    text = page["body"][start:end] if end else (page["description"] or "")
    return PassageEvidence(index=index, start=start, end=end, text=text)


def _term(index: IndexView, key: str) -> TermRef:
    term = index.terms.get(key)
    return TermRef.of(key, term["label"] if term else None)


@get("/v1/related", operation_id="related", tags=["related"], summary="Related pages for a page",
     description="Passage coverage both ways, page similarity and shared concepts, categories "
                 "and tags weighted by rarity. Each result says why (`reasons`). Content pages "
                 "only by default, as the site's widget lists them; `hubs=true` adds tag, "
                 "category, concept and section pages.",
     responses={200: ResponseSpec(data_container=RelatedResponse, description=OK)})
async def related(
    related_answers: NamedDependency[RelatedAnswers],
    page: Annotated[str, Parameter(description="Page id, url or alias")],
    limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = 5,
    type: Annotated[str | None, Parameter(description="Only pages of this type (one of the "
                                          "index's page types, e.g. article, tag; 422 otherwise)")] = None,
    hubs: Annotated[bool, Parameter(description="Also list tag, category, concept and section "
                                                "pages (hubs of a term)")] = False,
) -> ASGIApp:
    # The RelatedResponse, serialised once per build and parameters and sent as it is.
    return JsonAnswer(related_answers.answer(page, limit, type, hubs))


@dataclass(frozen=True)
class RelatedAnswers:
    """The handler's one dependency (Litestar resolves two or more in a task group per
    request, which cost more than the answer): the build and its answers as JSON bytes
    (service/answers.py), kept because the widget asks for the same pages over and over and
    building an answer cost several times the rest of the request."""

    index: IndexView
    cache: AnswerCache

    def answer(self, page: str, limit: int, type: str | None, hubs: bool) -> bytes:
        return self.cache.get((page, limit, type, hubs), lambda: encode_json(
            related_pages(self.index, page, limit, type, hubs)))


def related_pages(index: IndexView, page: str, limit: int, type: str | None,
                  hubs: bool = False) -> RelatedResponse:
    """The related answer; also the MCP `related` tool's."""
    check_page_type(type, index.page_types)
    source = require_page(index, page)
    results = []
    for row in related_rows(index, source["id"], limit, type=type, hubs=hubs):
        target = index.pages[row["id"]]
        a, b = row["pair"]
        results.append(RelatedResult(
            id=target["id"], title=target["title"], url=target["url"], type=target["type"],
            score=row["score"],
            reasons=Reasons(
                shared_terms=[_term(index, key) for key in row["shared"]],
                passages=PassagePair(similarity=row["passage"], source=_passage(source, a),
                                     target=_passage(target, b)),
                signals={name: row[name] for name in ("coverage", "dense", "graph", "passage")},
                editor=row.get("editor"),
            )))
    return RelatedResponse(page=source["id"], results=results)


def feature(services: Services) -> Feature:
    answers = RelatedAnswers(services.index, services.related_answers)
    return Feature([related], {"related_answers": provide(answers)})
