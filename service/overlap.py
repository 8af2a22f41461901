"""The overlap finder inside the service: opened once per build, read-only afterwards.

The draft path shares the search engine's vector store and model thread (every torch call
in the server runs on that one thread); the corpus-wide pairs are a lookup in what ingest
wrote, read on the first request that needs them. Older builds without overlap data still
answer drafts (without the MinHash signal); the pairs endpoint then says which command adds
the data.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import anyio
from litestar.types import Receive

from principles.contract import Chunking
from principles.errors import ContentTooLarge, InvalidParameter, Unavailable
from principles.overlap import artefacts
from principles.overlap.draft import Draft, DraftError, DraftTooLong, parse_draft
from principles.overlap.finder import OverlapFinder
from principles.overlap.pair_table import PairsArtefact
from principles.overlap.results import DraftReport, PairsReport
from principles.settings import Settings
from service.index import IndexView
from service.search import SearchEngine


@dataclass
class DraftRequest:
    """A draft to check: markdown (front matter optional) or plain text."""

    text: str
    title: str | None = None
    tags: list[str] | None = None


class OverlapService:
    def __init__(self, settings: Settings, index: IndexView, engine: SearchEngine) -> None:
        self.index = index
        self.engine = engine
        self.max_words = settings.overlap_max_draft_words
        self.chunking = Chunking.of(index.manifest.chunking, settings)
        self._pairs_lock = threading.Lock()
        self._pairs: tuple[PairsArtefact | None] | None = None  # (artefact,) once read
        signatures = artefacts.load_signatures(index.build)
        if signatures is not None:
            _ = signatures.lsh  # build the LSH index now, not on the first request
        self.finder = OverlapFinder(index.pages, index.terms, engine.store,
                                    index.manifest.collections, signatures,
                                    include_drafts=settings.include_drafts,
                                    candidates=settings.overlap_candidates)

    def parse(self, request: DraftRequest) -> Draft:
        try:
            return parse_draft(request.text, title=request.title, tags=request.tags,
                               passage_words=self.chunking.passage_words,
                               passage_overlap=self.chunking.passage_overlap,
                               max_words=self.max_words)
        except DraftTooLong as exc:
            raise ContentTooLarge(f"{exc.field}: {exc}") from exc
        except DraftError as exc:
            raise InvalidParameter(f"{exc.field}: {exc}") from exc

    async def check(self, request: DraftRequest, limit: int, min_score: float,
                    receive: Receive | None = None) -> DraftReport:
        """Admitted through the drafts lane (its own model thread, so searches never wait
        behind a draft): 503 with Retry-After at once when it is full, before any parsing."""
        lane = self.engine.lanes.drafts
        lane.check()
        # Off the event loop: cleaning a 1 MB draft takes a while (its YAML is bounded).
        draft = await anyio.to_thread.run_sync(self.parse, request)

        def work() -> DraftReport:
            return self.finder.find(self.engine.encoder, draft, limit=limit, min_score=min_score)

        # One hop to the drafts lane for encoding and the store queries together.
        return await lane.run(work, receive)

    def artefact(self) -> PairsArtefact | None:
        """The corpus-wide pairs, read on first use (only GET /v1/overlap/pairs needs them):
        their columns, and their records memory-mapped, decoded only when returned."""
        with self._pairs_lock:
            if self._pairs is None:
                self._pairs = (artefacts.load_pairs(self.index.build),)
            return self._pairs[0]

    def pairs(self, min_score: float, limit: int) -> PairsReport:
        artefact = self.artefact()
        if artefact is None:
            raise Unavailable(artefacts.MISSING.format(index=self.index.build.parent.parent))
        return artefacts.pairs_report(artefact, self.index.pages, self.index.terms,
                                      self.index.visible, min_score=min_score, limit=limit)


def check_draft_offline(settings: Settings, view: IndexView, request: DraftRequest, limit: int,
                        min_score: float) -> DraftReport:
    """One draft against a build without a running server (`principles overlap DRAFT`): the
    API's code path, with a store and an encoder of its own."""
    from principles.embedder import Encoder
    from service.engines import open_vectors

    chunks = Chunking.of(view.manifest.chunking, settings)
    draft = parse_draft(request.text, title=request.title, tags=request.tags,
                        passage_words=chunks.passage_words,
                        passage_overlap=chunks.passage_overlap,
                        max_words=settings.overlap_max_draft_words)
    store = open_vectors(settings, view)
    try:
        finder = OverlapFinder(view.pages, view.terms, store, view.manifest.collections,
                               artefacts.load_signatures(view.build),
                               include_drafts=settings.include_drafts,
                               candidates=settings.overlap_candidates)
        return finder.find(Encoder(settings.model, settings.batch_size), draft, limit=limit,
                           min_score=min_score)
    finally:
        store.close()
