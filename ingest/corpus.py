"""Find the pages of a corpus folder and load them: discovery, decoding, duplicate ids."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ingest.pages import DEFAULT_MAX_ALIASES, Page, build_page
from ingest.report import Action, Report, Severity
from ingest.safe_read import Refused, read_bounded
from ingest.source import read_source
from principles.paths import BUNDLE_FILES, PAGE_SUFFIXES, page_id_for

NOT_PAGES = {"readme.md", "license.md", "changelog.md"}


@dataclass(frozen=True)
class CorpusFile:
    path: Path  # the real file (a symlink inside the corpus is replaced by its target)
    rel: PurePosixPath  # where it sits in the corpus: the page id comes from this


DEFAULT_MAX_FILE_BYTES = 2_000_000


def is_page_name(name: str) -> bool:
    return Path(name).suffix.lower() in PAGE_SUFFIXES and name.lower() not in NOT_PAGES


def _walk(corpus: Path, report: Report) -> list[CorpusFile]:
    """Every page file under the corpus. Symbolic links (to files or folders) are followed
    only when their target lies inside the corpus; a link out of it, a broken link, a link
    loop and a special file (FIFO, device) are skipped with an error line each."""
    root = Path(os.path.realpath(corpus))
    found: list[CorpusFile] = []
    seen_dirs = {root}
    stack: list[tuple[Path, PurePosixPath]] = [(root, PurePosixPath())]
    while stack:
        real_dir, rel_dir = stack.pop()
        try:
            entries = sorted(os.scandir(real_dir), key=lambda e: e.name)
        except OSError as exc:
            report.add(str(rel_dir) or ".", "folder", f"cannot be read ({exc.strerror})",
                       Action.SKIPPED, Severity.ERROR, "unreadable")
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = rel_dir / entry.name
            target = Path(entry.path)
            if entry.is_symlink():
                target = Path(os.path.realpath(entry.path))
                problem = None
                if not target.is_relative_to(root):
                    problem = ("is a symbolic link to a path outside the corpus; not followed - "
                               "replace it with the file itself")
                elif not target.exists():
                    problem = "is a broken symbolic link; fix or delete it"
                if problem is not None:
                    if is_page_name(entry.name) or target.is_dir() or not target.exists():
                        report.add(str(rel), "file", problem, Action.SKIPPED, Severity.ERROR,
                                   "symlink")
                    continue
            if target.is_dir():
                if target in seen_dirs:
                    report.add(str(rel), "folder", "links back to a folder already read (a "
                               "symlink loop or a second link to it); not followed",
                               Action.SKIPPED, Severity.WARNING, "symlink")
                    continue
                seen_dirs.add(target)
                stack.append((target, rel))
            elif is_page_name(entry.name):
                if not target.is_file():
                    report.add(str(rel), "file", "is not a regular file (a device, FIFO or "
                               "socket); remove it from the corpus", Action.SKIPPED,
                               Severity.ERROR, "not-a-file")
                    continue
                found.append(CorpusFile(target, rel))
    return found


def discover(corpus: Path, report: Report | None = None) -> list[CorpusFile]:
    """Page files, in a stable order where a bundle (`_index.md`, `index.md`) comes before a
    single file with the same id, so the bundle wins a duplicate id as it does in Hugo.
    Files skipped on the way (links out of the corpus, special files) go to `report`."""
    found = _walk(corpus, report if report is not None else Report())

    def order(item: CorpusFile) -> tuple[str, int, str]:
        rank = 0 if item.rel.name in BUNDLE_FILES else 1 if item.rel.suffix == ".md" else 2
        return (page_id_for(item.rel), rank, str(item.rel))

    return sorted(found, key=order)


def corpus_hash(files: list[CorpusFile], skipped: list[str] | None = None,
                max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> str:
    """Hash of every page file's path and bytes, plus the report lines of what discovery
    skipped (a new link out of the corpus must not look "up to date" and hide its error):
    equal hashes mean nothing to re-ingest. Reads are bounded like the ingest's own."""
    digest = hashlib.sha256()
    for item in sorted(files, key=lambda f: str(f.rel)):
        digest.update(str(item.rel).encode())
        digest.update(b"\0")
        try:
            digest.update(hashlib.sha256(read_bounded(item.path, max_file_bytes)).digest())
        except Refused as exc:
            digest.update(exc.kind.encode())
        except OSError:
            digest.update(b"unreadable")
    digest.update(f"max_file_bytes={max_file_bytes}".encode())
    for line in skipped or []:
        digest.update(line.encode("utf-8", "replace"))
    return digest.hexdigest()


def load_pages(files: list[CorpusFile], report: Report, *,
               max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
               max_aliases: int = DEFAULT_MAX_ALIASES) -> list[Page]:
    """Decode and normalise every file; the second file claiming an id is skipped."""
    pages: dict[str, Page] = {}
    for item in files:
        source = read_source(item.path, str(item.rel), report, max_file_bytes)
        if source is None:
            continue
        page = build_page(source, report, max_aliases=max_aliases)
        if page.id in pages:
            report.add(str(item.rel), "file", f"duplicate page id {page.id!r}: "
                       f"{pages[page.id].rel_path} already defines it; rename or delete one",
                       Action.SKIPPED, Severity.ERROR, "duplicate-id")
            continue
        pages[page.id] = page
    return list(pages.values())
