"""What the MCP tools read: the same objects the HTTP handlers are given, opened once."""

from __future__ import annotations

from dataclasses import dataclass

from principles.settings import Settings
from service.index import IndexView
from service.overlap import OverlapService
from service.search import SearchEngine
from service.sparql.endpoint import SparqlService


@dataclass(frozen=True)
class Backend:
    settings: Settings
    index: IndexView
    engine: SearchEngine
    overlap: OverlapService
    sparql: SparqlService

    def close(self) -> None:
        self.sparql.close()
        self.engine.close()


def open_backend(settings: Settings) -> Backend:
    """Open the current build as create_app does (raising IndexProblem with the fixing command)
    and start the SPARQL workers: what `principles mcp` serves over stdio."""
    from service.controllers.navigation import navigation
    from service.engines import open_search, query_encoder
    from service.index import open_index

    view = open_index(settings)
    navigation(view)
    engine = open_search(settings, view, query_encoder(settings, view))
    engine.warm_up()
    sparql = SparqlService(settings, view)
    sparql.start()
    return Backend(settings, view, engine, OverlapService(settings, view, engine), sparql)
