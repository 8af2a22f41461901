"""`principles export hugo`: the site's own data files, from the index, with no template change.

Writes, for every page bundle, `<bundle>/data.index.related.json` in exactly the shape the
site's Hugo templates already read (field names, order, types as in the real files):

    {"related": [{"Title", "Slug", "Reference", "EntryId", "EntryKind", "EntryType",
                  "EntryGenAt", "Similarity"}, ...]}

up to five entries per resource type (videos, blog, signals, guides, course...), sorted by
similarity, 2-space indented; plus the alias redirect map as Azure Static Web Apps route rules
(`staticwebapp.config.json`) and a Netlify-style `_redirects` file.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from principles.contract import PageRecord
from principles.paths import site_path_problem, slugify
from service.controllers.related import related_rows
from service.index import IndexView

PER_TYPE = 5
KEEP = 40  # rows ingest keeps per page (ingest/related.py)
COURSE_PREFIX = "capabilities/training-courses/"


@dataclass(frozen=True)
class ExportSummary:
    files: int
    entries: int
    skipped_single_files: int
    redirects: int


def entry_kind_and_type(page: PageRecord) -> tuple[str, str] | None:
    """("resource", "<folder>") for resources, ("program", "course") for courses, else None:
    the site relates only to these (never to taxonomy pages or notes)."""
    parts = page["id"].split("/")
    if page["id"].startswith(COURSE_PREFIX):
        return "program", "course"
    if parts[0] == "resources" and len(parts) >= 3:
        return "resource", parts[1]
    return None


def entry_id(page: PageRecord, kind: str, entry_type: str) -> str:
    if kind == "program":
        return str(page["slug"] or slugify(page["title"]))
    if entry_type == "videos" or not page["resource_id"]:
        return str(page["id"].rsplit("/", 1)[-1])
    return str(page["resource_id"])


def related_entries(index: IndexView, page_id: str, generated: str) -> list[dict[str, Any]]:
    per_type: Counter[str] = Counter()
    out: list[dict[str, Any]] = []
    for row in related_rows(index, page_id, KEEP, hubs=True):  # editor's rules included
        target = index.pages[row["id"]]
        classified = entry_kind_and_type(target)
        if classified is None or not index.visible(target):
            continue
        kind, entry_type = classified
        if per_type[entry_type] == PER_TYPE:
            continue
        per_type[entry_type] += 1
        out.append({"Title": target["title"], "Slug": target["slug"] or slugify(target["title"]),
                    "Reference": target["id"], "EntryId": entry_id(target, kind, entry_type),
                    "EntryKind": kind, "EntryType": entry_type, "EntryGenAt": generated,
                    "Similarity": float(row["score"])})
    return sorted(out, key=lambda e: -e["Similarity"])


def bundle_folder(page: PageRecord) -> str | None:
    """Where Hugo sees the file as a page resource: the folder of `_index.md` / `index.md`."""
    rel = page["rel_path"]
    if rel.endswith(("/_index.md", "/index.md")) or rel in ("_index.md", "index.md"):
        return rel.rsplit("/", 1)[0] if "/" in rel else ""
    return None


def redirects(index: IndexView) -> list[tuple[str, str]]:
    """(old path, canonical url) rules from validated values only: ingest already refuses
    whitespace and control characters, but a build from an older ingest may hold them, and one
    newline in `_redirects` adds a rule (`/* /hijacked 302`). `/` is never redirected away."""
    rows = []
    for path, page_id in sorted(index.paths.items()):
        page = index.pages[page_id]
        if path == page["url"] or not index.visible(page) or path == "/":
            continue
        if not _safe_path(path) or not _safe_path(page["url"]):
            continue
        rows.append((path, page["url"]))
    return rows


def _safe_path(path: str) -> bool:
    return path.startswith("/") and not path.startswith("//") and site_path_problem(path) is None


def export_hugo(index: IndexView, out: Path) -> ExportSummary:
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    files = entries = skipped = 0
    for page in index.pages.values():
        if not index.visible(page):
            continue
        folder = bundle_folder(page)
        if folder is None:
            skipped += 1
            continue
        rows = related_entries(index, page["id"], generated)
        target = out / folder / "data.index.related.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps({"related": rows}, indent=2, ensure_ascii=False), "utf-8")
        files += 1
        entries += len(rows)
    moves = redirects(index)
    routes = [{"route": old, "redirect": new, "statusCode": 301} for old, new in moves]
    (out / "staticwebapp.config.json").write_text(json.dumps({"routes": routes}, indent=2), "utf-8")
    (out / "_redirects").write_text("".join(f"{old} {new} 301\n" for old, new in moves), "utf-8")
    return ExportSummary(files, entries, skipped, len(moves))
