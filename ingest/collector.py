"""Pause Python's cycle collector while code makes many objects at once and no cycles.

Carrying 10k parsed pages over from the previous build makes ~300k lists, dicts and pages in
a fraction of a second, none of them garbage; the collector, triggered by every 700 new
objects, would walk the growing heap again and again (at 10k pages, 0.7 s of collection
against 0.2 s of work; writing parsed.json, 0.14 s against 0.01 s). Only code that makes no
garbage cycles runs paused: parsing YAML does (PyYAML's loaders), so fresh files are parsed
with the collector running.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
