"""Query vectors for search: cached by normalised query, encoded in batches (issue 14).

One per worker process, shared by every build it serves (the model does not change with a
build), used from the server's one event loop:

- **cache**: a bounded LRU from the normalised query to its vector (`PRINCIPLES_QUERY_CACHE`).
  Normalising folds what the model cannot see: runs of white space always, letter case when
  the model's tokenizer lowercases (probed once: "Ab" and "ab" give the same vector), so a
  cached vector is the one the query itself would get.
- **batching**: a query not in the cache waits for the search lane's thread. While a model call
  runs, the queries that arrive queue up; when it ends, all of them (up to
  `PRINCIPLES_BATCH_SIZE`) go into the next call together. One call for 16 short queries costs
  far less than 16 calls (bench/api.py), so throughput grows with load instead of queueing.
  A query already queued or being encoded is not queued twice.
- **admission**: each search waiting for a vector holds a slot of the search lane
  (`PRINCIPLES_SEARCH_QUEUE`; Overloaded, i.e. 503 with Retry-After, beyond it). A waiter
  whose client disconnects leaves at once; its query is dropped if it is still queued and
  nobody else waits for it.
- **alone, on the event loop**: when the search is the only request the process is serving
  and the lane is idle, its query is encoded right there, without the two thread hand-offs
  (to the lane's thread and back to the loop: ~0.5 ms on an idle machine, 1-2 ms when the
  cores are busy, as the woken thread waits for one). Nothing else is waiting, so nothing
  is held back but a request arriving during that one encode (~3.5 ms), and there is
  nothing to batch. Only for encoders that are safe to call from a second thread
  (`inline`: ONNX; torch keeps an OpenMP team per calling thread). The caller may pass
  `meanwhile`, called as the forward pass starts (it releases the GIL) when the encode is
  inline: the search starts its BM25 on another thread then, so it costs no time after the
  encode. Never called for a cached or batched vector.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from litestar.types import Receive

from principles.embedder import EncodesBeside, QueryEncoder, Vectors
from service.admission import ClientGone, InFlight, Lane, disconnected

PROBE = "Flow Of Work In Progress"


def fold_whitespace(text: str) -> str:
    return " ".join(text.split())


@dataclass(eq=False)
class _Queued:
    """One distinct query waiting for (or in) a model call, and how many requests wait for it."""

    future: asyncio.Future[Vectors]
    waiters: int = 0


@dataclass
class Stats:
    hits: int = 0
    misses: int = 0
    calls: int = 0  # model calls
    encoded: int = 0  # queries encoded by them
    largest: int = 0  # the largest batch
    dropped: int = 0  # queued queries dropped because every waiter left
    inline: int = 0  # queries encoded on the event loop (the only request, lane idle)
    sizes: dict[int, int] = field(default_factory=dict)  # batch size -> calls


class QueryVectors:
    """`await vectors.vector(query)`: the query's vector, from the cache or the next batch."""

    def __init__(self, encoder: QueryEncoder, lane: Lane, size: int = 4096, batch: int = 32,
                 in_flight: InFlight | None = None) -> None:
        """`in_flight`: the process's request count, when its lone searches may be encoded on
        the event loop (None: always on the lane's thread)."""
        self.encoder = encoder
        self.lane = lane
        self.size = size
        self.batch = max(1, batch)
        self.in_flight = in_flight
        self.stats = Stats()
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._queued: dict[str, _Queued] = {}  # waiting for the next model call, oldest first
        self._running: dict[str, _Queued] = {}  # in the model call now
        self._busy = False
        self._beside = encoder if isinstance(encoder, EncodesBeside) else None
        self.lowercase = bool(np.array_equal(*lane.call(
            lambda: (encoder.encode_query(PROBE), encoder.encode_query(PROBE.lower())))))

    def key(self, query: str) -> str:
        """The normalised query: what the cache is keyed by and what is encoded."""
        folded = fold_whitespace(query)
        return folded.lower() if self.lowercase else folded

    def cached(self, query: str) -> Vectors | None:
        vector = self._cache.get(self.key(query))
        if vector is not None:
            self._cache.move_to_end(self.key(query))
        return vector

    def request(self, query: str, meanwhile: Callable[[], object] | None = None) -> Vectors | Ticket:
        """The vector now (cache hit, or encoded here with `meanwhile` called during the
        forward pass), or a ticket to wait for it: admitted on the search lane (Overloaded at
        once when it is full) and queued for the next model call."""
        key = self.key(query)
        vector = self._cache.get(key)
        if vector is not None:
            self._cache.move_to_end(key)
            self.stats.hits += 1
            return vector
        self.stats.misses += 1
        if self._alone():
            return self._encode_here(key, meanwhile)
        self.lane.acquire()  # released by the ticket
        entry = self._queued.get(key) or self._running.get(key)
        if entry is None:
            entry = self._queued[key] = _Queued(asyncio.get_running_loop().create_future())
            self._pump()
        entry.waiters += 1
        return Ticket(self, key, entry)

    async def vector(self, query: str, receive: Receive | None = None,
                     meanwhile: Callable[[], object] | None = None) -> Vectors:
        found = self.request(query, meanwhile)
        return found if isinstance(found, np.ndarray) else await found.wait(receive)

    def _alone(self) -> bool:
        """The only request in the process and nothing on the lane: no one to wait or batch with."""
        return (self.in_flight is not None and self.in_flight.count <= 1 and not self._busy
                and not self._queued and self.lane.admitted == 0)

    def _encode_here(self, key: str, meanwhile: Callable[[], object] | None = None) -> Vectors:
        """Encode on the calling thread (the event loop), counted as a model call of one."""
        self.lane.acquire()
        try:
            if meanwhile is not None and self._beside is not None:
                vector = np.array(self._beside.encode_query_beside(key, meanwhile), dtype=np.float32)
            else:
                vector = np.array(self._encode([key])[0], dtype=np.float32)
        finally:
            self.lane.release()
        vector.setflags(write=False)
        self.stats.calls += 1
        self.stats.encoded += 1
        self.stats.inline += 1
        self.stats.largest = max(self.stats.largest, 1)
        self.stats.sizes[1] = self.stats.sizes.get(1, 0) + 1
        self._remember(key, vector)
        return vector

    def _pump(self) -> None:
        """Start the next model call with every query queued (up to the batch size)."""
        if self._busy or not self._queued:
            return
        keys = list(self._queued)[:self.batch]
        self._running = {key: self._queued.pop(key) for key in keys}
        self._busy = True
        self.stats.calls += 1
        self.stats.encoded += len(keys)
        self.stats.largest = max(self.stats.largest, len(keys))
        self.stats.sizes[len(keys)] = self.stats.sizes.get(len(keys), 0) + 1
        self.lane.submit(lambda: self._encode(keys)).add_done_callback(self._done)

    def _encode(self, texts: list[str]) -> Vectors:
        """One model call (on the lane's thread); one text takes the encoder's lean path."""
        if len(texts) == 1:
            return self.encoder.encode_query(texts[0])[None, :]
        return self.encoder.encode_queries(texts)

    def _done(self, call: asyncio.Future[Vectors]) -> None:
        running, self._running = self._running, {}
        self._busy = False
        error = call.exception() if not call.cancelled() else ClientGone("the model call was cancelled")
        for i, (key, entry) in enumerate(running.items()):
            if error is None:
                vector = np.array(call.result()[i], dtype=np.float32)
                vector.setflags(write=False)  # shared by every request that asks again
                self._remember(key, vector)
                if not entry.future.done():
                    entry.future.set_result(vector)
            elif not entry.future.done():
                entry.future.set_exception(error)
                entry.future.exception()  # retrieved: waiters that left never read it
        self._pump()

    def _remember(self, key: str, vector: Vectors) -> None:
        if self.size <= 0:
            return
        self._cache[key] = vector
        self._cache.move_to_end(key)
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)

    def _leave(self, key: str, entry: _Queued) -> None:
        """A waiter left: drop its query if it is still queued and nobody else waits for it."""
        entry.waiters -= 1
        if entry.waiters <= 0 and self._queued.get(key) is entry:
            del self._queued[key]
            entry.future.cancel()
            self.stats.dropped += 1
            self.lane.dropped += 1

    def __len__(self) -> int:
        return len(self._cache)


class Ticket:
    """A search waiting for its query vector; holds one search-lane slot until it is done."""

    def __init__(self, owner: QueryVectors, key: str, entry: _Queued) -> None:
        self.owner, self.key, self.entry = owner, key, entry
        self._done = False

    async def wait(self, receive: Receive | None = None) -> Vectors:
        """The vector; ClientGone if the client behind `receive` left first."""
        try:
            future = self.entry.future
            if receive is None or future.done():
                return await asyncio.shield(future)
            watcher = asyncio.ensure_future(disconnected(receive))
            try:
                pending: set[asyncio.Future[Any]] = {future, watcher}
                await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            finally:
                watcher.cancel()
            if future.done():
                return future.result()
            raise ClientGone("the client left while its query waited for the model")
        finally:
            self.release()

    def release(self) -> None:
        """Give the slot back (and leave the queue) if `wait` did not; safe to call twice."""
        if not self._done:
            self._done = True
            self.owner._leave(self.key, self.entry)
            self.owner.lane.release()
