"""Find the pages of a corpus folder and load them: discovery, decoding, duplicate ids."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ingest.pages import Page, build_page
from ingest.report import Action, Report, Severity
from ingest.source import read_source
from principles.paths import BUNDLE_FILES, PAGE_SUFFIXES, page_id_for

NOT_PAGES = {"readme.md", "license.md", "changelog.md"}


@dataclass(frozen=True)
class CorpusFile:
    path: Path
    rel: PurePosixPath


def discover(corpus: Path) -> list[CorpusFile]:
    """Page files, in a stable order where a bundle (`_index.md`, `index.md`) comes before a
    single file with the same id, so the bundle wins a duplicate id as it does in Hugo."""
    found: list[CorpusFile] = []
    for path in corpus.rglob("*"):
        rel = PurePosixPath(path.relative_to(corpus).as_posix())
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if path.suffix.lower() not in PAGE_SUFFIXES or path.name.lower() in NOT_PAGES:
            continue
        found.append(CorpusFile(path, rel))

    def order(item: CorpusFile) -> tuple[str, int, str]:
        rank = 0 if item.rel.name in BUNDLE_FILES else 1 if item.rel.suffix == ".md" else 2
        return (page_id_for(item.rel), rank, str(item.rel))

    return sorted(found, key=order)


def corpus_hash(files: list[CorpusFile]) -> str:
    """Hash of every page file's path and bytes: equal hashes mean nothing to re-ingest."""
    digest = hashlib.sha256()
    for item in sorted(files, key=lambda f: str(f.rel)):
        digest.update(str(item.rel).encode())
        digest.update(b"\0")
        try:
            digest.update(hashlib.sha256(item.path.read_bytes()).digest())
        except OSError:
            digest.update(b"unreadable")
    return digest.hexdigest()


def load_pages(files: list[CorpusFile], report: Report) -> list[Page]:
    """Decode and normalise every file; the second file claiming an id is skipped."""
    pages: dict[str, Page] = {}
    for item in files:
        source = read_source(item.path, str(item.rel), report)
        if source is None:
            continue
        page = build_page(source, report)
        if page.id in pages:
            report.add(str(item.rel), "file", f"duplicate page id {page.id!r}: "
                       f"{pages[page.id].rel_path} already defines it; rename or delete one",
                       Action.SKIPPED, Severity.ERROR, "duplicate-id")
            continue
        pages[page.id] = page
    return list(pages.values())
