"""Load across swaps: 64 concurrent connections for 60 s against a real `principles serve` on
127.0.0.1, driven by wrk (a Python client tops out far below the server here), while three
ingests publish new builds. Requests cycle through the widget's /v1/related, /v1/resolve,
/v1/pages and /v1/search. Zero socket errors, zero non-2xx; a sequential probe shows every
answer that starts 2 s after a swap comes from the new build. The latency distribution and
the swap timings are printed (and kept in test-output/load.txt)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ingest.pipeline import ingest
from principles.embedder import Encoder
from principles.settings import Settings
from tests.conftest import CORPUS, ROOT, running_server

pytestmark = pytest.mark.slow
SECONDS = int(os.environ.get("PRINCIPLES_LOAD_SECONDS", "60"))
SWAPS = 3
SETTLE = 2.0  # seconds after a swap by which every answer comes from the new build
PATHS = ["/v1/related?page=resources/articles/limit-work-in-progress",
         "/v1/related?page=/principles/customer-focus/&limit=5",
         "/v1/resolve?path=/Principles/Small-Batches/index.html",
         "/v1/pages/tags/flow",
         "/v1/related?page=tags/flow&type=article",
         "/v1/search?q=how+to+limit+work+in+progress"]
LUA_PATHS = ", ".join(f'"{p}"' for p in PATHS)
SCRIPT = f"""
local paths = {{{LUA_PATHS}}}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
"""


@pytest.fixture(scope="module")
def live_index(corpus_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A copy of corpus/ and of its index: ingests here change nothing other tests read, and
    the copied embedding cache makes each rebuild encode only the page that changed."""
    base = tmp_path_factory.mktemp("live")
    shutil.copytree(CORPUS, base / "corpus")
    shutil.copytree(corpus_settings.index_dir, base / "index", symlinks=True,
                    ignore=shutil.ignore_patterns("leases", ".ingest.lock"))
    return Settings(corpus_dir=base / "corpus", index_dir=base / "index")


@pytest.fixture(scope="module")
def server(live_index: Settings) -> Iterator[str]:
    with running_server(live_index.index_dir, PRINCIPLES_RELOAD_POLL="0.5") as base:
        yield base


def _probe(base: str, stop: threading.Event, seen: list[tuple[float, str]]) -> None:
    """Sequential requests, each recorded with its start time and the build that answered."""
    with httpx.Client(base_url=base, timeout=10) as client:
        while not stop.is_set():
            started = time.monotonic()
            response = client.get("/health")
            seen.append((started, response.json()["index_version"]))
            time.sleep(0.05)


def test_64_clients_for_60_seconds_across_three_swaps(server: str, live_index: Settings,
                                                       encoder: Encoder) -> None:
    wrk = shutil.which("wrk")
    if wrk is None:
        pytest.fail("wrk is not installed: `make test` installs Debian's wrk")
    script = ROOT / "test-output" / "load.lua"
    script.parent.mkdir(exist_ok=True)
    script.write_text(SCRIPT)
    load = subprocess.Popen([wrk, "-t2", "-c64", f"-d{SECONDS}s", "--latency", "--timeout", "10s",
                             "-s", str(script), server], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    stop = threading.Event()
    seen: list[tuple[float, str]] = []
    prober = threading.Thread(target=_probe, args=(server, stop, seen), daemon=True)
    prober.start()
    swaps: list[tuple[float, str]] = []  # (published at, build id)
    page = Path(live_index.corpus_dir) / "resources" / "articles" / "limit-work-in-progress" / "index.md"
    original = page.read_text("utf-8")
    started = time.monotonic()
    try:
        for n in range(SWAPS):  # at 1/4, 2/4 and 3/4 of the load
            time.sleep(max(0.0, started + SECONDS * (n + 1) / (SWAPS + 1) - time.monotonic()))
            page.write_text(original + f"\n\nRevision {n + 1}: finish work before starting more.\n",
                            "utf-8")
            result = ingest(live_index, encoder=encoder)
            assert result.manifest is not None and not result.up_to_date
            swaps.append((time.monotonic(), result.manifest.build_id))
        out, err = load.communicate(timeout=SECONDS + 120)
    finally:
        if load.poll() is None:
            load.kill()
        stop.set()
        prober.join(timeout=15)

    late = [(round(t - at, 2), version, build) for at, build in swaps
            for t, version in seen if t >= at + SETTLE
            and all(not (at < later <= t) for later, _ in swaps)  # before the next swap
            and version != build]
    report = out + err + "\nswaps (s after start of probe, build): " + ", ".join(
        f"{at - seen[0][0]:.1f} {build}" for at, build in swaps) + "\n"
    switch = [min((t - at for t, version in seen if t >= at and version == build), default=None)
              for at, build in swaps]
    report += f"first probe answered by the new build, s after each swap: {switch}\n"
    (ROOT / "test-output" / "load.txt").write_text(report)
    print(report)
    assert load.returncode == 0, err
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    assert requests > SECONDS * 50
    assert "Socket errors" not in out, out
    assert "Non-2xx or 3xx responses" not in out, out
    assert re.search(r"99%\s+[\d.]+(us|ms|s)", out)
    assert late == [], f"answers from an old build {SETTLE} s after a swap: {late[:5]}"
    assert all(s is not None for s in switch), switch
