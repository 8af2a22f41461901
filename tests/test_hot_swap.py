"""A running `principles serve` follows new builds without a restart, and its builds are
never pruned under it (issue 14): a real server process on loopback, real ingests."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import httpx

from ingest.pipeline import ingest
from principles.embedder import Encoder
from principles.index import IndexLayout
from principles.leases import Lease, leased_builds
from principles.settings import Settings
from tests.conftest import running_server

POLL = 2.0  # long enough that a SIGHUP swap is clearly not the poll's


def _wait_for(base: str, path: str, status: int, limit: float) -> float:
    """Seconds until GET `path` answers `status` (fails after `limit`); never a 5xx on the way."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        answer = httpx.get(base + path, timeout=5)
        assert answer.status_code < 500, answer.text
        if answer.status_code == status:
            return time.perf_counter() - started
        time.sleep(0.05)
    raise AssertionError(f"{path} did not answer {status} within {limit} s")


def _server_pid(index: Path, build: str) -> int:
    leases = [p.name for p in (index / "leases").iterdir() if p.name.endswith(build)]
    assert len(leases) == 1, leases
    return int(leases[0].split("-", 1)[0])


def _triples(base: str) -> int:
    answer = httpx.get(base + "/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                       timeout=10)
    assert answer.status_code == 200
    return int(answer.json()["results"]["bindings"][0]["n"]["value"])


def test_new_builds_go_live_and_served_builds_are_not_pruned(
        tiny_corpus: Path, tmp_path: Path, encoder: Encoder) -> None:
    settings = Settings(corpus_dir=tiny_corpus, index_dir=tmp_path / "index", keep_builds=1)
    first = ingest(settings, encoder=encoder).build
    assert first is not None
    with running_server(settings.index_dir, PRINCIPLES_RELOAD_POLL=str(POLL)) as base:
        pid = _server_pid(settings.index_dir, first.name)  # the server leases what it serves
        assert httpx.get(base + "/v1/pages/notes/new").status_code == 404
        etag = httpx.get(base + "/v1/related", params={"page": "tags/flow"}).headers["etag"]
        triples = _triples(base)

        # A page added: ingest (keep 1 build) while the server still reads the first build.
        (tiny_corpus / "notes").mkdir()
        (tiny_corpus / "notes" / "new.txt").write_text("Batch Size\n\nSmaller batches flow faster.\n")
        second = ingest(settings, encoder=encoder).build
        assert second is not None and second != first
        assert first.is_dir(), "the served build was pruned"  # leased, so kept
        polled = _wait_for(base, "/v1/pages/notes/new", 200, POLL + 5)
        health = httpx.get(base + "/health").json()
        assert health["index_version"] == second.name and health["served_pages"] == 3
        assert f"corpus (3 pages, build {second.name})" in httpx.get(base + "/").text  # UI footer
        assert httpx.get(base + "/v1/related", params={"page": "tags/flow"}).headers["etag"] != etag
        assert httpx.get(base + "/v1/search", params={"q": "smaller batches"}).json()[
            "results"][0]["id"] == "notes/new"
        assert httpx.get(base + "/v1/overlap/pairs").status_code == 200
        assert _triples(base) > triples  # the SPARQL workers moved too

        # SIGHUP swaps at once; the drained build's lease is gone, so pruning removes it.
        deadline = time.monotonic() + 10
        while first.name in leased_builds(settings.index_dir, 60) and time.monotonic() < deadline:
            time.sleep(0.05)
        (tiny_corpus / "notes" / "other.txt").write_text("Slack\n\nSlack lets work flow.\n")
        third = ingest(settings, encoder=encoder).build
        assert third is not None and not first.exists() and second.is_dir()
        os.kill(pid, signal.SIGHUP)
        hup = _wait_for(base, "/v1/pages/notes/other", 200, POLL - 0.3)
        assert httpx.get(base + "/health").json()["index_version"] == third.name
        print(f"\nswap after ingest (poll {POLL} s): {polled:.2f} s; after SIGHUP: {hup:.2f} s")


def test_leases_expire_with_their_server(tmp_path: Path) -> None:
    root = tmp_path / "index"
    (root / "builds" / "b1").mkdir(parents=True)
    (root / "builds" / "b2").mkdir()
    mine = Lease(root, "b1")
    assert leased_builds(root, ttl=60) == {"b1"}
    assert IndexLayout(root).prune(keep=1) == []  # b2 newest, b1 leased
    dead = root / "leases" / "999999999-b2"  # a pid that cannot exist
    dead.write_text(json.dumps({"pid": 999999999, "host": socket.gethostname(), "build": "b2"}))
    assert leased_builds(root, ttl=60) == {"b1"} and not dead.exists()
    old = time.time() - 120
    os.utime(mine.path, (old, old))
    assert leased_builds(root, ttl=60) == set()  # not refreshed for longer than the ttl
    mine.refresh()  # a live server re-claims its build on the next poll
    assert leased_builds(root, ttl=60) == {"b1"}
    mine.release()
    assert [p.name for p in IndexLayout(root).prune(keep=1)] == ["b1"]
