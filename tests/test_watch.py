"""`principles ingest --watch`: a saved page becomes a new current build; noise does not; a
broken rebuild keeps the previous build and the watch alive."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from ingest.pipeline import IngestResult
from ingest.watch import CorpusFilter, watch_corpus
from principles.index import IndexLayout
from principles.settings import Settings
from principles_graph.cli import app

WAIT = 120.0  # seconds a rebuild may take on a busy 2-core machine (encodes one page)


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_a_saved_page_becomes_the_current_build(tiny_corpus: Path, tmp_path: Path) -> None:
    settings = Settings(corpus_dir=tiny_corpus, index_dir=tmp_path / "index")
    layout = IndexLayout(settings.index_dir)
    results: list[IngestResult] = []
    stop = threading.Event()
    lines = Console(record=True, width=200)
    watcher = threading.Thread(target=watch_corpus, args=(settings, lines),
                               kwargs={"debounce_ms": 200, "stop": stop,
                                       "on_result": results.append}, daemon=True)
    watcher.start()
    try:
        _wait_for(lambda: len(results) == 1, "the first build")
        first = layout.current_build()
        assert first is not None and not results[0].up_to_date
        time.sleep(0.5)  # the watcher is registered by now

        (tiny_corpus / "notes.swp").write_text("editor noise")  # not a page: ignored
        page = tiny_corpus / "resources" / "articles" / "batches.md"
        page.write_text("---\ntitle: Small Batches\ntags:\n- Flow\n---\n"
                        "Small batches reach customers sooner and fail smaller.\n", "utf-8")
        _wait_for(lambda: len(results) >= 2, "a rebuild after the save")
        second = layout.current_build()
        assert second is not None and second != first
        pages = {p["id"] for p in json.loads((second / "pages.json").read_text("utf-8"))}
        assert "resources/articles/batches" in pages
        assert results[1].manifest is not None
        assert results[1].manifest.counts["changed_pages"] == 1  # incremental: one page encoded

        (tiny_corpus / "tags" / "flow" / "_index.md").write_text("---\ntitle: [broken\n---\n")
        _wait_for(lambda: len(results) >= 3, "a rebuild after the broken save")
        assert layout.current_build() is not None
        assert watcher.is_alive()
    finally:
        stop.set()
        watcher.join(timeout=30)
    assert not watcher.is_alive()
    assert "watching" in lines.export_text()


def test_only_pages_and_the_rules_file_trigger_a_rebuild(tmp_path: Path) -> None:
    from watchfiles import Change

    rules = tmp_path / "related-rules.yaml"
    settings = Settings(corpus_dir=tmp_path / "c", index_dir=tmp_path / "c" / "var" / "index",
                        related_rules=rules)
    keep = CorpusFilter(settings)
    assert keep(Change.modified, str(tmp_path / "c" / "a" / "page.md"))
    assert keep(Change.added, str(tmp_path / "c" / "notes.txt"))
    assert keep(Change.modified, str(rules))
    assert not keep(Change.modified, str(tmp_path / "c" / "image.png"))
    assert not keep(Change.modified, str(tmp_path / "c" / ".page.md.swp"))
    assert not keep(Change.modified, str(tmp_path / "c" / "README.md"))
    assert not keep(Change.added, str(tmp_path / "c" / "var" / "index" / "builds" / "x" / "a.md"))


def test_watch_refuses_flags_it_cannot_honour(tiny_corpus: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["ingest", "--corpus", str(tiny_corpus), "--index",
                                      str(tmp_path / "i"), "--watch", "--force"])
    assert result.exit_code == 2 and "--watch" in result.output
    missing = CliRunner().invoke(app, ["ingest", "--corpus", str(tmp_path / "nope"), "--index",
                                       str(tmp_path / "i"), "--watch"])
    assert missing.exit_code == 2 and "does not exist" in missing.output
