"""Carry over the parse of every page file whose bytes are unchanged since the previous build.

Parsing a page (YAML front matter above all) is a pure function of its corpus path, its bytes,
the parsing settings and the code; so a file with the same path and digest as in the previous
build parses into the page that build stored in pages.json, with the report lines it stored in
parsed.json. Only changed and new files are parsed again. Everything resolved across the
corpus (duplicate ids, terms, aliases, editorial rules) is still resolved over all pages.

A previous build made by other code or settings (the fingerprint), of another index format,
or damaged, carries nothing over.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import msgspec
import yaml

from ingest.corpus import CorpusFile, ParsedFile, Resolved, parse_file
from ingest.pages import Page, no_terms
from ingest.report import Finding
from principles.contract import PAGES_FILE, PARSED_FILE, ParsedFileRecord, ParsedRecord
from principles.index import INDEX_FORMAT, Manifest
from principles.settings import Settings

CODE_PACKAGES = ("ingest", "principles", "ontology")  # whatever parsing may call lives here


@functools.cache
def _code_digest() -> str:
    """The source of every module parsing may run, and the libraries' versions: any edit
    to the code invalidates what earlier builds parsed (a wider net than needed, never
    narrower)."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for package in CODE_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(f"{sys.version_info[:2]} yaml={yaml.__version__} "
                  f"unicode={unicodedata.unidata_version}".encode())
    return digest.hexdigest()


def fingerprint(settings: Settings) -> str:
    """What, besides a file's path and bytes, decides how it parses."""
    return hashlib.sha256(f"{_code_digest()} format={INDEX_FORMAT} "
                          f"max_file_bytes={settings.max_file_bytes} "
                          f"max_aliases={settings.max_aliases}".encode()).hexdigest()


# pages.json decoded straight into pages (typed and checked as it is read; the record's
# `passages` and `hash` are skipped): twice as fast as json.loads and a Page per record.
_PAGES = msgspec.json.Decoder(list[Page])


class ParseCache:
    """The previous build's parsed files (by corpus path), its pages (by id, read on first
    use) and its content hashes."""

    def __init__(self, build: Path, files: dict[str, ParsedFileRecord],
                 hashes: dict[str, str]) -> None:
        self.build, self.files, self.hashes = build, files, hashes
        self._pages: dict[str, Page] | None = None

    @classmethod
    def load(cls, build: Path | None, manifest: Manifest | None,
             current: str) -> ParseCache | None:
        """None when nothing can be carried over (no previous build, another fingerprint or
        index format, a build written before parsed.json, a damaged file)."""
        if build is None or manifest is None or manifest.index_format != INDEX_FORMAT:
            return None
        try:
            parsed = msgspec.convert(json.loads((build / PARSED_FILE).read_bytes()), ParsedRecord)
            files = {entry["rel"]: entry for entry in parsed["files"]}
        except (OSError, ValueError, msgspec.MsgspecError):
            return None
        if parsed["fingerprint"] != current:
            return None
        return cls(build, files, manifest.page_hashes)

    def unchanged(self, rel: str, digest: str | None) -> bool:
        entry = self.files.get(rel)
        return digest is not None and entry is not None and entry["digest"] == digest

    def _pages_by_id(self) -> dict[str, Page]:
        """pages.json, decoded once; empty when damaged (every file is then parsed)."""
        if self._pages is None:
            try:
                self._pages = {page.id: page for page in
                               _PAGES.decode((self.build / PAGES_FILE).read_bytes())}
            except (OSError, msgspec.MsgspecError):
                self._pages = {}
        return self._pages

    def reuse(self, rel: str, digest: str | None) -> ParsedFile | None:
        """The file as the previous build parsed it, if its bytes are the same. Each stored
        page is handed out once: the caller resolves (mutates) it."""
        if not self.unchanged(rel, digest):
            return None
        entry = self.files[rel]
        findings = [Finding.of(f) for f in entry["findings"]]
        if entry["page"] is None:
            return ParsedFile(rel, digest, None, findings, carried_over=True)
        pages = self._pages_by_id()
        page = pages.get(entry["page"])
        if page is None or page.rel_path != rel:  # it lost a duplicate id: parse it
            return None
        del pages[page.id]
        resolved, page.terms = page.terms, no_terms()  # as `build_page` leaves them
        content_hash = self.hashes.get(page.id)
        return ParsedFile(rel, digest, page, findings, carried_over=True,
                          previous=Resolved(resolved, content_hash) if content_hash else None)


@dataclass(frozen=True)
class ParsedCorpus:
    """Every page file of this build as parsed (or carried over), and the fingerprint that
    says what the next build may carry over from it."""

    fingerprint: str
    files: list[ParsedFile]

    @property
    def parsed_again(self) -> int:
        return sum(not item.carried_over for item in self.files)

    def save(self, folder: Path) -> None:
        """parsed.json: every file that was read, with its digest and findings."""
        record: ParsedRecord = {"fingerprint": self.fingerprint, "files": [
            {"rel": item.rel, "digest": item.digest,
             "page": item.page.id if item.page is not None else None,
             "findings": [f.record() for f in item.findings]}
            for item in self.files if item.digest is not None]}
        # ASCII: a report line may quote a lone surrogate from YAML ("\ud800"), which UTF-8
        # cannot hold and msgspec cannot read back
        (folder / PARSED_FILE).write_text(json.dumps(record, separators=(",", ":")), "ascii")


def parse_changed(files: list[CorpusFile], digests: dict[str, str], cache: ParseCache | None,
                  settings: Settings) -> dict[str, ParsedFile]:
    """The files whose bytes are not the previous build's, parsed (by corpus path)."""
    return {item.rel: _parse(item, settings) for item in files
            if cache is None or not cache.unchanged(item.rel, digests.get(item.rel))}


def carry_over(files: list[CorpusFile], digests: dict[str, str], cache: ParseCache | None,
               changed: dict[str, ParsedFile], settings: Settings) -> list[ParsedFile]:
    """Every file in order: `changed` ones as parsed, the others as the previous build
    parsed them (or parsed now, the rare file whose page that build did not keep)."""
    out = []
    for item in files:
        found = changed.get(item.rel)
        if found is None and cache is not None:
            found = cache.reuse(item.rel, digests.get(item.rel))
        out.append(found or _parse(item, settings))
    return out


def _parse(item: CorpusFile, settings: Settings) -> ParsedFile:
    return parse_file(item, max_file_bytes=settings.max_file_bytes,
                      max_aliases=settings.max_aliases)


def kept_records(parsed: list[ParsedFile], pages: list[Page]) -> set[str]:
    """The pages carried over whose resolved terms are the ones the previous build resolved:
    every field of their pages.json record but `passages` is that build's (ingest/pages_file.py)."""
    alike = {id(item.page) for item in parsed if item.page is not None
             and item.previous is not None and item.previous.terms == item.page.terms}
    return {page.id for page in pages if id(page) in alike}  # not a file that lost its id


def content_hashes(parsed: list[ParsedFile], pages: list[Page]) -> dict[str, str]:
    """Each page's content hash (terms resolved). A carried-over page whose resolved terms
    are the ones the previous build resolved has that build's hash: every other input of
    `Page.content_hash` comes from the same bytes through the same code."""
    previous = {id(item.page): item.previous for item in parsed if item.previous is not None}
    hashes: dict[str, str] = {}
    for page in pages:
        before = previous.get(id(page))
        hashes[page.id] = (before.content_hash if before is not None and before.terms == page.terms
                           else page.content_hash())
    return hashes
