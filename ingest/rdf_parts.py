"""The build's RDF as one part per subject: its lines of graph.nt and its block of graph.ttl.

graph.nt is sorted by line, so each subject's lines are one run of the file (they all start
with `<subject> `), and graph.ttl written from those lines in that order is one block per
subject, which pyoxigraph writes the same alone as in the whole file. A subject whose inputs
(ingest/rdf_keys.py) did not change since the previous build keeps that build's bytes: a
re-ingest builds rdflib triples only for the pages and terms that changed, and writes the
files mostly by copying ranges of the previous ones (ingest/rdf_files.py). `graph_parts.json`
records where each part is, for the next build.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from ingest.rdf_keys import RDF_CODE
from principles.contract import GRAPH_NT_FILE, GRAPH_PARTS_FILE, GRAPH_TTL_FILE

# Prefixes of graph.ttl, in the order its header lists them.
TURTLE_PREFIXES = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "pg": "https://principles.graph/ontology#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
    "schema": "https://schema.org/",
}


@dataclass(frozen=True)
class Span:
    """Bytes [start, end) of one of the previous build's files."""

    start: int
    end: int


@dataclass(frozen=True)
class Part:
    """One subject's triples: built now (bytes) or kept from the previous build (spans)."""

    subject: str  # as its N-Triples lines start: `<iri>`
    key: str
    triples: int
    nt: bytes | Span
    ttl: bytes | Span

    @property
    def fresh(self) -> bool:
        return isinstance(self.nt, bytes)

    def order(self) -> bytes:
        """Parts sort as their lines do in graph.nt: by the subject and the space after it."""
        return self.subject.encode() + b" "


def _turtle(triples: list[ox.Triple]) -> bytes:
    text = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=TURTLE_PREFIXES)
    assert text is not None
    return text


def _turtle_header() -> bytes:
    one = ox.Triple(ox.NamedNode("http://a"), ox.NamedNode("http://b"), ox.NamedNode("http://c"))
    text = _turtle([one])
    return text[:text.rindex(b"<http://a>")]


TURTLE_HEADER = _turtle_header()


def render(graph: Graph, keys: dict[str, str]) -> list[Part]:
    """The parts of every subject of `graph`, each keyed by `keys`."""
    data = graph.serialize(format="nt", encoding="utf-8")
    lines = sorted({line for line in data.split(b"\n") if line})
    parts: list[Part] = []
    start = 0
    while start < len(lines):
        head = lines[start][:lines[start].index(b" ") + 1]
        stop = start + 1
        while stop < len(lines) and lines[stop].startswith(head):
            stop += 1
        block = lines[start:stop]
        nt = b"\n".join(block) + b"\n"
        triples = [q.triple for q in ox.parse(nt, format=ox.RdfFormat.N_TRIPLES)]
        ttl = _turtle(triples)
        assert ttl.startswith(TURTLE_HEADER)
        name = head[:-1].decode()
        parts.append(Part(name, keys.get(name, ""), len(block), nt, ttl[len(TURTLE_HEADER):]))
        start = stop
    return parts


class PreviousParts:
    """The previous build's parts and files; None from `open` when it has none this code can
    reuse (made by other code, or before parts were recorded)."""

    def __init__(self, folder: Path, record: dict[str, list[str] | list[int] | str]) -> None:
        self.folder = folder
        subjects, keys = record["subjects"], record["keys"]
        triples, nt, ttl = record["triples"], record["nt"], record["ttl"]
        assert isinstance(subjects, list) and isinstance(keys, list)
        assert isinstance(triples, list) and isinstance(nt, list) and isinstance(ttl, list)
        self.parts: dict[str, Part] = {
            str(s): Part(str(s), str(keys[i]), int(triples[i]), Span(int(nt[i]), int(nt[i + 1])),
                         Span(int(ttl[i]), int(ttl[i + 1])))
            for i, s in enumerate(subjects)}
        self.nt_offsets = [int(n) for n in nt]
        self.subjects = [str(s) for s in subjects]  # in file order

    @classmethod
    def open(cls, folder: Path) -> PreviousParts | None:
        path = folder / GRAPH_PARTS_FILE
        if not (path.is_file() and (folder / GRAPH_NT_FILE).is_file()
                and (folder / GRAPH_TTL_FILE).is_file()):
            return None
        try:
            record = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or record.get("code") != RDF_CODE:
            return None
        return cls(folder, record)

    def lines_of(self, part: Part) -> bytes:
        """A previous part's lines of graph.nt."""
        assert isinstance(part.nt, Span)
        with (self.folder / GRAPH_NT_FILE).open("rb") as handle:
            handle.seek(part.nt.start)
            return handle.read(part.nt.end - part.nt.start)


@dataclass
class GraphParts:
    """This build's RDF: every part in file order, the rdflib graph of the fresh ones (what
    SHACL validates them on) and the previous build's parts it kept."""

    parts: list[Part]
    fresh: Graph
    previous: PreviousParts | None

    @property
    def triples(self) -> int:
        return sum(p.triples for p in self.parts)

    def release(self) -> None:
        """Drop the rdflib graph now. Its store and the graph point at each other, so it would
        otherwise wait for a full garbage collection, which walks all of its triples (most of
        a second at 2k pages) in whatever later step or ingest run triggers it."""
        vars(self.fresh.store).clear()
        self.fresh = Graph()

    def nt_of(self, part: Part) -> bytes:
        if isinstance(part.nt, bytes):
            return part.nt
        assert self.previous is not None
        return self.previous.lines_of(part)


def assemble(keys: dict[str, str], previous: PreviousParts | None,
             build: Callable[[set[str] | None], Graph]) -> GraphParts:
    """Keep each part whose key is unchanged; `build(subjects)` makes the rdflib graph of the
    others (None: of every subject, when nothing is kept)."""
    kept: list[Part] = []
    if previous is not None:
        kept = [old for name, key in keys.items()
                if (old := previous.parts.get(name)) is not None and old.key == key]
    if not kept:
        previous = None
    wanted = set(keys) - {p.subject for p in kept} if previous is not None else None
    graph = build(wanted)
    fresh = [p for p in render(graph, keys) if wanted is None or p.subject in wanted]
    assert len(fresh) == len(wanted if wanted is not None else keys), "a subject without triples"
    return GraphParts(sorted(kept + fresh, key=Part.order), graph, previous)


def record(parts: list[Part], nt_offsets: list[int], ttl_offsets: list[int]) -> dict[str, object]:
    """graph_parts.json: each part's subject, key, triple count and offsets in both files."""
    return {"code": RDF_CODE, "subjects": [p.subject for p in parts],
            "keys": [p.key for p in parts], "triples": [p.triples for p in parts],
            "nt": nt_offsets, "ttl": ttl_offsets}
