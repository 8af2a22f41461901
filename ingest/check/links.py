"""Internal links of a checked page that lead nowhere: paths that resolve to no page or alias.

Read from the raw markdown (ingest keeps only the link text), with the line of each link:
inline links `[text](/path/)`, reference definitions `[id]: /path/`, HTML `href="/path/"` and
Hugo `ref`/`relref` shortcodes. Site-relative and relative paths are resolved against the
page's url and looked up exactly as /v1/resolve does (`normalise_site_path`); links to other
hosts, anchors, mail and files (images, PDFs...) are not pages and are not checked.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from ingest.check.findings import CheckFinding
from principles.paths import normalise_site_path, page_id_for

_INLINE = re.compile(r"(?<!!)\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^)]*[\"'])?\s*\)")
_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
_HREF = re.compile(r"<a\s[^>]*href=[\"']([^\"']+)[\"']", re.IGNORECASE)
_REF = re.compile(r"\{\{[<%]\s*(?:rel)?ref\s+\"([^\"]+)\"\s*[>%]\}\}")
_FILE = re.compile(r"\.(?!html?$|md$)[a-z0-9]{1,5}$", re.IGNORECASE)


@dataclass(frozen=True)
class Link:
    target: str
    line: int
    shortcode: bool = False


def extract(body: str, body_line: int) -> list[Link]:
    """Every link target in a markdown body, with its 1-based line in the file."""
    found: list[Link] = []
    starts = [0] + [i + 1 for i, ch in enumerate(body) if ch == "\n"]

    def line_of(offset: int) -> int:
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return body_line + lo

    for pattern in (_INLINE, _DEFINITION, _HREF):
        found.extend(Link(m.group(1), line_of(m.start(1))) for m in pattern.finditer(body))
    found.extend(Link(m.group(1), line_of(m.start(1)), shortcode=True) for m in _REF.finditer(body))
    return sorted(found, key=lambda link: link.line)


def internal_path(target: str, page_url: str) -> str | None:
    """The site path a link points at, or None when it is not a link to a page of this site."""
    split = urlsplit(target)
    if split.scheme or split.netloc or target.startswith(("#", "//")):
        return None
    path = split.path
    if not path or _FILE.search(path.rstrip("/")):
        return None
    if not path.startswith("/"):
        path = posixpath.join(page_url, path)
    return normalise_site_path(path)


def link_findings(links: list[Link], page_url: str, paths: dict[str, str], ids: set[str],
                  file: str) -> tuple[list[CheckFinding], set[str]]:
    """(broken-link findings, ids of the pages linked to). `paths`: url/alias -> page id of
    the index plus the checked pages; `ids`: every page id (for `ref` shortcodes)."""
    out: list[CheckFinding] = []
    linked: set[str] = set()
    for link in links:
        if link.shortcode:
            ref = link.target.split("#")[0].lstrip("/")
            page_id = page_id_for(PurePosixPath(ref)) if ref else ""
            if page_id in ids:
                linked.add(page_id)
                continue
            target = paths.get(normalise_site_path(ref)) if ref else None
            if target is not None:
                linked.add(target)
                continue
            path = ref
        else:
            resolved = internal_path(link.target, page_url)
            if resolved is None:
                continue
            target = paths.get(resolved)
            if target is not None:
                linked.add(target)
                continue
            path = resolved
        out.append(CheckFinding(
            file=file, line=link.line, severity="warning", kind="broken-link",
            message=f"link {link.target} resolves to no page or alias ({path})",
            action="fix the link, or add the old path to the aliases of the page it meant"))
    return out, linked
