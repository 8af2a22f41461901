"""Write graph.nt, graph.ttl and graph_parts.json from the build's parts (ingest/rdf_parts.py):
fresh parts as bytes, kept parts as ranges of the previous build's files, neighbouring
ranges copied in one call, by the kernel where it can (copy_file_range)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import msgspec

from ingest.rdf_parts import TURTLE_HEADER, GraphParts, Part, Span, record
from principles.contract import GRAPH_NT_FILE, GRAPH_PARTS_FILE, GRAPH_TTL_FILE


def write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def append_range(source: int, target: int, start: int, length: int) -> None:
    """`length` bytes of `source` from `start` appended to `target`."""
    try:
        while length > 0:
            done = os.copy_file_range(source, target, length, start)
            if done == 0:
                break
            start, length = start + done, length - done
    except OSError:  # not across these files or file systems: copy through memory
        pass
    while length > 0:
        chunk = os.pread(source, min(length, 1 << 22), start)
        if not chunk:
            raise OSError(f"a file of the previous build is shorter than {GRAPH_PARTS_FILE} says")
        write_all(target, chunk)
        start, length = start + len(chunk), length - len(chunk)


def _runs(pieces: list[bytes | Span]) -> Iterator[bytes | Span]:
    """Neighbouring spans merged into one."""
    pending: Span | None = None
    for piece in pieces:
        if isinstance(piece, Span):
            if pending is not None and pending.end == piece.start:
                pending = Span(pending.start, piece.end)
                continue
            if pending is not None:
                yield pending
            pending = piece
        else:
            if pending is not None:
                yield pending
                pending = None
            yield piece
    if pending is not None:
        yield pending


def _write(target: Path, head: bytes, pieces: list[bytes | Span], previous: Path | None) -> list[int]:
    """The file of `head` and `pieces`; returns each piece's start offset and the end."""
    offsets = [len(head)]
    for piece in pieces:
        size = len(piece) if isinstance(piece, bytes) else piece.end - piece.start
        offsets.append(offsets[-1] + size)
    source = os.open(previous, os.O_RDONLY) if previous is not None else -1
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        write_all(fd, head)
        for run in _runs(pieces):
            if isinstance(run, bytes):
                write_all(fd, run)
            else:
                append_range(source, fd, run.start, run.end - run.start)
    finally:
        os.close(fd)
        if source >= 0:
            os.close(source)
    return offsets


def write_graph_files(graph: GraphParts, folder: Path) -> None:
    parts: list[Part] = graph.parts
    old = graph.previous.folder if graph.previous is not None else None
    nt = _write(folder / GRAPH_NT_FILE, b"", [p.nt for p in parts],
                old / GRAPH_NT_FILE if old else None)
    ttl = _write(folder / GRAPH_TTL_FILE, TURTLE_HEADER, [p.ttl for p in parts],
                 old / GRAPH_TTL_FILE if old else None)
    # msgspec: the compact JSON json.dumps writes (non-ASCII kept as UTF-8), ~5x faster
    (folder / GRAPH_PARTS_FILE).write_bytes(msgspec.json.encode(record(parts, nt, ttl)))
