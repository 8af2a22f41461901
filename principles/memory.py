"""The C library's heaps: fewer of them, and free memory handed back (glibc; no-ops elsewhere).

Why: a serving process runs many threads (the HTTP server's, the model lanes', the thread pool
that parses drafts). glibc gives each thread that contends for the heap an arena of its own,
up to 8 per core, and keeps what is freed in each; and once a large block (a model batch's
buffers) is freed, it raises its mmap threshold to that size (up to 32 MB), so later large
blocks come from the heaps too and stay there when freed. A burst of 5,000-word drafts left a
worker 20-480 MB larger after the load than before it (bench/overload.py). Two arenas per
process, a fixed mmap threshold (large blocks always mapped, so unmapped when freed) and a trim
once the drafts are done brought it to ~20 MB.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

M_MMAP_THRESHOLD = -3  # mallopt parameters (malloc.h)
M_ARENA_MAX = -8
SERVING_ARENAS = 2
"""Heaps per serving process: measured under bench/overload.py, searches and drafts ran as
fast as with glibc's default (8 per core), and far less memory stayed behind."""
MMAP_THRESHOLD = 128 * 1024
"""glibc's initial threshold, kept fixed: blocks this large are mapped and unmapped."""


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def tune_heaps(arenas: int = SERVING_ARENAS, mmap_threshold: int = MMAP_THRESHOLD) -> bool:
    """At most `arenas` heaps for this process from now on (arenas that exist stay), and
    blocks from `mmap_threshold` bytes always mapped; call it before the threads start. True
    if the C library took both."""
    libc = _libc()
    mallopt = getattr(libc, "mallopt", None) if libc is not None else None
    if mallopt is None:
        return False
    return bool(mallopt(M_ARENA_MAX, arenas)) and bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold))


def release_free_memory() -> None:
    """Hand the free memory of every heap back to the system (malloc_trim(0)). It walks the
    heaps under their locks (up to ~0.1 s for a large fragmented one), so call it when a
    burst of work is over, not per request."""
    libc = _libc()
    trim = getattr(libc, "malloc_trim", None) if libc is not None else None
    if trim is not None:
        trim(0)
