"""Run the check: read the changed files as ingest reads them, then overlap, taxonomy, aliases
and links against the current build. Nothing is written; the corpus is not re-ingested.

Pages of the index whose files are gone from the corpus folder (deleted or moved in the
working tree) are treated as gone: their addresses are free, links to them are broken, and a
page is never reported as overlapping with its own previous location.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ingest.check.changes import Change
from ingest.check.context import IndexData, load_encoder, open_finder
from ingest.check.findings import CheckedFile, CheckFinding, CheckReport, where_parts
from ingest.check.links import extract, link_findings
from ingest.check.overlap import overlap_findings
from ingest.check.taxonomy import TermIndex, alias_findings, term_findings
from ingest.pages import Page, build_page
from ingest.report import Report, Severity
from ingest.source import SourceFile, read_source
from principles.contract import Chunking, PageRecord
from principles.embedder import QueryEncoder
from principles.overlap.draft import DraftError, parse_draft
from principles.overlap.finder import OverlapFinder
from principles.paths import page_id_for
from principles.settings import Settings

FRONT_MATTER_SEVERITIES = (Severity.ERROR, Severity.WARNING)


@dataclass
class _Read:
    change: Change
    file: str
    src: SourceFile | None
    page: Page | None


def display(path: Path) -> str:
    """Relative to the working directory when inside it: what CI annotations expect."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def _read(change: Change, report: CheckReport) -> _Read:
    file = display(change.path)
    if change.status == "deleted":
        return _Read(change, file, None, None)
    found = Report()
    src = read_source(change.path, str(change.rel), found)
    page = build_page(src, found) if src is not None else None
    for f in found.findings:
        if f.severity in FRONT_MATTER_SEVERITIES:
            line, name = where_parts(f.where)
            report.findings.append(CheckFinding(
                file=file, line=line, severity=f.severity.value, kind=f.kind, field=name,
                message=f.problem, action="ingest " + f.action.value + " it"))
    return _Read(change, file, src, page)


def run_check(settings: Settings, data: IndexData, changes: list[Change]) -> CheckReport:
    report = CheckReport()
    started = time.perf_counter()
    corpus = settings.corpus_dir
    reads = [_read(c, report) for c in changes]
    checked_ids = {r.page.id for r in reads if r.page is not None}
    gone = {pid for pid, p in data.pages.items()
            if pid not in checked_ids and not (corpus / p["rel_path"]).is_file()}
    paths = {path: pid for path, pid in data.paths.items() if pid not in gone}
    claimed: dict[str, str] = {}
    for r in reads:
        if r.page is not None:
            for path in [r.page.url, *r.page.aliases]:
                claimed.setdefault(path, r.page.id)
    known = {**paths, **claimed}
    ids = (set(data.pages) - gone) | checked_ids
    terms = TermIndex(data.terms, [(r.page.taxonomy[0], r.page.taxonomy[1], r.page.title)
                                   for r in reads if r.page is not None and r.page.taxonomy])
    report.timings["read"] = round(time.perf_counter() - started, 3)

    pages = [r for r in reads if r.page is not None and r.src is not None]
    finder: OverlapFinder | None = None
    encoder: QueryEncoder | None = None
    store = None
    if pages:
        mark = time.perf_counter()
        encoder = load_encoder(settings, data.manifest)
        finder, store = open_finder(settings, data)
        report.timings["model+store"] = round(time.perf_counter() - mark, 3)
    mark = time.perf_counter()
    try:
        for r in reads:
            _check_one(r, report, data, gone, paths, known, claimed, ids, terms, settings,
                       finder, encoder)
    finally:
        if store is not None:
            store.close()
    report.timings["check"] = round(time.perf_counter() - mark, 3)
    return report


def _check_one(r: _Read, report: CheckReport, data: IndexData, gone: set[str],
               paths: dict[str, str], known: dict[str, str], claimed: dict[str, str],
               ids: set[str], terms: TermIndex, settings: Settings,
               finder: OverlapFinder | None, encoder: QueryEncoder | None) -> None:
    change = r.change
    old_id = page_id_for(change.old_rel) if change.old_rel else None
    if r.page is None or r.src is None:
        page_id = page_id_for(change.rel)
        report.files.append(CheckedFile(r.file, page_id, change.status))
        if change.status == "deleted":
            report.findings.extend(_deleted(r.file, page_id, data, claimed))
        return
    page, src = r.page, r.src
    report.files.append(CheckedFile(r.file, page.id, change.status, page.title, page.url,
                                    str(change.old_rel) if change.old_rel else None))
    mine = {page.id} | ({old_id} if old_id else set())
    others = {path: pid for path, pid in claimed.items() if pid != page.id}
    report.findings.extend(alias_findings(page, src, paths, mine, others, r.file))
    if old_id and old_id in data.pages:
        report.findings.extend(_renamed(r.file, page, data.pages[old_id], src, claimed))
    report.findings.extend(term_findings(page, src, terms, r.file))
    broken, linked = link_findings(extract(src.body, src.body_line), page.url, known, ids, r.file)
    report.findings.extend(broken)
    if finder is None or encoder is None:
        return
    chunks = Chunking.of(data.manifest.chunking, settings)
    try:
        draft = parse_draft(change.path.read_text("utf-8-sig", "replace"), title=page.title,
                            passage_words=chunks.passage_words,
                            passage_overlap=chunks.passage_overlap,
                            max_words=settings.overlap_max_draft_words)
    except (DraftError, OSError):
        return  # unreadable front matter or no text: already reported above
    report.findings.extend(overlap_findings(
        finder, encoder, draft, file=r.file, url=page.url,
        exclude=frozenset(mine | gone), linked=linked, line=src.field_lines.get("title")))


def _renamed(file: str, page: Page, old: PageRecord, src: SourceFile,
             claimed: dict[str, str]) -> list[CheckFinding]:
    """A moved page keeps its readers only if its old url and aliases still lead to it."""
    lost = [p for p in [old["url"], *old["aliases"]] if claimed.get(p) is None]
    if not lost:
        return []
    return [CheckFinding(
        file=file, line=src.field_lines.get("aliases") or 1, severity="warning",
        kind="renamed-without-alias", field="aliases",
        message=f"renamed from {old['rel_path']}: {', '.join(lost)} will no longer lead anywhere",
        action=f"add {', '.join(lost)} to this page's aliases")]


def _deleted(file: str, page_id: str, data: IndexData, claimed: dict[str, str]) -> list[CheckFinding]:
    old = data.pages.get(page_id)
    if old is None:
        return []
    lost = [p for p in [old["url"], *old["aliases"]] if claimed.get(p) is None]
    if not lost:
        return []
    return [CheckFinding(
        file=file, line=None, severity="warning", kind="deleted-page",
        message=f"deleted page {page_id!r} ({old['title']}): {', '.join(lost)} will answer 404",
        action="add these paths to the aliases of the page that replaces it")]
