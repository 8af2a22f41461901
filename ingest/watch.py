"""`principles ingest --watch`: rebuild whenever a page changes, for an author working locally.

The model is loaded once and kept; changes are debounced (an editor's save is often several
writes), and only page files and the editor's related-rules file count. Each rebuild is an
ordinary incremental ingest: only changed text is encoded, and a running `principles serve`
on the same index picks the new build up by itself. A failed rebuild is reported and the
watch goes on; the previous build stays current.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from watchfiles import Change, DefaultFilter, watch

from ingest.corpus import is_page_name
from ingest.pipeline import IngestResult, ingest
from principles.embedder import Encoder
from principles.errors import PrinciplesError
from principles.settings import Settings

DEFAULT_DEBOUNCE_MS = 800


class CorpusFilter(DefaultFilter):
    """Page files and the related-rules file; never the index (it may sit inside the corpus)
    nor editor swap files (DefaultFilter drops those)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(ignore_paths=[settings.index_dir.resolve()])
        self.rules = settings.related_rules.resolve() if settings.related_rules else None

    def __call__(self, change: Change, path: str) -> bool:
        if not super().__call__(change, path):
            return False
        return is_page_name(Path(path).name) or (self.rules is not None
                                                  and Path(path).resolve() == self.rules)


def watch_corpus(settings: Settings, console: Console, *, debounce_ms: int = DEFAULT_DEBOUNCE_MS,
                 stop: threading.Event | None = None,
                 on_result: Callable[[IngestResult], None] | None = None) -> None:
    """Ingest now, then after every debounced batch of changes, until `stop` is set (or
    Ctrl-C). `on_result` sees each finished ingest (the CLI prints its summary)."""
    encoder = Encoder(settings.model, settings.batch_size)
    paths = [settings.corpus_dir] + ([settings.related_rules] if settings.related_rules else [])
    _rebuild(settings, encoder, console, on_result, "start")
    console.print(f"watching {settings.corpus_dir} (Ctrl-C stops)")
    for changes in watch(*paths, watch_filter=CorpusFilter(settings), debounce=debounce_ms,
                         stop_event=stop, raise_interrupt=False):
        names = sorted({Path(p).name for _, p in changes})
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        _rebuild(settings, encoder, console, on_result, f"{len(changes)} change(s): {shown}")


def _rebuild(settings: Settings, encoder: Encoder, console: Console,
             on_result: Callable[[IngestResult], None] | None, why: str) -> None:
    started = time.perf_counter()
    try:
        result = ingest(settings, encoder=encoder, console=console)
    except PrinciplesError as exc:
        console.print(f"[red]rebuild failed ({why}):[/red] {exc.detail}; the previous build "
                      "stays current, still watching")
        return
    seconds = time.perf_counter() - started
    if result.up_to_date:
        console.print(f"{why}: nothing to rebuild ({seconds:.1f} s)")
    else:
        changed = result.manifest.counts.get("changed_pages", 0) if result.manifest else 0
        console.print(f"{why}: build {result.manifest.build_id if result.manifest else '?'} "
                      f"is current ({changed} changed page(s), {result.errors} error(s), "
                      f"{seconds:.1f} s)")
    if on_result is not None:
        on_result(result)
