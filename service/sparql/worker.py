"""A query worker process: `python -m service.sparql.worker '<spec json>'`.

pyoxigraph cannot cancel a running query from Python, so every query runs in one of a few
long-lived worker processes that each load the build's store once; the parent kills a worker
whose query outlives the timeout (the work really stops) and starts a fresh one. The worker
also caps its own address space so one runaway query cannot take the machine's memory.

Wire format on stdin/stdout: frames of an 8-byte big-endian length and a payload. Requests
are JSON; each reply is a JSON header frame followed by a body frame.
"""

from __future__ import annotations

import json
import resource
import struct
import sys
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from service.sparql.dataset import load_store
from service.sparql.results import UNBOUNDED, FormatUnavailable, TooLarge, render

HEADER = struct.Struct(">Q")


def write_frame(out: IO[bytes], payload: bytes) -> None:
    out.write(HEADER.pack(len(payload)) + payload)


def read_frame(source: IO[bytes]) -> bytes | None:
    head = source.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (size,) = HEADER.unpack(head)
    return source.read(size)


def execute(store: ox.Store, job: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """Run one job; errors become a header with `error` (syntax, format or query)."""
    try:
        result = store.query(job["query"],
                             default_graph=[ox.NamedNode(g) for g in job["default"]],
                             named_graphs=[ox.NamedNode(g) for g in job["named"]])
        rendered = render(result, job["results_format"], job["graph_format"], job["max_rows"],
                          max_bytes=job.get("max_bytes", UNBOUNDED))
    except SyntaxError as exc:
        return {"error": "syntax", "message": str(exc)}, b""
    except FormatUnavailable as exc:
        return {"error": "format", "message": str(exc)}, b""
    except TooLarge as exc:
        return {"error": "too-large", "message": str(exc)}, b""
    except MemoryError:
        return {"error": "memory", "message": "the query hit the worker's memory cap"}, b""
    except Exception as exc:  # evaluation errors: reported to the client, worker stays up
        return {"error": "query", "message": f"{type(exc).__name__}: {exc}"}, b""
    return {"kind": rendered.kind, "rows": rendered.rows, "truncated": rendered.truncated}, \
        rendered.body


def limit_memory(megabytes: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = megabytes * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


def main() -> None:
    spec = json.loads(sys.argv[1])
    out, source = sys.stdout.buffer, sys.stdin.buffer
    sys.stdout = sys.stderr  # stdout carries frames only
    limit_memory(int(spec["memory_mb"]))
    store, sizes = load_store(Path(spec["graph"]), Path(spec["ontology"]), bool(spec["include_drafts"]))
    write_frame(out, json.dumps({"ready": True, "sizes": sizes}).encode())
    out.flush()
    while (frame := read_frame(source)) is not None:
        header, body = execute(store, json.loads(frame))
        write_frame(out, json.dumps(header).encode())
        write_frame(out, body)
        out.flush()


if __name__ == "__main__":
    main()
