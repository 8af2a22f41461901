"""pages.json of a re-ingest: the previous build's bytes of every record this build would write
alike, copied by the kernel in runs; only the other records built and encoded (all 10k at 10k
pages cost ~0.25 s, most of it recomputing passages, and 19 MB through Python's memory).

A record is alike when the page was carried over from the previous build's parse, its resolved
terms are that build's and the passages are cut alike (ingest/parse_cache.py `kept_records`):
every field then comes from the same bytes through the same code. Beside pages.json,
`SPANS_FILE` keeps where each record lies, for the next build. A previous build without it, or
whose spans do not tile its pages.json, or whose run of records does not start with the first
page's id, costs an encode of those records.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec
import numpy as np

from ingest.pages import Page
from ingest.rdf_files import append_range, write_all
from principles.contract import PAGES_FILE, PageRecord

SPANS_FILE = "pages_spans.npy"  # (records, 2) int64: [start, end) of each record in pages.json


@dataclass(frozen=True)
class PreviousRecords:
    """Where each record of the previous build's pages.json lies, by page id."""

    path: Path
    spans: dict[str, tuple[int, int]]

    @classmethod
    def load(cls, build: Path, page_ids: Sequence[str]) -> PreviousRecords | None:
        """`page_ids`: that build's pages in record order (its manifest's page hashes). None
        unless the spans tile the file as `write_pages` writes it: "[", records, ",", "]"."""
        path = build / PAGES_FILE
        try:
            size = path.stat().st_size
            spans = np.load(build / SPANS_FILE)
        except (OSError, ValueError):
            return None
        if spans.dtype != np.int64 or spans.shape != (len(page_ids), 2) or not len(spans):
            return None
        starts, ends = spans[:, 0], spans[:, 1]
        if not (starts[0] == 1 and ends[-1] == size - 1 and bool(np.all(ends > starts))
                and bool(np.all(starts[1:] == ends[:-1] + 1))):
            return None
        return cls(path, dict(zip(page_ids, map(tuple, spans.tolist()), strict=True)))


Run = list[tuple[Page, tuple[int, int]]]  # records that follow each other in the previous file


def _head(page_id: str) -> bytes:
    return b'{"id":' + msgspec.json.encode(page_id) + b","


def write_pages(folder: Path, pages: Sequence[Page], record: Callable[[Page], PageRecord],
                alike: Collection[str], previous: PreviousRecords | None) -> None:
    """pages.json (the bytes msgspec writes for the list of records) and its spans."""
    encode = msgspec.json.Encoder().encode
    pieces: list[bytes | Run] = []
    for page in pages:
        span = previous.spans.get(page.id) if previous is not None and page.id in alike else None
        if span is None:
            pieces.append(encode(record(page)))
        elif pieces and isinstance(last := pieces[-1], list) and last[-1][1][1] + 1 == span[0]:
            last.append((page, span))
        else:
            pieces.append([(page, span)])
    lengths: list[int] = []
    source = os.open(previous.path, os.O_RDONLY) if previous is not None else -1
    fd = os.open(folder / PAGES_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        write_all(fd, b"[")
        for k, piece in enumerate(pieces):
            if k:
                write_all(fd, b",")
            if isinstance(piece, bytes):
                write_all(fd, piece)
                lengths.append(len(piece))
                continue
            start, end = piece[0][1][0], piece[-1][1][1]
            head = _head(piece[0][0].id)
            if os.pread(source, len(head), start) == head:
                append_range(source, fd, start, end - start)
                lengths += [e - s for _, (s, e) in piece]
            else:  # not the record the spans promise: encode the run
                encoded = [encode(record(page)) for page, _ in piece]
                write_all(fd, b",".join(encoded))
                lengths += map(len, encoded)
        write_all(fd, b"]")
    finally:
        os.close(fd)
        if source >= 0:
            os.close(source)
    sizes = np.array(lengths, dtype=np.int64)
    ends = 1 + np.cumsum(sizes) + np.arange(len(sizes), dtype=np.int64)  # "[" and commas
    np.save(folder / SPANS_FILE, np.column_stack([ends - sizes, ends]))
