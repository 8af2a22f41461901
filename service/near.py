"""Near-miss suggestions for an unknown site path, without comparing it to every path.

difflib over all paths costs ~2 s per unknown path at 50k pages (100k urls and aliases), on
the request's thread: a stream of 404s would stall the service. A typo leaves either the
folder or the start of the last segment intact, so candidates are the paths with the same
last segment, the paths in the same folder and the paths whose last segment starts with the
same three characters, capped to the ones closest in length; difflib then ranks only those
(20-90 ms at 50k pages).
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable

MAX_CANDIDATES = 500
PREFIX = 3


def _split(path: str) -> tuple[str, str]:
    folder, _, leaf = path.rstrip("/").rpartition("/")
    return folder, leaf


class NearPaths:
    """Index of site paths by folder and by the first characters of their last segment."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.by_folder: dict[str, list[str]] = defaultdict(list)
        self.by_prefix: dict[str, list[str]] = defaultdict(list)
        self.by_leaf: dict[str, list[str]] = defaultdict(list)
        for path in paths:
            folder, leaf = _split(path)
            self.by_folder[folder].append(path)
            self.by_prefix[leaf[:PREFIX]].append(path)
            self.by_leaf[leaf].append(path)

    def candidates(self, path: str) -> list[str]:
        """The same last segment elsewhere (a moved page) first, then same folder and leaf
        start, then either; closest in length within each group; at most MAX_CANDIDATES."""
        folder, leaf = _split(path)
        moved = set(self.by_leaf.get(leaf, ()))
        siblings = set(self.by_folder.get(folder, ())) - moved
        alike = set(self.by_prefix.get(leaf[:PREFIX], ())) - moved
        chosen: list[str] = []
        for group in (moved, siblings & alike, siblings - alike, alike - siblings):
            chosen += sorted(group, key=lambda p: (abs(len(p) - len(path)), p))
            if len(chosen) >= MAX_CANDIDATES:
                break
        return chosen[:MAX_CANDIDATES]

    def suggest(self, path: str, n: int = 5, cutoff: float = 0.6) -> list[str]:
        return difflib.get_close_matches(path, self.candidates(path), n=n, cutoff=cutoff)
