"""The objects one build is served by: opened once when its app is created, shared
read-only by every feature, HTTP handlers and MCP tools alike."""

from __future__ import annotations

from dataclasses import dataclass

from principles.embedder import QueryEncoder
from principles.settings import Settings
from service.admission import ModelLanes
from service.answers import AnswerCache
from service.controllers.navigation import Navigation, build_navigation
from service.engines import open_search
from service.index import IndexView
from service.overlap import OverlapService
from service.query_vectors import QueryVectors
from service.search import SearchEngine
from service.sparql.endpoint import SparqlService


@dataclass(frozen=True)
class Services:
    settings: Settings
    index: IndexView
    engine: SearchEngine
    navigation: Navigation
    overlap: OverlapService
    sparql: SparqlService  # started by the SPARQL feature's lifespan (or open_services(start=))
    related_answers: AnswerCache  # /v1/related answers as JSON bytes, this build's only

    def close(self) -> None:
        self.sparql.close()
        self.engine.close()


def open_services(settings: Settings, view: IndexView, model: QueryEncoder,
                  lanes: ModelLanes | None = None, vectors: QueryVectors | None = None, *,
                  start_sparql: bool = False, warm: bool = True) -> Services:
    """Everything derived now, not on the first request: the navigation tables, the search
    engine with its model loaded (`warm`), the overlap finder's signatures and LSH index.
    `lanes` and `vectors` (model work and query vectors) are the process's when it serves
    several builds."""
    navigation = build_navigation(view)
    engine = open_search(settings, view, model, lanes, vectors)
    try:
        if warm:
            engine.warm_up()
        sparql = SparqlService(settings, view)
        if start_sparql:
            sparql.start()
        return Services(settings, view, engine, navigation,
                        OverlapService(settings, view, engine), sparql,
                        AnswerCache(settings.answer_cache))
    except BaseException:
        engine.close()
        raise
