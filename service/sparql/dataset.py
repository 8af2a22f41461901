"""The RDF dataset /sparql serves: two named graphs, and which of them a request may use.

    https://principles.graph/graph/knowledge  the build's graph.nt (drafts removed unless the
                                              service includes drafts) - the default graph
    https://principles.graph/graph/ontology   ontology/vocabulary.ttl

A request's dataset comes from the protocol (default-graph-uri / named-graph-uri), else from
the query's FROM / FROM NAMED, else the default above; any other IRI is refused, so no IRI in a
request ever makes the server fetch anything. The engines always receive the resolved dataset
explicitly (it overrides whatever FROM the engine itself might read).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from principles.contract import KNOWLEDGE_GRAPH, ONTOLOGY_GRAPH, store_graph, without_drafts
from service.sparql.analysis import QueryInfo, Refused

KNOWLEDGE = KNOWLEDGE_GRAPH
ONTOLOGY = ONTOLOGY_GRAPH
GRAPHS = (KNOWLEDGE, ONTOLOGY)


@dataclass(frozen=True)
class Dataset:
    default: tuple[str, ...]
    named: tuple[str, ...]


DEFAULT_DATASET = Dataset((KNOWLEDGE,), GRAPHS)


def resolve_dataset(default_uris: list[str], named_uris: list[str], info: QueryInfo) -> Dataset:
    """Protocol parameters win over FROM clauses (SPARQL 1.1 Protocol 2.1.4)."""
    if default_uris or named_uris:
        dataset = Dataset(tuple(default_uris), tuple(named_uris))
    elif info.from_default is not None or info.from_named is not None:
        written = [*(info.from_default or []), *(info.from_named or [])]
        if None in written:
            raise Refused("a FROM clause names a graph this endpoint cannot resolve; use one of "
                          + ", ".join(f"<{g}>" for g in GRAPHS))
        dataset = Dataset(tuple(g for g in info.from_default or [] if g),
                          tuple(g for g in info.from_named or [] if g))
    else:
        return DEFAULT_DATASET
    unknown = sorted({g for g in (*dataset.default, *dataset.named) if g not in GRAPHS})
    if unknown:
        raise Refused(f"graph {', '.join(f'<{g}>' for g in unknown)} is not served here and this "
                      "endpoint never fetches remote data; available graphs: "
                      + ", ".join(f"<{g}>" for g in GRAPHS))
    return dataset


def remote_graphs(build_id: str, include_drafts: bool) -> dict[str, str]:
    """Stable graph name -> the per-build graph ingest loaded into the external store (named in
    principles/contract.py). The stable name is a prefix of the per-build one, so the
    graphs sort alike; FILTERs comparing graph IRIs see the per-build names in remote mode."""
    return {KNOWLEDGE: store_graph(build_id, "all" if include_drafts else "public"),
            ONTOLOGY: store_graph(build_id, "ontology")}


def served_triples(graph_nt: Path, include_drafts: bool) -> list[ox.Triple]:
    """The build's triples, without those about or pointing at draft pages unless included."""
    triples = [q.triple for q in ox.parse(path=str(graph_nt), format=ox.RdfFormat.N_TRIPLES)]
    return triples if include_drafts else without_drafts(triples)


def load_store(graph_nt: Path, ontology_ttl: Path, include_drafts: bool) -> tuple[ox.Store, dict[str, int]]:
    """An in-memory store holding the two named graphs; returns it with their sizes."""
    store = ox.Store()
    knowledge, ontology = ox.NamedNode(KNOWLEDGE), ox.NamedNode(ONTOLOGY)
    triples = served_triples(graph_nt, include_drafts)
    store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, knowledge) for t in triples)
    vocabulary = [q.triple for q in ox.parse(path=str(ontology_ttl), format=ox.RdfFormat.TURTLE)]
    store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, ontology) for t in vocabulary)
    return store, {KNOWLEDGE: len(set(triples)), ONTOLOGY: len(set(vocabulary))}
