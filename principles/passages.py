"""Cut a page body into overlapping word windows; offsets point into the plain body text so
a passage can be shown as a snippet and traced back to its page. Shared by ingest (pages) and
the overlap finder (drafts), so both are cut into the same windows."""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Passage:
    index: int
    start: int
    end: int
    text: str


def chunk(body: str, words: int, overlap: int) -> list[Passage]:
    """Windows of `words` words sharing `overlap` words; a short tail is merged into the
    window before it, so no passage is a handful of stray words."""
    count = len(body.split())  # str.split and \S+ agree on what a space is (str.isspace)
    if 0 < count <= words:  # one window, the whole body: no word offsets needed (~20x faster)
        start, end = len(body) - len(body.lstrip()), len(body.rstrip())
        return [Passage(0, start, end, body[start:end])]
    spans = [(m.start(), m.end()) for m in _WORD.finditer(body)]
    if not spans:
        return []
    step = max(1, words - overlap)
    starts = list(range(0, len(spans), step))
    windows: list[tuple[int, int]] = []
    for first in starts:
        last = min(first + words, len(spans))
        windows.append((first, last))
        if last == len(spans):
            break
    if len(windows) > 1 and windows[-1][1] - windows[-1][0] < words // 3:
        windows.pop()
        windows[-1] = (windows[-1][0], len(spans))
    out = []
    for i, (first, last) in enumerate(windows):
        start, end = spans[first][0], spans[last - 1][1]
        out.append(Passage(i, start, end, body[start:end]))
    return out
