"""Admission of model work: bounded lanes, one thread each, refusal at once beyond the bound.

Why: search and overlap once shared one model thread with no bound, so five abandoned
10,000-word drafts delayed the next search by 38 s and a burst of clients queued minutes of
work nobody was waiting for any more (issue 14). Now each kind of model work has its lane:

- its own thread, so a long draft never holds a search back (each lane still runs one job at
  a time: torch and onnxruntime slow down badly with many calling threads on 2 cores);
- a bound on jobs admitted (waiting or running); one more is refused with 503 problem+json
  and `Retry-After` before any work is done;
- a job whose client disconnected while it waited is skipped when its turn comes (a job
  already running finishes; its slot is freed when the thread is done with it).

Query encodes do not go through `run` one by one: service/query_vectors.py admits each search
that needs a vector (`acquire`, the same bound) and encodes the queries waiting together in one
model call on this lane's thread (`submit`).

The lanes belong to the process, not to a build: a hot swap keeps the bounds and the threads.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from litestar.types import Receive

from principles.errors import Unavailable
from principles.memory import release_free_memory
from principles.settings import Settings

T = TypeVar("T")


class Overloaded(Unavailable):
    """Too much work of this kind is admitted already: try again after Retry-After."""

    kind, title = "overloaded", "Server busy"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


class ClientGone(Unavailable):
    """The client disconnected before its work started; nobody reads this answer."""

    kind, title = "client-gone", "Client went away"


async def disconnected(receive: Receive) -> None:
    """Return once the client has gone (request body messages are skipped)."""
    while (await receive())["type"] != "http.disconnect":
        pass


class Lane:
    """One kind of model work: one thread, at most `size` jobs admitted at a time."""

    def __init__(self, kind: str, size: int, retry_after: int, trim_when_idle: bool = False) -> None:
        """`trim_when_idle`: when the last admitted job is done, hand the C library's free
        memory back to the system (on this lane's thread): what large jobs (drafts) leave
        behind in its heaps would otherwise stay with the process."""
        self.kind = kind
        self.size = size
        self.retry_after = retry_after
        self.trim_when_idle = trim_when_idle
        self.admitted = 0
        self.refused = 0
        self.dropped = 0
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"model-{kind}")

    def check(self) -> None:
        """Raise Overloaded now if `run` would: lets a caller refuse before costly preparation."""
        if self.admitted >= self.size:
            self.refused += 1
            raise Overloaded(f"{self.admitted} {self.kind} requests are already waiting or running "
                             f"(the limit); retry in {self.retry_after} s", self.retry_after)

    def acquire(self) -> None:
        """Take one admission slot (Overloaded at once when none is free) for a caller that
        waits for work done elsewhere on this lane (a batch of query encodes); `release` it."""
        self.check()
        self.admitted += 1

    def release(self) -> None:
        self.admitted -= 1

    def submit(self, work: Callable[[], T]) -> asyncio.Future[T]:
        """Run `work` on this lane's thread, not admission-checked (callers admit per request)."""
        return asyncio.get_running_loop().run_in_executor(self._thread, work)

    def call(self, work: Callable[[], T]) -> T:
        """Run `work` on this lane's thread and wait (start-up only: not admission-checked)."""
        return self._thread.submit(work).result()

    async def run(self, work: Callable[[], T], receive: Receive | None = None) -> T:
        """Admit `work` or raise Overloaded at once; with `receive` (the request's ASGI
        receive), work not yet started is dropped when the client disconnects."""
        self.check()
        gone = threading.Event()

        def guarded() -> T:
            if gone.is_set():
                self.dropped += 1
                raise ClientGone(f"the client left before its {self.kind} work started")
            return work()

        self.admitted += 1
        future = asyncio.get_running_loop().run_in_executor(self._thread, guarded)
        future.add_done_callback(self._finished)
        if receive is None:
            return await future
        watcher = asyncio.create_task(disconnected(receive))
        try:
            pending: set[asyncio.Future[Any]] = {future, watcher}
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if future.done():
                return future.result()
            gone.set()
            raise ClientGone(f"the client left while its {self.kind} work waited")
        finally:
            watcher.cancel()

    def _finished(self, future: asyncio.Future[Any] | Future[Any]) -> None:
        self.admitted -= 1
        if self.trim_when_idle and self.admitted == 0:  # on the lane's thread, after its work
            self._thread.submit(release_free_memory)
        if not future.cancelled():
            future.exception()  # retrieved: an abandoned job's error is not "never retrieved"

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)


class InFlight:
    """How many requests this process is serving now (counted by the live app, whatever the
    build): a search may have its query encoded on the event loop itself only when it is the
    only one (service/query_vectors.py)."""

    def __init__(self) -> None:
        self.count = 0


class ModelLanes:
    """The process's lanes: `search` (query encodes) and `drafts` (overlap drafts)."""

    def __init__(self, settings: Settings) -> None:
        self.search = Lane("search", settings.search_queue, settings.retry_after)
        self.drafts = Lane("draft", settings.draft_queue, settings.retry_after, trim_when_idle=True)

    def close(self) -> None:
        self.search.close()
        self.drafts.close()
