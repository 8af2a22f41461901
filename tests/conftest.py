"""Session fixtures: one real model, corpus/ and the site corpus each ingested once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from ingest.pipeline import IngestResult, ingest
from principles.embedder import Encoder
from principles.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SITE = ROOT.parent / "shared" / "corpora" / "nkdagility"
SEEDS = ROOT.parent / "shared" / "seeds"
DATA = Path(__file__).resolve().parent / "data"

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_process(index_dir: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`principles serve` as a real process on 127.0.0.1 (extra PRINCIPLES_* settings in
    `env`; one worker process unless PRINCIPLES_WORKERS says otherwise); yields its base URL
    and the process once /health answers, stops it (SIGTERM) afterwards."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "principles_graph", "serve", "--index",
                             str(index_dir), "--port", str(port)],
                            env={**os.environ, "HF_HUB_OFFLINE": "1", "PRINCIPLES_WORKERS": "1", **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            pytest.fail("principles serve did not start")
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(30)


@contextmanager
def running_server(index_dir: Path, **env: str) -> Iterator[str]:
    """`serve_process`, yielding the base URL only."""
    with serve_process(index_dir, **env) as (base, _):
        yield base


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    enc = Encoder("all-MiniLM-L6-v2")
    assert enc.dimension == 384
    return enc


@pytest.fixture(scope="session")
def planted() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "planted.json").read_text("utf-8"))
    return data


@pytest.fixture(scope="session")
def corpus_ingest(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> IngestResult:
    index = tmp_path_factory.mktemp("corpus-index")
    return ingest(Settings(corpus_dir=CORPUS, index_dir=index), encoder=encoder)


@pytest.fixture(scope="session")
def corpus_settings(corpus_ingest: IngestResult) -> Settings:
    assert corpus_ingest.build is not None
    return Settings(corpus_dir=CORPUS, index_dir=corpus_ingest.build.parent.parent)


@pytest.fixture(scope="session")
def api(corpus_settings: Settings, encoder: Encoder) -> Iterator[TestClient[Litestar]]:
    """The real app over the corpus/ index as served: queries encoded by the ONNX model file
    ingest exported (tests of the torch path pass `encoder=` themselves)."""
    from service.app import create_app

    with TestClient(create_app(corpus_settings)) as client:
        yield client


@pytest.fixture(scope="session")
def site_ingest(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> IngestResult:
    if not SITE.is_dir():
        pytest.skip("../shared/corpora/nkdagility is not beside the project")
    index = tmp_path_factory.mktemp("site-index")
    return ingest(Settings(corpus_dir=SITE, index_dir=index), encoder=encoder)


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Iterator[Path]:
    """A writable two-page corpus for tests that break or change files."""
    root = tmp_path / "corpus"
    (root / "tags" / "flow").mkdir(parents=True)
    (root / "tags" / "flow" / "_index.md").write_text(
        "---\ntitle: Flow\nClassificationType: tags\nResourceId: AAAAAAAAAA1\n"
        "aliases:\n- /principles/flow/\n---\nFlow means work moves without waiting.\n", "utf-8")
    (root / "resources" / "articles").mkdir(parents=True)
    (root / "resources" / "articles" / "queues.md").write_text(
        "---\ntitle: Queues Hide Delay\ntags:\n- Flow\ncategories:\n- Lean\n---\n"
        "Every queue between two steps adds waiting time that nobody sees on a status report.\n",
        "utf-8")
    yield root


@pytest.fixture(scope="session")
def hostile_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hostile-corpus fixture set (tests/hostile.py) in a temporary folder."""
    from tests.hostile import write_hostile_corpus

    base = tmp_path_factory.mktemp("hostile")
    outside = base / "outside"
    outside.mkdir()
    return write_hostile_corpus(base / "corpus", outside / "passwd")


@pytest.fixture(scope="session")
def hostile_ingest(hostile_root: Path, encoder: Encoder) -> IngestResult:
    return ingest(Settings(corpus_dir=hostile_root, index_dir=hostile_root.parent / "index"),
                  encoder=encoder)
