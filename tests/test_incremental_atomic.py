"""Re-ingest embeds only what changed; deleted pages vanish; a killed ingest changes nothing."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.pipeline import ingest
from principles.embedder import Encoder
from principles.errors import IngestError
from principles.index import IndexLayout, Manifest
from principles.settings import Settings
from principles.stores import open_store
from service.index import open_index


def _settings(corpus: Path, tmp_path: Path) -> Settings:
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index")


def _passage_points(build: Path) -> int:
    manifest = Manifest.load(build)
    store = open_store(manifest.engine, build, None, None)
    try:
        return store.count("passages")
    finally:
        store.close()


@pytest.mark.parametrize("engine", ["edge", "local"])
def test_rerun_embeds_only_changed_pages(tiny_corpus: Path, tmp_path: Path, encoder: Encoder,
                                         engine: str) -> None:
    settings = _settings(tiny_corpus, tmp_path).model_copy(update={"embedded_engine": engine})
    first = ingest(settings, encoder=encoder)
    assert first.manifest is not None and first.manifest.counts["encoded"] == 4

    unchanged = ingest(settings, encoder=encoder)
    assert unchanged.up_to_date and unchanged.build == first.build

    (tiny_corpus / "resources" / "articles" / "queues.md").write_text(
        "---\ntitle: Queues Hide Delay\ntags:\n- Flow\n---\nA queue is invisible waiting.\n", "utf-8")
    (tiny_corpus / "notes").mkdir()
    (tiny_corpus / "notes" / "new.txt").write_text("Batch Size\n\nSmaller batches flow faster.\n")
    second = ingest(settings, encoder=encoder)
    assert second.manifest is not None and second.build != first.build
    counts = second.manifest.counts
    assert counts["changed_pages"] == 2 and counts["encoded"] == 4  # page + passage, twice
    assert counts["reused_vectors"] == 2  # the untouched tag page

    (tiny_corpus / "notes" / "new.txt").unlink()
    third = ingest(settings, encoder=encoder)
    assert third.manifest is not None and third.build is not None
    assert third.manifest.counts["removed_pages"] == 1 and third.manifest.counts["encoded"] == 0
    assert "notes/new" not in third.manifest.page_hashes
    assert _passage_points(third.build) == 2
    assert third.manifest.engine == engine
    view = open_index(settings)
    assert view.find("notes/new") is None and view.find("/principles/flow/") is not None


def test_old_builds_pruned_but_current_kept(tiny_corpus: Path, tmp_path: Path, encoder: Encoder) -> None:
    settings = _settings(tiny_corpus, tmp_path).model_copy(update={"keep_builds": 2})
    builds = []
    for _ in range(3):
        result = ingest(settings, encoder=encoder, force=True)
        assert result.build is not None
        builds.append(result.build)
    assert not builds[0].exists() and builds[1].exists() and builds[2].exists()
    assert IndexLayout(settings.index_dir).current_build() == builds[2].resolve()


def test_second_ingest_refused_while_one_runs(tiny_corpus: Path, tmp_path: Path) -> None:
    import fcntl

    settings = _settings(tiny_corpus, tmp_path)
    settings.index_dir.mkdir(parents=True)
    with open(settings.index_dir / ".ingest.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(IngestError, match="another ingest"):
            ingest(settings)


def test_unwritable_index_is_a_clear_error(tiny_corpus: Path, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        target = Path("/proc/principles-index")  # not writable even for root
    else:
        target = tmp_path / "ro"
        target.mkdir(mode=0o500)
    with pytest.raises(IngestError, match="index folder"):
        ingest(Settings(corpus_dir=tiny_corpus, index_dir=target))


@pytest.mark.slow
def test_killed_ingest_leaves_previous_index(tiny_corpus: Path, tmp_path: Path, encoder: Encoder) -> None:
    """SIGKILL a real `principles ingest` at random moments: the served build never changes,
    never breaks, and the next ingest cleans up and succeeds."""
    settings = _settings(tiny_corpus, tmp_path)
    first = ingest(settings, encoder=encoder)
    assert first.build is not None
    before = Manifest.load(first.build)
    for i in range(6):
        (tiny_corpus / "notes").mkdir(exist_ok=True)
        (tiny_corpus / "notes" / f"n{i}.md").write_text(f"# Note {i}\n\nText number {i}.\n")
    rng = random.Random(7)
    cmd = [sys.executable, "-m", "principles_graph", "ingest", "--corpus", str(tiny_corpus),
           "--index", str(settings.index_dir)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    delays = sorted(rng.uniform(0.2, 12.0) for _ in range(4))
    published = before
    for delay in delays:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is not None:
            break  # finished before the kill: a later build is then current, which is fine
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        current = IndexLayout(settings.index_dir).current_build()
        assert current is not None
        manifest = Manifest.load(current)
        if manifest != published:
            # killed after its final rename: the new build is complete, never half-written
            assert manifest.counts["pages"] == 8 and manifest.build_id > published.build_id
            published = manifest
        view = open_index(settings)
        assert view.find("tags/flow") is not None and view.version == published.build_id
        assert _passage_points(current) == manifest.counts["passage_vectors"]
    done = ingest(settings, encoder=encoder)
    assert done.manifest is not None and done.manifest.counts["pages"] == 8
    leftovers = [p for p in (settings.index_dir / "builds").iterdir() if p.name.startswith(".")]
    assert leftovers == []
    assert json.loads((done.build / "pages.json").read_text())  # type: ignore[operator]
