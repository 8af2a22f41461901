"""Find the pages of a corpus folder and load them: discovery, decoding, duplicate ids."""

from __future__ import annotations

import hashlib
import operator
import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ingest.pages import DEFAULT_MAX_ALIASES, Page, build_page
from ingest.report import Action, Finding, Report, Severity
from ingest.safe_read import Refused, read_bounded
from ingest.source import read_reported, source_from_bytes
from principles.paths import BUNDLE_FILES, PAGE_SUFFIXES, page_id_for

NOT_PAGES = {"readme.md", "license.md", "changelog.md"}


@dataclass(frozen=True)
class CorpusFile:
    """Plain strings: every ingest lists the whole corpus, incremental ones included."""

    real: str  # the real file (a symlink inside the corpus is replaced by its target)
    rel: str  # where it sits in the corpus, `/`-separated: the page id comes from this

    @property
    def path(self) -> Path:
        return Path(self.real)


DEFAULT_MAX_FILE_BYTES = 2_000_000


def is_page_name(name: str) -> bool:
    """`Path(name).suffix` in plain string operations: called for every file of the corpus."""
    lower = name.lower()
    dot = lower.rfind(".")
    return dot > 0 and lower[dot:] in PAGE_SUFFIXES and lower not in NOT_PAGES


_NAME = operator.attrgetter("name")


def _walk(corpus: Path, report: Report) -> list[CorpusFile]:
    """Every page file under the corpus. Symbolic links (to files or folders) are followed
    only when their target lies inside the corpus; a link out of it, a broken link, a link
    loop and a special file (FIFO, device) are skipped with an error line each.

    Plain strings and the directory entries' own types (no stat per file): a 10k-page corpus
    is walked on every ingest, including the incremental ones."""
    root = os.path.realpath(corpus)
    found: list[CorpusFile] = []
    seen_dirs = {root}
    stack: list[tuple[str, str]] = [(root, "")]
    while stack:
        real_dir, rel_dir = stack.pop()
        try:
            entries = sorted(os.scandir(real_dir), key=_NAME)
        except OSError as exc:
            report.add(rel_dir or ".", "folder", f"cannot be read ({exc.strerror})",
                       Action.SKIPPED, Severity.ERROR, "unreadable")
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.is_symlink():
                target = _link_target(entry, root, rel, report)
                if target is None:
                    continue
                is_dir, is_file = os.path.isdir(target), os.path.isfile(target)
            else:
                target, is_dir, is_file = entry.path, entry.is_dir(), entry.is_file()
            if is_dir:
                if target in seen_dirs:
                    report.add(rel, "folder", "links back to a folder already read (a "
                               "symlink loop or a second link to it); not followed",
                               Action.SKIPPED, Severity.WARNING, "symlink")
                    continue
                seen_dirs.add(target)
                stack.append((target, rel))
            elif is_page_name(entry.name):
                if not is_file:
                    report.add(rel, "file", "is not a regular file (a device, FIFO or "
                               "socket); remove it from the corpus", Action.SKIPPED,
                               Severity.ERROR, "not-a-file")
                    continue
                found.append(CorpusFile(target, rel))
    return found


def _link_target(entry: os.DirEntry[str], root: str, rel: str, report: Report) -> str | None:
    """The real path a link inside the corpus points at; None (reported when it matters) for
    a link out of the corpus or a broken one."""
    target = os.path.realpath(entry.path)
    problem = None
    if not Path(target).is_relative_to(root):
        problem = ("is a symbolic link to a path outside the corpus; not followed - "
                   "replace it with the file itself")
    elif not os.path.exists(target):
        problem = "is a broken symbolic link; fix or delete it"
    if problem is None:
        return target
    if is_page_name(entry.name) or os.path.isdir(target) or not os.path.exists(target):
        report.add(rel, "file", problem, Action.SKIPPED, Severity.ERROR, "symlink")
    return None


def discover(corpus: Path, report: Report | None = None) -> list[CorpusFile]:
    """Page files, in a stable order where a bundle (`_index.md`, `index.md`) comes before a
    single file with the same id, so the bundle wins a duplicate id as it does in Hugo.
    Files skipped on the way (links out of the corpus, special files) go to `report`."""
    found = _walk(corpus, report if report is not None else Report())

    def order(item: CorpusFile) -> tuple[str, int, str]:
        name = item.rel.rpartition("/")[2]
        rank = 0 if name in BUNDLE_FILES else 1 if name.endswith(".md") else 2
        return (page_id_for(item.rel), rank, item.rel)

    return sorted(found, key=order)


UNREAD = "unread:"  # a file digest naming why the file was not read, not its bytes


def file_digest(path: str | Path, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> str:
    """sha256 (hex) of the file's bytes, read bounded like the ingest's own reads; or
    UNREAD + the reason (`too-large`, `unreadable`, ...)."""
    try:
        return hashlib.sha256(read_bounded(path, max_file_bytes)).hexdigest()
    except Refused as exc:
        return UNREAD + exc.kind
    except OSError:
        return UNREAD + "unreadable"


def file_digests(files: list[CorpusFile],
                 max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> dict[str, str]:
    """Every page file's digest by its corpus path: read once, for the corpus hash and for
    the parse step (which parses only files whose digest changed)."""
    return {item.rel: file_digest(item.real, max_file_bytes) for item in files}


def corpus_hash(files: list[CorpusFile], skipped: list[str] | None = None,
                max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
                digests: dict[str, str] | None = None) -> str:
    """Hash of every page file's path and bytes, plus the report lines of what discovery
    skipped (a new link out of the corpus must not look "up to date" and hide its error):
    equal hashes mean nothing to re-ingest. `digests`: `file_digests` of the same files and
    limit, when the caller has them already."""
    if digests is None:
        digests = file_digests(files, max_file_bytes)
    digest = hashlib.sha256()
    for rel in sorted(item.rel for item in files):
        digest.update(rel.encode())
        digest.update(b"\0")
        one = digests[rel]
        digest.update(one.removeprefix(UNREAD).encode() if one.startswith(UNREAD)
                      else bytes.fromhex(one))
    digest.update(f"max_file_bytes={max_file_bytes}".encode())
    for line in skipped or []:
        digest.update(line.encode("utf-8", "replace"))
    return digest.hexdigest()


class Resolved(NamedTuple):
    """What the previous build resolved for a page it stored: its terms and content hash."""

    terms: dict[str, list[str]]
    content_hash: str


@dataclass(frozen=True)
class ParsedFile:
    """One page file as parsed: the digest of the bytes parsed (None: not read), the page
    (None: skipped) and the report lines parsing it gave. `carried_over`: taken from the
    previous build (ingest/parse_cache.py), with what that build resolved for the page."""

    rel: str
    digest: str | None
    page: Page | None
    findings: list[Finding]
    carried_over: bool = False
    previous: Resolved | None = None


def parse_file(item: CorpusFile, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
               max_aliases: int = DEFAULT_MAX_ALIASES) -> ParsedFile:
    """Read, decode and normalise one file; never fails (problems become its findings)."""
    rel, found = item.rel, Report()
    raw = read_reported(item.path, rel, found, max_file_bytes)
    if raw is None:
        return ParsedFile(rel, None, None, found.findings)
    source = source_from_bytes(raw, rel, found)
    page = build_page(source, found, max_aliases=max_aliases) if source is not None else None
    return ParsedFile(rel, hashlib.sha256(raw).hexdigest(), page, found.findings)


def unique_pages(parsed: list[ParsedFile], report: Report) -> list[Page]:
    """The pages, in file order, with every file's findings; the second file claiming an
    id is skipped."""
    pages: dict[str, Page] = {}
    for item in parsed:
        report.findings.extend(item.findings)
        page = item.page
        if page is None:
            continue
        if page.id in pages:
            report.add(item.rel, "file", f"duplicate page id {page.id!r}: "
                       f"{pages[page.id].rel_path} already defines it; rename or delete one",
                       Action.SKIPPED, Severity.ERROR, "duplicate-id")
            continue
        pages[page.id] = page
    return list(pages.values())


def load_pages(files: list[CorpusFile], report: Report, *,
               max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
               max_aliases: int = DEFAULT_MAX_ALIASES) -> list[Page]:
    """Decode and normalise every file; the second file claiming an id is skipped."""
    return unique_pages([parse_file(item, max_file_bytes=max_file_bytes, max_aliases=max_aliases)
                         for item in files], report)
