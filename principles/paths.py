"""Page ids, Hugo urls, slugs and site-path normalisation: one rule set for ingest and serve."""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from principles.errors import InvalidInput

PAGE_SUFFIXES = (".md", ".markdown", ".txt")
BUNDLE_FILES = ("_index.md", "index.md")

_SLUG_DROP = re.compile(r"[^\w\s-]", re.UNICODE)
_SLUG_DASH = re.compile(r"[\s_-]+", re.UNICODE)


def slugify(text: str) -> str:
    """Hugo's `urlize`, near enough: lower case, punctuation dropped, runs of space/dash -> '-'."""
    text = unicodedata.normalize("NFKC", text).strip().lower()
    text = _SLUG_DROP.sub("", text.replace("/", " "))
    return _SLUG_DASH.sub("-", text).strip("-")


def _parts(relative: PurePosixPath | str) -> list[str]:
    if isinstance(relative, str):
        return relative.split("/") if relative else []
    return list(relative.parts)


def page_id_for(relative: PurePosixPath | str) -> str:
    """`tags/customer-focus/_index.md` -> `tags/customer-focus`; `notes/a.txt` -> `notes/a`.

    The root `_index.md` gets the id `index` so that every page has a non-empty id. A
    string is a normalised relative path (`a/b.md`: no `.`, empty or leading segments).
    """
    parts = _parts(relative)
    if parts and parts[-1] in BUNDLE_FILES:
        parts.pop()
    elif parts:
        name = parts[-1]
        for suffix in PAGE_SUFFIXES:
            if name.endswith(suffix):
                parts[-1] = name[: -len(suffix)]
                break
    return "/".join(parts) or "index"


def hugo_url(page_id: str, *, slug: str | None = None, url: str | None = None) -> str:
    """Canonical site-relative url: front-matter `url` wins, then `slug` replaces the last
    segment, else Hugo's path rule (lower-cased, as Hugo does by default)."""
    if url:
        return normalise_site_path(url)
    parts = [] if page_id == "index" else page_id.split("/")
    if slug and parts:
        parts[-1] = slugify(slug) or parts[-1]
    path = "/" + "/".join(slugify(p) or p.lower() for p in parts)
    return path if path == "/" else path + "/"


def normalise_site_path(raw: str) -> str:
    """Normalise a path or url to the form aliases and urls are stored and looked up in.

    Drops scheme, host, query and fragment; decodes percent-escapes; folds case; turns
    backslashes into slashes; collapses repeated slashes; drops `index.html`/`index.htm`;
    resolves `.`/`..` segments without ever climbing above the root; always starts and
    ends with `/` (except file-like last segments such as `feed.xml`).
    """
    text = raw.strip().replace("\\", "/")
    split = urlsplit(text if not text.startswith("//") else "/" + text.lstrip("/"))
    path = unquote(split.path if (split.scheme or split.netloc) else text.split("?")[0].split("#")[0])
    path = path.replace("\\", "/").lower()
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    if segments and segments[-1] in ("index.html", "index.htm"):
        segments.pop()
    if not segments:
        return "/"
    joined = "/" + "/".join(segments)
    last = segments[-1]
    looks_like_file = "." in last and not last.startswith(".") and len(last.rsplit(".", 1)[1]) <= 5
    return joined if looks_like_file else joined + "/"


def title_from_filename(stem: str) -> str:
    """`meeting-rules` -> `Meeting Rules`: the last resort for a page without a title."""
    words = re.split(r"[-_\s]+", stem)
    return " ".join(w[:1].upper() + w[1:] for w in words if w) or stem


_TOKEN = re.compile(r":(slugorcontentbasename|slugorfilename|contentbasename|filename|slug|title|"
                    r"year|month|day|sections|section)\b")


def expand_permalink(url: str, *, page_id: str, slug: str | None, title: str,
                     date: str | None) -> tuple[str, list[str]]:
    """Expand Hugo permalink tokens (`/resources/videos/:slug`) in a front-matter `url`.

    Returns the expanded url and the tokens that could not be filled (no date for `:year`)."""
    parts = page_id.split("/")
    base = parts[-1]
    values = {
        "slug": slugify(slug) if slug else slugify(title),
        "title": slugify(title),
        "filename": base, "contentbasename": base,
        "slugorfilename": slugify(slug) if slug else base,
        "slugorcontentbasename": slugify(slug) if slug else base,
        "section": parts[0], "sections": "/".join(parts[:-1]),
        "year": date[:4] if date else "", "month": date[5:7] if date else "",
        "day": date[8:10] if date else "",
    }
    missing = [m.group(0) for m in _TOKEN.finditer(url) if not values[m.group(1)]]
    return _TOKEN.sub(lambda m: values[m.group(1)], url), missing


_UNSAFE_IN_PATH = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


def site_path_problem(raw: str) -> str | None:
    """Why `raw` cannot be a url or alias, or None. Whitespace and control characters (also
    percent-encoded ones) would add rules to `_redirects` (`/old\\n/* /elsewhere 302`) or
    silently turn into another path, so they are refused rather than repaired."""
    text = raw.strip()
    if _UNSAFE_IN_PATH.search(text):
        return "contains whitespace or control characters"
    if _UNSAFE_IN_PATH.search(normalise_site_path(text)):
        return "contains percent-encoded whitespace or control characters"
    return None


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_reference(ref: str) -> None:
    """Refuse `..` path segments and control characters in a page id, url or alias."""
    if _CONTROL.search(ref):
        raise InvalidInput("the page reference contains control characters; send a page id, "
                         "url or alias")
    if ".." in re.split(r"[/\\]", ref):
        raise InvalidInput("the page reference contains a '..' segment; send a page id "
                         "(tags/customer-focus), url or alias")
