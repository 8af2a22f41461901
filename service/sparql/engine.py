"""What the endpoint asks of an engine, and the choice between the two engines.

An engine runs one Job synchronously (the controller calls it from a worker thread, never on
the event loop) and raises service.errors problems: InvalidQuery, QueryTimeout, Unavailable,
NotAcceptable. `LocalEngine` (default) is a pool of worker processes over an embedded
pyoxigraph store; `RemoteEngine` proxies to PRINCIPLES_SPARQL_URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from service.errors import AnswerTooLarge, InvalidQuery, NotAcceptable, QueryOutOfMemory


@dataclass(frozen=True)
class Job:
    query: str
    default: tuple[str, ...]
    named: tuple[str, ...]
    results_format: str | None  # negotiated format key for SELECT/ASK, None if none acceptable
    graph_format: str | None  # same for CONSTRUCT/DESCRIBE
    max_rows: int
    max_bytes: int = 16_000_000

    def wire(self) -> dict[str, Any]:
        return {"query": self.query, "default": list(self.default), "named": list(self.named),
                "results_format": self.results_format, "graph_format": self.graph_format,
                "max_rows": self.max_rows, "max_bytes": self.max_bytes}


@dataclass(frozen=True)
class Reply:
    body: bytes
    kind: str  # bindings, boolean or graph
    rows: int
    truncated: bool


class Engine(Protocol):
    name: str

    def start(self) -> None: ...

    def run(self, job: Job, timeout: float) -> Reply: ...

    def sizes(self) -> dict[str, int] | None: ...

    def close(self) -> None: ...


def raise_for(error: str, message: str) -> None:
    """Turn an engine's error report into the problem the client gets."""
    if error == "syntax":
        raise InvalidQuery(message)
    if error == "too-large":
        raise AnswerTooLarge(message)
    if error == "memory":
        raise QueryOutOfMemory(f"{message}; simplify the query or add a LIMIT")
    if error == "format":
        kind = "results (SELECT/ASK)" if message == "bindings" else "an RDF graph (CONSTRUCT/DESCRIBE)"
        raise NotAcceptable(f"the query answers {kind} and no such format matches Accept")
    raise InvalidQuery(f"the query failed: {message}")
