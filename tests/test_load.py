"""Load: 64 concurrent connections for 60 s against a real `principles serve` on 127.0.0.1,
driven by wrk (a Python client tops out far below the server here). Requests cycle through
the widget's /v1/related, /v1/resolve, /v1/pages and /v1/search. Zero errors, zero non-2xx;
the latency distribution is printed (and kept in test-output/load.txt)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from principles.settings import Settings
from tests.conftest import ROOT, running_server

pytestmark = pytest.mark.slow
SECONDS = int(os.environ.get("PRINCIPLES_LOAD_SECONDS", "60"))
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
def server(corpus_settings: Settings) -> Iterator[str]:
    with running_server(corpus_settings.index_dir) as base:
        yield base


def test_64_clients_for_60_seconds(server: str, tmp_path: object) -> None:
    wrk = shutil.which("wrk")
    if wrk is None:
        pytest.fail("wrk is not installed: `make test` installs Debian's wrk")
    script = ROOT / "test-output" / "load.lua"
    script.parent.mkdir(exist_ok=True)
    script.write_text(SCRIPT)
    run = subprocess.run([wrk, "-t2", "-c64", f"-d{SECONDS}s", "--latency", "--timeout", "10s",
                          "-s", str(script), server], capture_output=True, text=True,
                         timeout=SECONDS + 60)
    (ROOT / "test-output" / "load.txt").write_text(run.stdout + run.stderr)
    print(run.stdout)
    assert run.returncode == 0, run.stderr
    requests = int(re.search(r"(\d+) requests in", run.stdout).group(1))  # type: ignore[union-attr]
    assert requests > SECONDS * 50
    assert "Socket errors" not in run.stdout, run.stdout
    assert "Non-2xx or 3xx responses" not in run.stdout, run.stdout
    assert re.search(r"99%\s+[\d.]+(us|ms|s)", run.stdout)
