"""Editorial control of related links, applied as a layer over the precomputed related rows.

The related rows are pure computation (ingest/related.py); editors need the last word:
- per page, front matter `related: {pin: [...], exclude: [...]}` (page ids, urls or aliases):
  pinned pages come first, with the reason "pinned by the editor"; excluded pages never appear;
- site-wide, a rules file (`PRINCIPLES_RELATED_RULES`, YAML): `exclude_types`,
  `exclude_sections` (page-id prefixes such as `resources/videos`), `boost_same_section`
  (added to the score of pages in the same section), `max_per_type` (a number, or a mapping
  type -> number with an optional `default`), `fallback` (pages that fill a short list).
Ingest resolves every reference to a page id and writes `editorial.json` into the build; the
API, the widget (through the API) and the Hugo export all read rows through `apply`, so they
say the same thing. Nothing here changes the computed scores' weights.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from principles.contract import PageRecord

FILE = "editorial.json"
PINNED = "pinned by the editor"
FALLBACK = "fallback chosen by the editor"
SITE_KEYS = ("exclude_types", "exclude_sections", "boost_same_section", "max_per_type", "fallback")


@dataclass
class SiteRules:
    exclude_types: list[str] = field(default_factory=list)
    exclude_sections: list[str] = field(default_factory=list)
    boost_same_section: float = 0.0
    max_per_type: dict[str, int] = field(default_factory=dict)  # type -> n; "default" for all
    fallback: list[str] = field(default_factory=list)  # page ids


@dataclass
class Editorial:
    site: SiteRules = field(default_factory=SiteRules)
    pages: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # id -> pin/exclude ids

    def save(self, folder: Path) -> None:
        (folder / FILE).write_text(json.dumps(asdict(self), ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, folder: Path) -> Editorial:
        """The build's rules; a build written before editorial rules existed has none."""
        path = folder / FILE
        if not path.is_file():
            return cls()
        data = json.loads(path.read_text("utf-8"))
        return cls(site=SiteRules(**data["site"]), pages=data["pages"])

    @property
    def empty(self) -> bool:
        return not self.pages and self.site == SiteRules()


def section(page_id: str) -> str:
    """`resources/videos/x` -> `resources/videos`; `tags/x` -> `tags`; `about` -> ``."""
    return page_id.rsplit("/", 1)[0] if "/" in page_id else ""


def _in_sections(page_id: str, sections: list[str]) -> bool:
    return any(page_id == s or page_id.startswith(s.rstrip("/") + "/") for s in sections)


def _made_row(source: PageRecord, target: PageRecord, reason: str) -> dict[str, Any]:
    """A row for a page the computation did not keep: no signals, shared terms only."""
    from principles.overlap.results import page_term_keys

    shared = sorted(page_term_keys(source) & page_term_keys(target))
    return {"id": target["id"], "score": 0.0, "graph": 0.0, "dense": 0.0, "coverage": 0.0,
            "passage": 0.0, "pair": [0, 0], "shared": shared, "editor": reason}


def apply(rules: Editorial, source: PageRecord, rows: list[dict[str, Any]],
          pages: dict[str, PageRecord], allowed: Any, limit: int) -> list[dict[str, Any]]:
    """The rows to show, best first, at most `limit`. `rows`: the precomputed rows already
    filtered by the caller's own rules (visibility, type, hubs); `allowed(page) -> bool` is
    that same filter, applied to pinned and fallback pages."""
    site = rules.site
    mine = rules.pages.get(source["id"], {})
    excluded = set(mine.get("exclude", []))
    pins = [p for p in mine.get("pin", []) if p in pages and p != source["id"] and allowed(pages[p])]
    by_id = {row["id"]: row for row in rows}
    out = [{**by_id[p], "editor": PINNED} if p in by_id else _made_row(source, pages[p], PINNED)
           for p in pins]
    chosen = set(pins)
    candidates = []
    for row in rows:
        target = pages[row["id"]]
        if (row["id"] in chosen or row["id"] in excluded or target["type"] in site.exclude_types
                or _in_sections(row["id"], site.exclude_sections)):
            continue
        if site.boost_same_section and section(row["id"]) == section(source["id"]):
            row = {**row, "score": round(row["score"] + site.boost_same_section, 4)}
        candidates.append(row)
    candidates.sort(key=lambda r: (-float(r["score"]), str(r["id"])))
    per_type: dict[str, int] = {}
    for row in candidates:
        kind = pages[row["id"]]["type"]
        cap = site.max_per_type.get(kind, site.max_per_type.get("default"))
        if cap is not None and per_type.get(kind, 0) >= cap:
            continue
        per_type[kind] = per_type.get(kind, 0) + 1
        out.append(row)
        chosen.add(row["id"])
    for page_id in site.fallback:
        if len(out) >= limit:
            break
        if (page_id in pages and page_id not in chosen and page_id not in excluded
                and page_id != source["id"] and allowed(pages[page_id])):
            out.append(_made_row(source, pages[page_id], FALLBACK))
            chosen.add(page_id)
    return out[:limit]
