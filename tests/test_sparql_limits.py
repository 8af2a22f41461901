"""/sparql limits through the real app: the row cap, the timeout that kills the worker
process running the query (and the endpoint recovering), and the per-worker memory cap."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from ontology.vocab import ontology_file
from principles.embedder import Encoder
from principles.errors import Unavailable
from principles.settings import Settings
from service.app import create_app
from service.sparql.dataset import DEFAULT_DATASET
from service.sparql.engine import Job
from service.sparql.pool import LocalEngine, WorkerSpec
from tests.test_sparql import SLOW, problem

Client = TestClient[Litestar]
LIMITED_MEMORY_MB = 1536  # marks the limited app's workers in /proc


@pytest.fixture(scope="module")
def limited(corpus_settings: Settings, encoder: Encoder) -> Iterator[Client]:
    settings = corpus_settings.model_copy(update={
        "sparql_max_rows": 5, "sparql_timeout": 1.0, "sparql_workers": 1,
        "sparql_worker_memory_mb": LIMITED_MEMORY_MB})
    with TestClient(create_app(settings, encoder=encoder)) as client:
        yield client


def worker_pids() -> set[int]:
    """This process's live query workers of the `limited` app, read from /proc."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if (ppid == os.getpid() and b"service.sparql.worker" in cmdline
                and f'"memory_mb": {LIMITED_MEMORY_MB}'.encode() in cmdline):
            pids.add(int(entry.name))
    return pids


def test_rows_are_capped_and_truncation_flagged(limited: Client) -> None:
    capped = limited.get("/sparql", params={"query": "SELECT * { ?s ?p ?o }"})
    assert len(capped.json()["results"]["bindings"]) == 5
    assert capped.headers["x-sparql-truncated"] == "true"
    assert capped.headers["x-sparql-maxrows"] == "5"
    graph = limited.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
                        headers={"Accept": "application/n-triples"})
    assert len(graph.text.strip().splitlines()) == 5 and graph.headers["x-sparql-truncated"] == "true"
    small = limited.get("/sparql", params={"query": "SELECT * { ?s ?p ?o } LIMIT 5"})
    assert "x-sparql-truncated" not in small.headers


def test_timeout_stops_the_work_and_the_endpoint_recovers(limited: Client) -> None:
    limited.get("/sparql", params={"query": "ASK {}"})
    before = worker_pids()
    assert len(before) == 1
    started = time.monotonic()
    body = problem(limited.get("/sparql", params={"query": SLOW}), 503)
    assert time.monotonic() - started < 5
    assert body["type"].endswith("/query-timeout") and "1 s" in body["detail"]
    assert body["timeout_seconds"] == 1.0
    after = worker_pids()
    assert before.isdisjoint(after), "the worker running the slow query must be killed"
    assert not Path(f"/proc/{next(iter(before))}").exists()
    assert limited.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True


def test_memory_cap_stops_a_runaway_query(corpus_ingest: Any) -> None:
    """A worker that exceeds its address-space cap dies; the pool answers 503 and recovers."""
    engine = LocalEngine(WorkerSpec(corpus_ingest.build / "graph.nt", ontology_file("vocabulary.ttl"),
                                    False, 400), 1)
    runaway = "SELECT ?a ?d ?x { ?a ?b ?c . ?d ?e ?f . ?x ?y ?z } ORDER BY ?c ?f ?z LIMIT 1"
    try:
        with pytest.raises(Unavailable, match="memory cap"):
            engine.run(Job(runaway, DEFAULT_DATASET.default, DEFAULT_DATASET.named, "json", None, 10), 20)
        ask = engine.run(Job("ASK { ?s ?p ?o }", DEFAULT_DATASET.default, DEFAULT_DATASET.named,
                             "json", None, 10), 20)
        assert ask.body == b'{"head": {}, "boolean": true}'
    finally:
        engine.close()


def test_idle_workers_stay_usable(corpus_ingest: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ready message read long after the start deadline is fine; a worker killed while idle
    is replaced transparently."""
    import signal

    from service.sparql import pool

    monkeypatch.setattr(pool, "START_TIMEOUT", 0.5)
    engine = LocalEngine(WorkerSpec(corpus_ingest.build / "graph.nt", ontology_file("vocabulary.ttl"),
                                    False, 1024), 1)
    ask = Job("ASK { ?s ?p ?o }", DEFAULT_DATASET.default, DEFAULT_DATASET.named, "json", None, 10)
    try:
        engine.start()
        time.sleep(1.0)  # the worker is ready; its message waits unread past START_TIMEOUT
        assert engine.run(ask, 5).kind == "boolean"
        (victim,) = engine.pids()
        os.kill(victim, signal.SIGKILL)
        time.sleep(0.2)
        assert engine.run(ask, 5).kind == "boolean"
        assert engine.pids() != [victim]
    finally:
        engine.close()
