"""Hostile corpus files (tests/hostile.py): nothing outside the corpus is read or served, every
refusal is a report line naming the file, and parsing the whole set stays within seconds and
megabytes."""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ingest.corpus import discover, load_pages
from ingest.pipeline import IngestResult
from ingest.report import Report
from principles_graph.cli import app
from tests.hostile import EXPECTED, SECRET


def test_parsing_every_hostile_file_is_bounded(hostile_root: Path) -> None:
    """Discovery and parsing of the whole set: well under a second and 50 MB (the YAML bomb
    took 7 s, the 50 MB file 170 s and 2 GB, 100k aliases 146 s before)."""
    tracemalloc.start()
    started = time.perf_counter()
    report = Report()
    pages = load_pages(discover(hostile_root, report), report)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 5, elapsed
    assert peak < 50_000_000, peak
    assert {p.id for p in pages} >= {"index", "resources/articles/good", "inside-link"}


@pytest.mark.parametrize(("path", "expected"), sorted(EXPECTED.items()))
def test_each_hostile_file_has_its_report_line(hostile_ingest: IngestResult, path: str,
                                               expected: tuple[str, str]) -> None:
    kind, severity = expected
    lines = [f for f in hostile_ingest.report.findings if f.path == path and f.kind == kind]
    assert lines, [f.line() for f in hostile_ingest.report.findings if f.path == path]
    assert any(f.severity.value == severity for f in lines)
    assert all(len(f.line()) < 600 for f in lines), "report lines carry excerpts only"


def test_nothing_outside_the_corpus_reaches_the_build(hostile_ingest: IngestResult) -> None:
    assert hostile_ingest.build is not None
    for file in hostile_ingest.build.rglob("*"):
        if file.is_file():
            assert b"TOP-SECRET" not in file.read_bytes(), file
    pages = json.loads((hostile_ingest.build / "pages.json").read_text("utf-8"))
    assert not [p for p in pages if SECRET in p["body"]]


def test_report_stays_small(hostile_ingest: IngestResult) -> None:
    assert hostile_ingest.build is not None
    assert (hostile_ingest.build / "report.json").stat().st_size < 200_000


def test_aliases_and_urls_are_validated(hostile_ingest: IngestResult) -> None:
    assert hostile_ingest.build is not None
    pages = {p["id"]: p for p in json.loads((hostile_ingest.build / "pages.json").read_text("utf-8"))}
    assert pages["newline-alias"]["aliases"] == ["/fine/"]
    assert pages["encoded-newline-alias"]["aliases"] == []
    assert pages["tab-url"]["url"] == "/tab-url/"
    assert pages["root-url"]["url"] == "/root-url/"
    assert pages["root-alias"]["aliases"] == []
    assert len(pages["many-aliases"]["aliases"]) == 500
    assert len(pages["long-title"]["title"]) == 300
    paths = json.loads((hostile_ingest.build / "aliases.json").read_text("utf-8"))["paths"]
    assert paths["/"] == "index"


def test_the_symlink_fails_strict(hostile_root: Path, tmp_path: Path) -> None:
    """CI runs `ingest --strict`: a link out of the corpus must fail it, even when the rest of
    the corpus is unchanged since the previous build (the skipped file is part of the hash)."""
    corpus = tmp_path / "corpus"
    (corpus / "tags" / "flow").mkdir(parents=True)
    (corpus / "tags" / "flow" / "_index.md").write_text("---\ntitle: Flow\n---\nFlow.\n", "utf-8")
    index = tmp_path / "index"
    runner = CliRunner()
    first = runner.invoke(app, ["ingest", "--corpus", str(corpus), "--index", str(index), "--strict"])
    assert first.exit_code == 0, first.output
    (corpus / "passwd.md").symlink_to(hostile_root.parent / "outside" / "passwd")
    second = runner.invoke(app, ["ingest", "--corpus", str(corpus), "--index", str(index), "--strict"])
    assert second.exit_code == 1, second.output
    assert "passwd.md" in second.output and "symbolic link" in second.output
