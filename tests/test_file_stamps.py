"""File digests carried over by stat (ingest/file_stamps.py): a file is read again whenever
its stat moved, including an edit that restores the mtime, and a file changed too recently
to trust its stat is never stamped. Real files in tmp; the ingest test runs the real job."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import ingest.file_stamps as file_stamps
from bench.scale import SyntheticEncoder
from ingest.corpus import discover, file_digest
from ingest.file_stamps import FileStamps, stamped_digests
from ingest.pipeline import ingest
from principles.settings import Settings

LIMIT = 2_000_000


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


@pytest.fixture()
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files whose bytes `stamped_digests` read."""
    seen: list[str] = []

    def counted(path: str | Path, limit: int = LIMIT) -> str:
        seen.append(str(path))
        return file_digest(path, limit)

    monkeypatch.setattr(file_stamps, "file_digest", counted)
    return seen


def test_unchanged_files_are_not_read_again(tmp_path: Path, reads: list[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_stamps, "RACY_NS", -10**9)  # trust stats written a moment ago
    for name in ("a", "b", "c"):
        _write(tmp_path / f"{name}.md", f"---\ntitle: {name}\n---\nbody {name}\n")
    files = discover(tmp_path)
    digests, stamps = stamped_digests(files, LIMIT, FileStamps())
    assert digests == {f.rel: file_digest(f.real) for f in files}
    assert len(reads) == 3 and set(stamps.known) == {"a.md", "b.md", "c.md"}
    stamps.save(tmp_path)
    reads.clear()
    again, _ = stamped_digests(files, LIMIT, FileStamps.load(tmp_path))
    assert again == digests and reads == []


def test_an_edit_that_restores_size_and_mtime_is_still_read(
        tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_stamps, "RACY_NS", -10**9)
    page = tmp_path / "a.md"
    _write(page, "---\ntitle: before\n---\n")
    files = discover(tmp_path)
    digests, stamps = stamped_digests(files, LIMIT, FileStamps())
    before = os.stat(page)
    _write(page, "---\ntitle: after!\n---\n")  # same size
    os.utime(page, ns=(before.st_atime_ns, before.st_mtime_ns))  # mtime as it was
    if os.stat(page).st_ctime_ns == before.st_ctime_ns:  # pragma: no cover - coarse clock
        pytest.skip("this file system's ctime did not move within the test")
    reads.clear()
    again, _ = stamped_digests(files, LIMIT, stamps)
    assert reads == [str(page)] and again["a.md"] == file_digest(page) != digests["a.md"]


def test_a_file_swapped_for_a_link_or_made_too_large_is_read_and_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_stamps, "RACY_NS", -10**9)
    _write(tmp_path / "a.md", "---\ntitle: a\n---\n")
    _write(tmp_path / "b.md", "---\ntitle: b\n---\n")
    _write(tmp_path / "elsewhere.txt", "x" * 100)
    files = [f for f in discover(tmp_path) if f.rel != "elsewhere.txt"]
    _, stamps = stamped_digests(files, LIMIT, FileStamps())
    (tmp_path / "a.md").unlink()
    (tmp_path / "a.md").symlink_to(tmp_path / "elsewhere.txt")
    digests, later = stamped_digests(files, 10, stamps)  # b.md is now over the limit too
    assert digests == {"a.md": "unread:symlink", "b.md": "unread:too-large"}
    assert later.known == {}  # a refusal is never carried over: the next run reads again


def test_a_file_changed_just_now_gets_no_stamp(tmp_path: Path) -> None:
    _write(tmp_path / "a.md", "---\ntitle: a\n---\n")
    os.utime(tmp_path / "a.md", (1_000_000_000, 1_000_000_000))  # an old mtime, a new ctime
    digests, stamps = stamped_digests(discover(tmp_path), LIMIT, FileStamps())
    assert set(digests) == {"a.md"}
    assert stamps.known == {}  # ctime cannot be set back: it was written a moment ago


def test_a_damaged_stamps_file_only_costs_reads(tmp_path: Path) -> None:
    (tmp_path / file_stamps.STAMPS_FILE).write_text('[["a.md", [1, 2]', "utf-8")
    assert FileStamps.load(tmp_path).known == {}
    assert FileStamps.load(None).known == {}


def test_reingest_sees_an_edit_that_kept_size_and_mtime(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_stamps, "RACY_NS", -10**9)
    corpus = tmp_path / "corpus"
    page = corpus / "notes" / "queues.md"
    _write(page, "---\ntitle: Queues AAA\n---\nEvery queue adds waiting time.\n")
    _write(corpus / "notes" / "flow.md", "---\ntitle: Flow\n---\nWork moves without waiting.\n")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model="synthetic",
                        query_encoder="torch")
    first = ingest(settings, encoder=SyntheticEncoder())  # type: ignore[arg-type]
    assert first.build is not None and (first.build / file_stamps.STAMPS_FILE).is_file()
    before = os.stat(page)
    _write(page, "---\ntitle: Queues BBB\n---\nEvery queue adds waiting time.\n")
    os.utime(page, ns=(before.st_atime_ns, before.st_mtime_ns))
    second = ingest(settings, encoder=SyntheticEncoder())  # type: ignore[arg-type]
    assert not second.up_to_date and second.manifest is not None
    assert second.manifest.counts["parsed_files"] == 1
    assert "Queues BBB" in (second.build / "pages.json").read_text("utf-8")  # type: ignore[operator]
    third = ingest(settings, encoder=SyntheticEncoder())  # type: ignore[arg-type]
    assert third.up_to_date
