"""Hot swap: `principles serve` follows the index's `current` build without a restart.

Each build gets a whole application of its own (create_app: index view, search engine,
overlap service, SPARQL workers, MCP server, ETag middleware), so nothing of one build can
leak into answers of another. `LiveApp` is the ASGI app the server runs: it hands each
request to the current generation and counts the requests in flight per generation.

A swap (the `current` symlink points elsewhere, seen by a short poll or at once on SIGHUP)
builds the new generation completely (off the event loop; its lifespan started, i.e. SPARQL
workers up) and only then replaces one reference. Requests already running finish on the old
generation, which is closed when the last of them is done (or after the drain timeout). A
build that cannot be opened is logged and skipped; the old one keeps serving.

Every open generation holds a lease on its build (principles/leases.py), refreshed on each
poll, so an ingest's pruning never deletes a build a request may still read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import anyio
from litestar import Litestar
from litestar.types import LifeSpanReceive, LifeSpanScope, LifeSpanSend, Receive, Scope, Send

from principles.index import IndexLayout
from principles.leases import Lease
from principles.settings import Settings
from service.admission import InFlight

log = logging.getLogger("principles.live")

Factory = Callable[[Path], Litestar]  # a build folder -> its app (blocking; raises on failure)
LEASE_REFRESH = 5.0  # seconds between lease refreshes when polling is off or slow


@dataclass(eq=False)
class Generation:
    """One build's app while it serves (or drains)."""

    build_id: str
    app: Litestar
    lease: Lease
    inflight: int = 0
    drained: asyncio.Event = field(default_factory=asyncio.Event)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Run the app's lifespan in a task of its own (its task groups must be left by the
        task that entered them); return once it has started, raise if it failed to."""
        started = asyncio.Event()

        async def run() -> None:
            async with self.app.lifespan():
                started.set()
                await self.stop.wait()

        self.task = asyncio.create_task(run(), name=f"build-{self.build_id}")
        waiter = asyncio.create_task(started.wait())
        await asyncio.wait({self.task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if self.task.done():
            self.lease.release()
            self.task.result()  # raises the start-up error
            raise RuntimeError(f"build {self.build_id} stopped while starting")

    async def close(self) -> None:
        self.stop.set()
        if self.task is not None:
            with contextlib.suppress(Exception):
                await self.task
        self.lease.release()


class LiveApp:
    """The ASGI app `serve` runs: the current build's app, swapped when `current` moves."""

    def __init__(self, settings: Settings, factory: Factory, first: Path,
                 on_shutdown: Callable[[], None] | None = None,
                 in_flight: InFlight | None = None) -> None:
        """Open `first` now (raising IndexProblem before the server binds); its lifespan
        starts with the server's. `on_shutdown` closes what the builds share; `in_flight`
        counts the requests served, whatever their build."""
        self.settings = settings
        self.in_flight = in_flight or InFlight()
        self.on_shutdown = on_shutdown
        self.layout = IndexLayout(settings.index_dir)
        self.factory = factory
        self.current = self._open(first)
        self.draining: set[Generation] = set()
        self.failed: str | None = None  # a build that would not open: not retried until it changes
        self.swaps = 0
        self._wake: asyncio.Event | None = None
        self._watcher: asyncio.Task[None] | None = None

    def _open(self, build: Path) -> Generation:
        lease = Lease(self.layout.root, build.name)  # before reading: prune must see it
        try:
            app = self.factory(build)
        except BaseException:
            lease.release()
            raise
        return Generation(build.name, app, lease)

    async def __call__(self, scope: Scope | LifeSpanScope, receive: Receive | LifeSpanReceive,
                       send: Send | LifeSpanSend) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(cast(LifeSpanReceive, receive), cast(LifeSpanSend, send))
            return
        generation = self.current
        generation.inflight += 1
        self.in_flight.count += 1
        try:
            await generation.app(scope, receive, send)
        finally:
            generation.inflight -= 1
            self.in_flight.count -= 1
            if generation.inflight == 0 and generation is not self.current:
                generation.drained.set()

    async def _lifespan(self, receive: LifeSpanReceive, send: LifeSpanSend) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        try:
            await self.current.start()
        except Exception as exc:  # noqa: BLE001 - reported to the server, which exits
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return
        self._wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, self._wake.set)
        # Look once now: a build published (and signalled) while this process was opening the
        # first one must not wait for the next poll or signal (a worker ignores SIGHUP until
        # here, service/server.py).
        self._wake.set()
        self._watcher = asyncio.create_task(self._watch(), name="build-watcher")
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        assert message["type"] == "lifespan.shutdown"
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGHUP)
        self._watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._watcher
        for generation in [*self.draining, self.current]:
            await generation.close()
        if self.on_shutdown is not None:
            self.on_shutdown()
        await send({"type": "lifespan.shutdown.complete"})

    async def _watch(self) -> None:
        """Poll `current` (and wake on SIGHUP); refresh the leases on the way."""
        assert self._wake is not None
        poll = self.settings.reload_poll
        timeout = min(poll, LEASE_REFRESH) if poll > 0 else LEASE_REFRESH
        last_poll = 0.0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            hup = self._wake.is_set()
            self._wake.clear()
            for generation in [self.current, *self.draining]:
                generation.lease.refresh()
            if not hup and (poll <= 0 or time.monotonic() - last_poll < poll * 0.9):
                continue
            last_poll = time.monotonic()
            try:
                await self.check()
            except Exception:  # the watcher must outlive any one failed swap
                log.exception("checking for a new index build failed")

    async def check(self) -> bool:
        """Swap to the build `current` names if it is new; True when a swap happened."""
        target = await anyio.to_thread.run_sync(self.layout.current_build)
        if target is None or target.name in (self.current.build_id, self.failed):
            return False
        started = time.perf_counter()
        try:
            generation = await anyio.to_thread.run_sync(self._open, target)
            await generation.start()
        except Exception as exc:  # noqa: BLE001 - a bad build must not take the server down
            self.failed = target.name
            log.error("build %s not served, %s stays: %s", target.name, self.current.build_id, exc)
            return False
        old, self.current = self.current, generation
        self.swaps += 1
        log.warning("serving build %s (was %s; opened in %.2f s)", generation.build_id,
                    old.build_id, time.perf_counter() - started)
        self.draining.add(old)
        asyncio.create_task(self._retire(old), name=f"retire-{old.build_id}")
        return True

    async def _retire(self, old: Generation) -> None:
        """Close the old build once its last request is done (or the drain timeout passed)."""
        if old.inflight:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(old.drained.wait(), self.settings.drain_timeout)
        if old.inflight:
            log.warning("closing build %s with %d request(s) still running", old.build_id,
                        old.inflight)
        await old.close()
        self.draining.discard(old)


def live_app(settings: Settings, make_app: Callable[..., Litestar] | None = None) -> LiveApp:
    """The served app: the current build now (IndexProblem if unusable), later ones as they
    are published. The query encoder, its vector cache and batching, and the model lanes
    (admission bounds and threads) are the process's, shared by every build's app.
    `make_app` builds one build's app (default `create_app`; the bench adds a route)."""
    from principles.errors import IndexProblem
    from service.admission import ModelLanes
    from service.app import create_app
    from service.engines import query_encoder, query_vectors
    from service.index import open_index

    first = IndexLayout(settings.index_dir).current_build()
    if first is None:
        open_index(settings)  # raises the IndexProblem that names the fixing command
        raise IndexProblem(f"no index at {settings.index_dir}")
    model: dict[str, Any] = {}
    lanes = ModelLanes(settings)
    in_flight = InFlight()  # the process's requests: a lone search encodes on the event loop
    make = make_app or create_app

    def factory(build: Path) -> Litestar:
        view = open_index(settings, build)
        first_build = "vectors" not in model
        if first_build:
            model["vectors"] = query_vectors(settings, query_encoder(settings, view), lanes,
                                             in_flight)
        # Only the first build loads the model; a later one must not queue a warm-up encode
        # behind the searches of a loaded server (it delayed swaps under load by ~1 s).
        return make(settings, index=view, lanes=lanes, vectors=model["vectors"], warm=first_build)

    try:
        return LiveApp(settings, factory, first, on_shutdown=lanes.close, in_flight=in_flight)
    except BaseException:
        lanes.close()
        raise
