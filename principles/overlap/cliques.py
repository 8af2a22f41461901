"""Maximal cliques of 3+ pages in the strong-overlap graph, updated after a change.

Finding every maximal clique is the costliest part of the overlap step once pair verdicts are
carried over (~1.5 s of a re-ingest at 10k pages). After a change the graph differs only around
the pages whose neighbours changed (`moved`), and a maximal clique away from them stays one:

- a previous clique without a moved page is still a clique; it stays maximal unless a moved page
  now joins all of it;
- a previous clique with moved pages leaves its other pages, which are a maximal clique of the
  graph without the moved pages if no unmoved page joins them all (then: as above);
- every clique with a moved page is found in that page's neighbourhood.

`update` is checked against a full search on random graphs and edits (tests/test_units.py).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Set
from typing import TypeVar

import networkx as nx

N = TypeVar("N", bound=Hashable)  # a page: its id, or its row in a build
Adjacency = Mapping[N, Set[N]]
Clique = frozenset[N]
SMALLEST = 3


def find(graph: Adjacency[N]) -> set[Clique[N]]:
    """Every maximal clique of 3+ nodes."""
    return {frozenset(c) for c in nx.find_cliques(_nx(graph)) if len(c) >= SMALLEST}


def update(before: Adjacency[N] | None, after: Adjacency[N], cliques: Iterable[Clique[N]],
           moved: Set[N] | None = None) -> set[Clique[N]]:
    """The maximal cliques (3+) of `after`, from those of `before`. `moved`, when the caller
    knows them: the nodes whose neighbours may differ (a superset of those that do; `before`
    is then not read)."""
    if moved is None:
        assert before is not None
        moved = {n for n in before.keys() | after.keys()
                 if before.get(n, frozenset()) != after.get(n, frozenset())}
    if not moved:
        return set(cliques)
    found: set[Clique[N]] = set()
    # a moved page that joins a clique is every member's neighbour: a clique with a member
    # outside `touched` is joined by none (the test that skips ~all of 30k cliques at 10k pages)
    touched: set[N] = set().union(*(after.get(page, frozenset()) for page in moved))
    for clique in cliques:
        rest = clique - moved
        if len(rest) < SMALLEST or rest in found:
            continue
        if rest != clique and _joined_by(after, rest, exclude=moved, only=None):
            continue  # an unmoved page joins them all: not maximal once the moved pages left
        if rest <= touched and _joined_by(after, rest, exclude=frozenset(), only=moved):
            continue  # a moved page now joins them all: found below with it
        found.add(rest)
    for page in moved:
        if page in after:
            found.update(c for c in _cliques_with(after, page) if len(c) >= SMALLEST)
    return found


def _cliques_with(graph: Adjacency[N], page: N) -> Iterator[Clique[N]]:
    """The maximal cliques with `page`: it and each maximal clique among its neighbours (a
    node joining such a clique neighbours `page` too). Bron-Kerbosch with a pivot, on the
    adjacency as it is: building a networkx graph per page cost more than the search."""
    for members in _maximal(graph, [page], set(graph[page]), set()):
        yield frozenset(members)


def _maximal(graph: Adjacency[N], clique: list[N], candidates: set[N],
             excluded: set[N]) -> Iterator[list[N]]:
    """Every maximal clique that extends `clique` by nodes of `candidates` and by none of
    `excluded` (all of them neighbours of every node of `clique`)."""
    if not candidates and not excluded:
        yield clique
        return
    pivot = max(candidates | excluded, key=lambda node: len(candidates & graph[node]))
    for node in list(candidates - graph[pivot]):
        neighbours = graph[node]
        yield from _maximal(graph, [*clique, node], candidates & neighbours, excluded & neighbours)
        candidates.discard(node)
        excluded.add(node)


def _joined_by(graph: Adjacency[N], members: Clique[N], *, exclude: Set[N],
               only: Set[N] | None) -> bool:
    """Is some node outside `members` (and `exclude`, and inside `only` if given) adjacent to
    every member?"""
    common: set[N] | None = None
    for member in sorted(members, key=lambda m: len(graph.get(m, ()))):
        neighbours = graph.get(member, frozenset())
        common = set(neighbours) if common is None else common & neighbours
        if only is not None:
            common &= only
        common -= exclude
        if not common:
            return False
    return bool(common and common - members)


def _nx(graph: Adjacency[N]) -> nx.Graph:
    network = nx.Graph()
    network.add_nodes_from(graph)
    network.add_edges_from((a, b) for a, neighbours in graph.items() for b in neighbours)
    return network
