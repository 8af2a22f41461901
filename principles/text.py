"""Turn a markdown body into the plain text that is embedded, chunked and shown as snippets.

Shared: ingest cleans corpus pages with it and the overlap finder cleans drafts with it (the
service must not import ingest), so a draft and a page are compared as the same kind of text.
"""

from __future__ import annotations

import html
import re
from typing import Any

from principles.limits import MAX_DESCRIPTION_CHARS

_SHORTCODE_PAIRED_CLOSE = re.compile(r"\{\{[<%]\s*/[^}]*?[>%]\}\}", re.DOTALL)
_SHORTCODE = re.compile(r"\{\{[<%].*?[>%]\}\}", re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_SCRIPT_STYLE = re.compile(r"<(script|style)\b.*?</\1>", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_LINK_DEF = re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.MULTILINE)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE)
_ATTR_BLOCK = re.compile(r"^\s*\{\s*[:.#][^}]*\}\s*$", re.MULTILINE)
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+", re.MULTILINE)
_QUOTE = re.compile(r"^\s*>\s?", re.MULTILINE)
_FENCE = re.compile(r"^\s*(```|~~~).*$", re.MULTILINE)
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|~~|`)(?=\S)(.+?)(?<=\S)\1")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$", re.MULTILINE)
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{3,}.*$", re.MULTILINE)
_SPACES = re.compile(r"[ \t]+")
_BLANKS = re.compile(r"\n{3,}")
_FIRST_HEADING = re.compile(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", re.MULTILINE)


def count_shortcodes(body: str) -> int:
    return len(_SHORTCODE.findall(body))


def markdown_to_text(body: str) -> str:
    """Plain text, paragraphs kept: shortcodes and HTML dropped (inner text kept), link and
    image text kept, markdown punctuation removed."""
    text = _SHORTCODE_PAIRED_CLOSE.sub("", body)
    text = _SHORTCODE.sub("", text)
    text = _HTML_COMMENT.sub("", text)
    text = _SCRIPT_STYLE.sub("", text)
    text = _TAG.sub(" ", text)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _LINK_DEF.sub("", text)
    text = _ATTR_BLOCK.sub("", text)
    text = _FENCE.sub("", text)
    text = _RULE.sub("", text)
    text = _TABLE_SEP.sub("", text)
    text = _HEADING.sub(lambda m: m.group(1) + ".", text)
    text = _BULLET.sub("", text)
    text = _QUOTE.sub("", text)
    for _ in range(2):
        text = _EMPHASIS.sub(r"\2", text)
    text = text.replace("|", " ")
    text = html.unescape(text)
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANKS.sub("\n\n", text).strip()


def title_from_body(body: str, *, plain_text: bool) -> str | None:
    """The first `# heading`; for a .txt file also a short first line that reads like a title."""
    match = _FIRST_HEADING.search(body)
    if match:
        return markdown_to_text(match.group(1)) or None
    if plain_text:
        lines = body.strip().split("\n")
        first = lines[0].strip()
        if len(lines) > 1 and 0 < len(first) <= 100 and first[-1] not in ".!?:;,":
            return first
    return None


def head_text(*fields: str | None) -> str:
    """A page's head as it is embedded: title, description, abstract and headline, in that
    order and joined the same way for corpus pages (ingest) and drafts (overlap finder)."""
    return ". ".join(f for f in fields if f)


def headline_text(block: Any) -> str | None:
    """The site theme's `headline` front-matter block (title, subtitle, content) as one text.
    Taxonomy pages often have no body: this block, with the description and abstract, is what
    says what they are about. Other shapes are ignored: the field is the theme's, not ours."""
    if not isinstance(block, dict):
        return None
    parts = [block.get(key) for key in ("title", "subtitle", "content")]
    text = " ".join(part.strip() for part in parts if isinstance(part, str) and part.strip())
    return text[:MAX_DESCRIPTION_CHARS] or None  # bounded like a description (principles/limits)
