"""The build contract: what ingest writes into an index build and the service reads back.

Written once, here. Ingest builds these records and names; the service, the CLI and the
benches read them; nothing else spells a file name, a node name, a collection name or a
graph IRI. (principles/index.py holds the folder layout and the manifest.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import msgspec

if TYPE_CHECKING:
    import pyoxigraph as ox

    from principles.settings import Settings

# Files of a build folder.
PAGES_FILE = "pages.json"
TERMS_FILE = "terms.json"
ALIASES_FILE = "aliases.json"
NETWORK_FILE = "graph.json"
REPORT_FILE = "report.json"
PARSED_FILE = "parsed.json"  # ingest only: what the next ingest need not parse again
GRAPH_NT_FILE = "graph.nt"  # the RDF graph, one sorted line per triple (what SPARQL loads)
GRAPH_TTL_FILE = "graph.ttl"  # the same graph as Turtle, for people
GRAPH_PARTS_FILE = "graph_parts.json"  # where each subject's lines are in both (ingest only)
SHACL_FILE = "shacl.json"  # SHACL findings by focus node (ingest only: the next build's input)
VECTOR_TABLE_DIR = "embeddings"  # every vector of a build in page order, with its text key
# Inside each BM25 folder, beside bm25s's files: the term frequency of every score (tf.npy,
# in the score matrix's order) and the pages its documents belong to (pages.json), so the
# next ingest tokenizes only the documents of changed pages.
BM25_TF_FILE = "tf.npy"
BM25_PAGES_FILE = "pages.json"


class PageRecord(TypedDict):
    """One page of pages.json: the parsed page as ingest resolved it. The next ingest
    rebuilds the page of an unchanged file from this record (ingest/parse_cache.py), so
    every field but `terms`, `passages` and `hash` holds exactly what parsing gave."""

    id: str  # path relative to the corpus root, without /_index.md, /index.md, .md, .txt
    rel_path: str
    title: str
    url: str
    type: str
    body: str  # plain text; passage offsets point into it
    description: str | None
    abstract: str | None
    headline: str | None
    resource_id: str | None
    date: str | None
    modified: str | None
    aliases: list[str]
    term_refs: dict[str, list[str]]  # taxonomy references as written
    terms: dict[str, list[str]]  # resolved term slugs per kind (tags, categories, concepts)
    draft: bool
    weight: int | None
    slug: str | None
    authors: list[str]
    has_front_matter: bool
    taxonomy: list[str] | None  # [kind, slug] when this page defines a term
    related_rules: dict[str, list[str]]  # the editor's pin/exclude references
    passages: list[list[int]]  # [start, end) character offsets into body
    hash: str  # content hash: changes whenever anything stored about the page changes


class TermRecord(TypedDict):
    """One term of terms.json (a tag, category or concept)."""

    kind: str
    slug: str
    label: str
    alt_labels: list[str]
    page_id: str | None  # the page that defines it, if the corpus has one
    broader: list[str]  # term keys
    related: list[str]
    generated: bool  # made from a reference alone (no defining page)


class AliasConflictRecord(TypedDict):
    alias: str
    winner: str
    claimants: list[str]


class AliasesRecord(TypedDict):
    """aliases.json: every site path (url or alias) -> page id, with the rule that chose."""

    rule: str
    paths: dict[str, str]
    conflicts: list[AliasConflictRecord]


class FindingRecord(TypedDict):
    """One report line (ingest/report.py `Finding`) as stored."""

    path: str
    where: str
    problem: str
    action: str
    severity: str
    kind: str


class ParsedFileRecord(TypedDict):
    """One page file of parsed.json: the bytes it had when parsed and what parsing gave."""

    rel: str  # path in the corpus
    digest: str  # sha256 (hex) of the bytes parsed
    page: str | None  # the page id it parsed into (None: skipped); kept pages are in pages.json
    findings: list[FindingRecord]  # the report lines reading and parsing it gave, in order


class ParsedRecord(TypedDict):
    """parsed.json: read by the next ingest only, never by the service."""

    fingerprint: str  # parsing code and settings; another fingerprint reuses nothing
    files: list[ParsedFileRecord]


def term_key(kind: str, slug: str) -> str:
    """`tags/customer-focus`: how a term is named in records, the graph and the API."""
    return f"{kind}/{slug}"


# Nodes of the networkx graph (graph.json).
PAGE_PREFIX = "page:"
TERM_PREFIX = "term:"


def page_node(page_id: str) -> str:
    return PAGE_PREFIX + page_id


def term_node(key: str) -> str:
    return TERM_PREFIX + key


# Vector collections: one for page vectors, one for passage vectors. Embedded stores live in
# the build folder; on a Qdrant server every build has its own pair, named by build id.
COLLECTION_KINDS = ("pages", "passages")


def collection_names(build_id: str, server: bool) -> dict[str, str]:
    prefix = f"pg-{build_id}-" if server else ""
    return {kind: prefix + kind for kind in COLLECTION_KINDS}


@dataclass(frozen=True)
class Chunking:
    """How page bodies were cut into passages; a build records it, drafts are cut alike."""

    passage_words: int
    passage_overlap: int

    @classmethod
    def of(cls, recorded: dict[str, int], settings: Settings) -> Chunking:
        """The build's chunking, or the settings' for builds that did not record one."""
        return cls(recorded.get("passage_words", settings.passage_words),
                   recorded.get("passage_overlap", settings.passage_overlap))

    @classmethod
    def from_settings(cls, settings: Settings) -> Chunking:
        return cls(settings.passage_words, settings.passage_overlap)

    def record(self) -> dict[str, int]:
        return {"passage_words": self.passage_words, "passage_overlap": self.passage_overlap}


# RDF: the graphs the SPARQL endpoint serves and the draft flag that hides pages.
KNOWLEDGE_GRAPH = "https://principles.graph/graph/knowledge"
ONTOLOGY_GRAPH = "https://principles.graph/graph/ontology"
PG_DRAFT = "https://principles.graph/ontology#draft"


def store_graph(build_id: str, name: str) -> str:
    """A build's graph in an external SPARQL store: `all`, `public` (no drafts) or
    `ontology`. The stable name is a prefix of it, so graphs sort alike."""
    if name == "ontology":
        return f"{ONTOLOGY_GRAPH}/{build_id}"
    return f"{KNOWLEDGE_GRAPH}/{build_id}/{name}"


def without_drafts(triples: list[ox.Triple]) -> list[ox.Triple]:
    """The triples a public graph holds: none about or pointing at a draft page."""
    drafts = {t.subject for t in triples
              if t.predicate.value == PG_DRAFT and getattr(t.object, "value", None) == "true"}
    return [t for t in triples if t.subject not in drafts and t.object not in drafts]


@dataclass(frozen=True)
class BuildRecords:
    """pages.json, terms.json and aliases.json of one build, as read back."""

    pages: dict[str, PageRecord]  # by page id
    terms: dict[str, TermRecord]  # by term key
    aliases: AliasesRecord


def write_records(folder: Path, terms: list[TermRecord], aliases: AliasesRecord) -> None:
    """terms.json and aliases.json (pages.json: ingest/pages_file.py). msgspec, not json:
    ~10x faster, and what reads them back."""
    for name, data in ((TERMS_FILE, terms), (ALIASES_FILE, aliases)):
        (folder / name).write_bytes(msgspec.json.encode(data))


def read_records(folder: Path) -> BuildRecords:
    """Raises OSError, ValueError or KeyError on a damaged build; callers say how to fix it."""
    try:
        pages: list[PageRecord] = msgspec.json.decode((folder / PAGES_FILE).read_bytes())
        terms: list[TermRecord] = msgspec.json.decode((folder / TERMS_FILE).read_bytes())
        aliases: AliasesRecord = msgspec.json.decode((folder / ALIASES_FILE).read_bytes())
    except msgspec.DecodeError as exc:
        raise ValueError(str(exc)) from exc
    return BuildRecords({p["id"]: p for p in pages},
                        {term_key(t["kind"], t["slug"]): t for t in terms}, aliases)
