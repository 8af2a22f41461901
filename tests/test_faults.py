"""Faults: a vector server that cannot be reached, and a disk that fills up during ingest.

(The SPARQL store going away and coming back is in test_sparql_remote.py, against a real
Oxigraph server; a SIGKILLed ingest is in test_incremental_atomic.py.)"""

from __future__ import annotations

import dataclasses
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from litestar.testing import TestClient

from ingest.pipeline import ingest
from principles.embedder import Encoder
from principles.index import IndexLayout, Manifest
from principles.settings import Settings
from service.app import create_app
from service.index import open_index
from tests.conftest import free_port


def test_unreachable_qdrant_server_is_503_and_the_rest_keeps_serving(
        corpus_settings: Settings, encoder: Encoder) -> None:
    """The real qdrant-client against a port nobody listens on (no Qdrant server can run
    here): vector-backed answers are 503 problem+json naming the server, never a 500 or a
    stack trace; answers that need no vectors stay 200."""
    dead = f"http://127.0.0.1:{free_port()}"
    settings = corpus_settings.model_copy(update={"qdrant_url": dead})
    view = open_index(corpus_settings)
    view.manifest = dataclasses.replace(view.manifest, engine="server", qdrant_url=dead)
    with TestClient(create_app(settings, index=view, encoder=encoder)) as client:
        for mode in ("hybrid", "dense"):
            down = client.get("/v1/search", params={"q": "limit work in progress", "mode": mode})
            assert down.status_code == 503, down.text
            assert down.headers["content-type"].startswith("application/problem+json")
            problem = down.json()
            assert problem["type"].endswith("/unavailable") and dead in problem["detail"]
            assert "Traceback" not in down.text and "qdrant_client" not in down.text
        sparse = client.get("/v1/search", params={"q": "limit work in progress", "mode": "sparse"})
        assert sparse.status_code == 200 and sparse.json()["results"]
        assert client.get("/v1/related", params={"page": "tags/customer-focus"}).status_code == 200
        assert client.get("/v1/resolve", params={"path": "/tags/customer-focus/"}).status_code == 200
        assert client.get("/health").status_code == 200


def _limit_file_size(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.slow
def test_disk_full_during_ingest_is_a_clear_error_and_loses_nothing(
        tiny_corpus: Path, tmp_path: Path, encoder: Encoder) -> None:
    """A real `principles ingest` whose writes fail part-way (RLIMIT_FSIZE: every write past
    256 KB fails with EFBIG, as a full disk fails with ENOSPC): exit code 2, a message naming
    the build folder and saying the previous index is unchanged, no half-written build left,
    the previous build still served, and the next ingest with room succeeds."""
    settings = Settings(corpus_dir=tiny_corpus, index_dir=tmp_path / "index")
    first = ingest(settings, encoder=encoder)
    assert first.build is not None
    for i in range(40):
        (tiny_corpus / "notes").mkdir(exist_ok=True)
        (tiny_corpus / "notes" / f"n{i}.md").write_text(f"# Note {i}\n\n" + "word " * 400)
    proc = subprocess.run(
        [sys.executable, "-m", "principles_graph", "ingest", "--corpus", str(tiny_corpus),
         "--index", str(settings.index_dir)],
        env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True, timeout=300,
        preexec_fn=lambda: _limit_file_size(256 * 1024), check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    message = " ".join(proc.stderr.split())
    assert "previous index is unchanged" in message and "File too large" in message, message
    assert "Traceback" not in proc.stderr
    layout = IndexLayout(settings.index_dir)
    assert layout.current_build() == first.build
    assert [p.name for p in layout.builds.iterdir() if p.name.startswith(".")] == []
    view = open_index(settings)
    assert view.version == Manifest.load(first.build).build_id and view.find("tags/flow")
    done = ingest(settings, encoder=encoder)
    assert done.manifest is not None and done.manifest.counts["pages"] == 42
