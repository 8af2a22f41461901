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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

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


class Span(NamedTuple):
    """Bytes [start, end) of one of the previous build's files."""

    start: int
    end: int


class Part(NamedTuple):
    """One subject's triples: built now (bytes) or kept from the previous build (spans).
    (NamedTuples: a re-ingest at 10k pages makes 10k of them.)"""

    source: str  # what the triples are made from: `page:<id>`, `term:<key>`, `scheme:<kind>`
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


def render(graph: Graph) -> Iterator[tuple[str, int, bytes, bytes]]:
    """(subject, triple count, N-Triples lines, Turtle block) of every subject of `graph`."""
    data = graph.serialize(format="nt", encoding="utf-8")
    lines = sorted({line for line in data.split(b"\n") if line})
    start = 0
    while start < len(lines):
        head = lines[start][:lines[start].index(b" ") + 1]
        stop = start + 1
        while stop < len(lines) and lines[stop].startswith(head):
            stop += 1
        nt = b"\n".join(lines[start:stop]) + b"\n"
        ttl = _turtle([q.triple for q in ox.parse(nt, format=ox.RdfFormat.N_TRIPLES)])
        assert ttl.startswith(TURTLE_HEADER)
        yield head[:-1].decode(), stop - start, nt, ttl[len(TURTLE_HEADER):]
        start = stop


class PreviousParts:
    """The previous build's parts and files; None from `open` when it has none this code can
    reuse (made by other code, or before parts were recorded)."""

    def __init__(self, folder: Path, record: dict[str, Any]) -> None:
        self.folder = folder
        self.sources: list[str] = record["sources"]  # in file order
        self.subjects: list[str] = record["subjects"]
        self.keys: list[str] = record["keys"]
        self.triples: list[int] = record["triples"]
        self.nt_offsets: list[int] = record["nt"]
        self.ttl_offsets: list[int] = record["ttl"]
        self.index = {source: i for i, source in enumerate(self.sources)}

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
        previous = cls(folder, record)
        if ((folder / GRAPH_NT_FILE).stat().st_size != previous.nt_offsets[-1]
                or (folder / GRAPH_TTL_FILE).stat().st_size != previous.ttl_offsets[-1]):
            return None  # files that are not what the record says: build everything afresh
        return previous

    def part(self, i: int) -> Part:
        nt, ttl = self.nt_offsets, self.ttl_offsets
        return Part(self.sources[i], self.subjects[i], self.keys[i], self.triples[i],
                    Span(nt[i], nt[i + 1]), Span(ttl[i], ttl[i + 1]))

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
        otherwise wait for the cyclic collector (off during an ingest, ingest/pipeline.py),
        which then walks all of its triples (most of a second at 2k pages)."""
        vars(self.fresh.store).clear()
        self.fresh = Graph()

    def nt_of(self, part: Part) -> bytes:
        if isinstance(part.nt, bytes):
            return part.nt
        assert self.previous is not None
        return self.previous.lines_of(part)


def assemble(keys: dict[str, str], previous: PreviousParts | None,
             build: Callable[[set[str] | None], Graph],
             subjects: Callable[[set[str] | None], dict[str, str]]) -> GraphParts:
    """Keep each part whose source's key is unchanged; `build(sources)` makes the rdflib graph
    of the others and `subjects(sources)` names their subjects (None: every source, when
    nothing is kept)."""
    kept: list[Part] = []
    if previous is not None:
        index, old_keys = previous.index, previous.keys
        kept = [previous.part(i) for source, key in keys.items()
                if (i := index.get(source)) is not None and old_keys[i] == key]
    if not kept:
        previous = None
    wanted = keys.keys() - {p.source for p in kept} if previous is not None else None
    graph = build(wanted)
    source_of = subjects(wanted)
    fresh = [Part(source_of[subject], subject, keys[source_of[subject]], triples, nt, ttl)
             for subject, triples, nt, ttl in render(graph) if subject in source_of]
    assert len(fresh) == len(source_of) == len(wanted if wanted is not None else keys), \
        "a source without triples, or two sources of one subject"
    return GraphParts(sorted(kept + fresh, key=Part.order), graph, previous)


def record(parts: list[Part], nt_offsets: list[int], ttl_offsets: list[int]) -> dict[str, object]:
    """graph_parts.json: each part's source, subject, key, triple count and offsets in both
    files (one more offset than parts: where the last one ends)."""
    return {"code": RDF_CODE, "sources": [p.source for p in parts],
            "subjects": [p.subject for p in parts], "keys": [p.key for p in parts],
            "triples": [p.triples for p in parts], "nt": nt_offsets, "ttl": ttl_offsets}
