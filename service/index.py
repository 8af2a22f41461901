"""Read-only view of one index build: opened once at start-up, checked against Settings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import networkx as nx

from principles.contract import NETWORK_FILE, PAGE_PREFIX, PageRecord, read_records
from principles.editorial import Editorial
from principles.embedder import resolve_model_path
from principles.errors import IndexProblem
from principles.index import INDEX_FORMAT, IndexLayout, Manifest
from principles.paths import check_reference, normalise_site_path
from principles.related_store import FILE as RELATED_FILE
from principles.related_store import RelatedTable
from principles.settings import Settings
from service.near import NearPaths

INGEST_HINT = "run `principles ingest --corpus DIR --index {index}` (or `make run`)"


@dataclass(frozen=True)
class PageRef:
    id: str
    record: PageRecord


def model_dimension(model: str) -> int | None:
    """The embedding size of a local model, read from its pooling config (no torch import)."""
    pooling = Path(resolve_model_path(model)) / "1_Pooling" / "config.json"
    try:
        return int(json.loads(pooling.read_text("utf-8"))["word_embedding_dimension"])
    except (OSError, ValueError, KeyError):
        return None


def read_network(source: Path) -> nx.MultiDiGraph:
    """The networkx graph ingest wrote: nodes `page:<id>` and `term:<kind>/<slug>`; edge
    kinds has_tag, has_category, has_concept, defines, broader, related, similar."""
    data = json.loads(source.read_text("utf-8"))
    graph = nx.node_link_graph(data, directed=True, multigraph=True, edges="edges")
    assert isinstance(graph, nx.MultiDiGraph)
    return graph


class IndexView:
    """Pages, terms and aliases of the current build, with lookups by id, url or alias."""

    def __init__(self, build: Path, manifest: Manifest, settings: Settings) -> None:
        self.build = build
        self.manifest = manifest
        self.include_drafts = settings.include_drafts
        records = read_records(build)
        self.pages = records.pages
        self.terms = records.terms
        self.paths = records.aliases["paths"]
        self.alias_rule = records.aliases["rule"]
        self.alias_conflicts = records.aliases["conflicts"]
        self.related = RelatedTable(build / RELATED_FILE)
        self.network = read_network(build / NETWORK_FILE)
        # Pages this service never shows leave the graph once, here: navigation walks this
        # graph as it is, instead of keeping a filtered copy (as much memory again).
        self.network.remove_nodes_from([
            node for node, data in self.network.nodes(data=True) if data.get("kind") == "page"
            and ((page := self.pages.get(node.removeprefix(PAGE_PREFIX))) is None
                 or not self.visible(page))])

    @cached_property
    def editorial(self) -> Editorial:
        """The editor's related-link rules of this build (principles/editorial.py)."""
        return Editorial.load(self.build)

    @cached_property
    def near_paths(self) -> NearPaths:
        """Near-miss lookup over every url and alias (built on the first unknown path)."""
        return NearPaths(self.paths)

    @cached_property
    def served_pages(self) -> int:
        """Pages this service shows (counted once: /health must stay O(1) at 50k pages)."""
        return sum(1 for p in self.pages.values() if self.visible(p))

    @cached_property
    def page_types(self) -> frozenset[str]:
        """Every page type in the build: the values a `type` filter may take."""
        return frozenset(p["type"] for p in self.pages.values())

    @property
    def version(self) -> str:
        return self.manifest.build_id

    def visible(self, page: PageRecord) -> bool:
        return self.include_drafts or not page["draft"]

    def find(self, ref: str) -> PageRecord | None:
        """A page by id (`tags/x`), url (`/tags/x/`) or alias, drafts hidden unless enabled."""
        check_reference(ref)
        ref = ref.strip()
        page = self.pages.get(ref.strip("/")) or self.pages.get(ref)
        if page is None:
            page_id = self.paths.get(normalise_site_path(ref))
            page = self.pages.get(page_id) if page_id else None
        return page if page is not None and self.visible(page) else None


def check_index(settings: Settings, build: Path | None = None) -> tuple[Path, Manifest]:
    """The build `open_index` would open (default: the current one) and its manifest, checked
    against Settings without loading it; raises IndexProblem naming the fixing command."""
    index = settings.index_dir
    hint = INGEST_HINT.format(index=index)
    build = build or IndexLayout(index).current_build()
    if build is None:
        raise IndexProblem(f"no index at {index}; {hint}")
    manifest = Manifest.load(build)
    if manifest.index_format != INDEX_FORMAT:
        raise IndexProblem(f"index {build} has format {manifest.index_format}, this service "
                           f"reads format {INDEX_FORMAT}; {hint} --force")
    if manifest.model != settings.model:
        raise IndexProblem(
            f"index {build} was built with model {manifest.model!r} but PRINCIPLES_MODEL is "
            f"{settings.model!r}; re-ingest with the same model: PRINCIPLES_MODEL={settings.model}"
            f" principles ingest --index {index} --force, or set PRINCIPLES_MODEL={manifest.model}")
    dimension = model_dimension(settings.model)
    if dimension is not None and dimension != manifest.dimension:
        raise IndexProblem(
            f"index {build} holds {manifest.dimension}-dimensional vectors but model "
            f"{settings.model!r} makes {dimension}; {hint} --force")
    return build, manifest


def open_index(settings: Settings, build: Path | None = None) -> IndexView:
    """Open `build` (default: the current one) or raise IndexProblem naming the command
    that fixes it."""
    build, manifest = check_index(settings, build)
    try:
        return IndexView(build, manifest, settings)
    except (OSError, ValueError, KeyError) as exc:
        hint = INGEST_HINT.format(index=settings.index_dir)
        raise IndexProblem(f"index {build} is damaged ({exc}); {hint} --force") from exc
