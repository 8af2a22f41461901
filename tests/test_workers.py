"""`principles serve --workers N` (issue 14): worker processes sharing one index read-only, each
following new builds itself; SIGHUP to the server reaches every worker; a worker that dies is
replaced. Real servers on loopback (both HTTP servers), real ingests."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from ingest.pipeline import ingest
from principles.embedder import Encoder
from principles.leases import leased_builds
from principles.settings import Settings
from tests.conftest import serve_process

pytestmark = pytest.mark.slow


def _parent(pid: int) -> int:
    """The parent pid of `pid`, or -1 once the process is gone (it may go while we look)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def _workers_on(index: Path, server: subprocess.Popen[bytes], build: str, limit: float = 60) -> set[int]:
    """The server's worker pids once every one of them serves `build` (and none holds another
    build any more); fails after `limit` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        alive: dict[int, set[str]] = {}
        for lease in (index / "leases").iterdir():
            if lease.name.startswith("."):
                continue
            pid, held = lease.name.split("-", 1)
            if _parent(int(pid)) == server.pid:
                alive.setdefault(int(pid), set()).add(held)
        if len(alive) == 2 and all(builds == {build} for builds in alive.values()):
            return set(alive)
        time.sleep(0.1)
    raise AssertionError(f"the workers did not all move to {build}: {sorted(os.listdir(index / 'leases'))}")


def _versions(base: str, n: int = 20) -> set[str]:
    """index_version from `n` fresh connections (spread over the workers by the kernel)."""
    seen = set()
    for _ in range(n):
        with httpx.Client(base_url=base, timeout=10) as client:
            seen.add(client.get("/health").json()["index_version"])
    return seen


@pytest.mark.parametrize(("http_server", "how"), [("granian", "poll"), ("uvicorn", "sighup")])
def test_two_workers_serve_and_each_swaps_to_new_builds(
        http_server: str, how: str, tiny_corpus: Path, tmp_path: Path, encoder: Encoder) -> None:
    settings = Settings(corpus_dir=tiny_corpus, index_dir=tmp_path / "index", keep_builds=1)
    first = ingest(settings, encoder=encoder).build
    assert first is not None
    env = {"PRINCIPLES_WORKERS": "2", "PRINCIPLES_HTTP_SERVER": http_server,
           # polled: every worker checks `current` itself; sighup: only the signal swaps
           "PRINCIPLES_RELOAD_POLL": "0.5" if how == "poll" else "0"}
    with serve_process(settings.index_dir, **env) as (base, server):
        workers = _workers_on(settings.index_dir, server, first.name)
        assert _versions(base) == {first.name}
        assert httpx.get(base + "/v1/search", params={"q": "queues"}).json()["results"]
        assert httpx.get(base + "/v1/pages/notes/new").status_code == 404

        (tiny_corpus / "notes").mkdir()
        (tiny_corpus / "notes" / "new.txt").write_text("Batch Size\n\nSmaller batches flow faster.\n")
        second = ingest(settings, encoder=encoder).build
        assert second is not None and first.is_dir()  # leased by both workers: not pruned
        if how == "sighup":
            time.sleep(1.0)  # no poll: nothing may move without the signal
            assert _versions(base) == {first.name}
            server.send_signal(signal.SIGHUP)  # to the supervisor, which forwards it
        assert _workers_on(settings.index_dir, server, second.name) == workers  # swapped, not restarted
        assert _versions(base) == {second.name}
        for _ in range(10):  # every worker answers from the new build
            with httpx.Client(base_url=base, timeout=10) as client:
                assert client.get("/v1/pages/notes/new").status_code == 200
                assert client.get("/v1/search", params={"q": "smaller batches"}).json()[
                    "results"][0]["id"] == "notes/new"

        # A worker that dies is replaced; the server keeps answering meanwhile.
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                replaced = _workers_on(settings.index_dir, server, second.name, limit=1)
            except AssertionError:
                continue
            if victim not in replaced:
                break
        else:
            raise AssertionError("the killed worker was not replaced")
        assert _versions(base) == {second.name}
    # stopped: no live claim on any build is left, so pruning is free again (a worker closes its
    # builds and releases its leases; one stopped while still loading leaves a dead pid's lease,
    # which counts for nothing)
    assert leased_builds(settings.index_dir, ttl=60) == set()
