"""payloads.json (one document's payload per line, one JSON list for the reader) assembled
from the previous build's file: a run of documents carried over in the same order is one
slice of its bytes, so a re-ingest neither parses nor re-encodes unchanged payloads.

The file is `[`, then each payload on a line of its own, all but the last ending in `,`,
then `]`: the bytes `payloads_text` writes for a list of lines, whichever way it was built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]


def payloads_text(lines: Sequence[str | bytes | memoryview]) -> bytes:
    """The file of these lines (each a JSON object, or a run of them joined by `,\\n`)."""
    if not lines:
        return b"[]\n"
    return b"[\n" + b",\n".join(line.encode() if isinstance(line, str) else line
                                for line in lines) + b"\n]\n"


@dataclass(frozen=True)
class PayloadLines:
    """A payloads.json file's bytes and where each document's line starts and ends (the
    trailing comma left out)."""

    text: bytes
    starts: Ints
    ends: Ints

    def __len__(self) -> int:
        return len(self.starts)

    @classmethod
    def read(cls, path: Path) -> PayloadLines | None:
        """None if the file is not one `payloads_text` wrote."""
        return cls.parse(path.read_bytes())

    @classmethod
    def parse(cls, text: bytes) -> PayloadLines | None:
        if text == b"[]\n":
            return cls(text, np.zeros(0, np.int64), np.zeros(0, np.int64))
        if not (text.startswith(b"[\n") and text.endswith(b"\n]\n")) or len(text) < 6:
            return None
        raw = np.frombuffer(text, dtype=np.uint8)
        newlines = np.flatnonzero(raw == ord("\n"))  # a JSON line holds none: json escapes them
        starts, ends = newlines[:-2] + 1, newlines[1:-1].copy()
        ends[:-1] -= 1  # the comma after every line but the last
        if not len(starts) or bool(np.any(raw[ends[:-1]] != ord(","))) or bool(np.any(ends < starts)):
            return None
        return cls(text, starts, ends)

    def lines(self) -> list[str]:
        """Every line, decoded (for tests and tools)."""
        return [self.text[a:b].decode() for a, b in zip(self.starts.tolist(), self.ends.tolist(),
                                                        strict=True)]


def assemble(previous: PayloadLines | None, source: npt.NDArray[np.integer],
             fresh: Mapping[int, str]) -> bytes:
    """The file of the new documents: document i is the previous file's line `source[i]`, or
    when that is negative `fresh[i]`. Runs of consecutive previous lines are copied as one
    slice (separators included), so the cost follows the number of runs and fresh lines."""
    n = len(source)
    if n == 0:
        return payloads_text([])
    old = np.asarray(source, dtype=np.int64)
    cut = np.ones(n, dtype=bool)  # where a run starts
    cut[1:] = (old[1:] != old[:-1] + 1) | (old[1:] < 0) | (old[:-1] < 0)
    firsts = np.flatnonzero(cut)
    lasts = np.append(firsts[1:], n) - 1
    pieces: list[str | bytes | memoryview] = []
    view = memoryview(previous.text) if previous is not None else memoryview(b"")
    for first, a, b in zip(firsts.tolist(), old[firsts].tolist(), old[lasts].tolist(),
                           strict=True):
        if a < 0:
            pieces.append(fresh[first])  # a fresh document is a run of its own
        else:
            assert previous is not None, "a carried document needs the previous payloads"
            pieces.append(view[int(previous.starts[a]):int(previous.ends[b])])
    return payloads_text(pieces)
