"""The C library's heaps: fewer of them, and free memory handed back (glibc; no-ops elsewhere).

Why: a serving process runs many threads (the HTTP server's, the model lanes', the thread pool
that parses drafts). glibc gives each thread that contends for the heap an arena of its own,
up to 8 per core, and keeps what is freed in each: a burst of 5,000-word drafts left a worker
20-480 MB larger after the load than before it (bench/overload.py). Two arenas per process and
a trim once the drafts are done brought that to ~20-30 MB. (A fixed 128 KB mmap threshold as
well was measured too: no less memory, ~15-40% fewer searches answered under that load.)
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

M_ARENA_MAX = -8  # mallopt parameter (malloc.h)
SERVING_ARENAS = 2
"""Heaps per serving process: measured under bench/overload.py, searches and drafts were
answered at least as fast as with glibc's default (8 per core), and far less memory stayed."""


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def limit_arenas(count: int = SERVING_ARENAS) -> bool:
    """At most `count` heaps for this process from now on (arenas that exist stay); call it
    before the threads start. True if the C library took it."""
    libc = _libc()
    mallopt = getattr(libc, "mallopt", None) if libc is not None else None
    return bool(mallopt(M_ARENA_MAX, count)) if mallopt is not None else False


def release_free_memory() -> None:
    """Hand the free memory of every heap back to the system (malloc_trim(0)). It walks the
    heaps under their locks (up to ~0.1 s for a large fragmented one), so call it when a
    burst of work is over, not per request."""
    libc = _libc()
    trim = getattr(libc, "malloc_trim", None) if libc is not None else None
    if trim is not None:
        trim(0)
