"""pages.json of a re-ingest: the previous build's bytes of every record this build would write
alike, copied; only the other records built and encoded (all 10k at 10k pages cost ~0.25 s,
most of it recomputing passages).

A record is alike when the page was carried over from the previous build's parse, its resolved
terms are that build's and the passages are cut alike (ingest/parse_cache.py `kept_records`):
every field then comes from the same bytes through the same code. Beside pages.json,
`SPANS_FILE` keeps where each record lies, for the next build. A previous build without it, or
whose record does not start with the page's id where the spans say, costs an encode.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec
import numpy as np

from ingest.pages import Page
from principles.contract import PAGES_FILE, PageRecord

SPANS_FILE = "pages_spans.npy"  # (records, 2) int64: [start, end) of each record in pages.json


@dataclass(frozen=True)
class PreviousRecords:
    """The previous build's pages.json bytes and each record's span, by page id."""

    data: bytes
    spans: dict[str, tuple[int, int]]

    @classmethod
    def load(cls, build: Path, page_ids: Sequence[str]) -> PreviousRecords | None:
        """`page_ids`: that build's pages in record order (its manifest's page hashes)."""
        try:
            data = (build / PAGES_FILE).read_bytes()
            spans = np.load(build / SPANS_FILE)
        except (OSError, ValueError):
            return None
        if (spans.dtype != np.int64 or spans.shape != (len(page_ids), 2)
                or (len(spans) and (int(spans.min()) < 0 or int(spans.max()) > len(data)))):
            return None
        return cls(data, dict(zip(page_ids, map(tuple, spans.tolist()), strict=True)))

    def record(self, page_id: str) -> memoryview | None:
        """The page's record as written, if it is where the spans say."""
        span = self.spans.get(page_id)
        if span is None:
            return None
        start, end = span
        head = b'{"id":' + msgspec.json.encode(page_id) + b","
        if end <= start or not self.data.startswith(head, start) or self.data[end - 1] != 0x7D:
            return None
        return memoryview(self.data)[start:end]


def write_pages(folder: Path, pages: Sequence[Page], record: Callable[[Page], PageRecord],
                alike: Collection[str], previous: PreviousRecords | None) -> None:
    """pages.json (the bytes msgspec writes for the list of records) and its spans."""
    encode = msgspec.json.Encoder().encode
    pieces: list[bytes | memoryview] = []
    for page in pages:
        old = previous.record(page.id) if previous is not None and page.id in alike else None
        pieces.append(old if old is not None else encode(record(page)))
    lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
    ends = 1 + np.cumsum(lengths) + np.arange(len(pieces), dtype=np.int64)  # "[" and commas
    with open(folder / PAGES_FILE, "wb") as out:
        out.write(b"[")
        out.write(b",".join(pieces))
        out.write(b"]")
    np.save(folder / SPANS_FILE, np.column_stack([ends - lengths, ends]))
