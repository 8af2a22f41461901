"""`principles serve` on the hardware: N worker processes on one listening socket.

Every worker is a whole server of its own: it opens the current build read-only (the
qdrant-edge shards, memory-mapped BM25 matrices and related table, the records), loads the
query model, and follows new builds itself (service/live.py: poll, leases, drain). Nothing is
shared between workers but the files, which are immutable, so a worker needs no locks and a
crash takes only itself down (the supervisor starts another).

The supervisor (the parent process) binds the socket, starts the workers and forwards SIGHUP
to each, so `kill -HUP <server pid>` makes every worker look for a new build at once (the
servers' own SIGHUP would restart the workers instead). SIGTERM / SIGINT stop the workers
gracefully (each drains its requests and closes its builds) and then the parent.

Two HTTP servers can run the app (`PRINCIPLES_HTTP_SERVER`): granian (HTTP in Rust, the
default: bench/api.py measured 2x the requests per second of uvicorn on a bare endpoint and
1.9x on the widget's /v1/related on this machine, README "Benchmarks") and uvicorn with uvloop
and httptools.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from principles.memory import SERVING_ARENAS, limit_arenas
from principles.settings import Settings

log = logging.getLogger("principles.server")

AppFactory = Callable[[Settings], Any]
"""Settings -> the ASGI app one worker serves; runs in the worker process."""

ARENAS = "MALLOC_ARENA_MAX"  # glibc's heaps per process: set here unless already set
STARTUP_FAILURE = 3  # uvicorn's exit code for a worker that failed before serving
WORKER_STOP_TIMEOUT = 30  # seconds a worker may take to drain and close before it is killed


def live(settings: Settings) -> Any:
    """The default app: the live, build-swapping app of service/live.py."""
    from service.live import live_app

    return live_app(settings)


def preflight_index(settings: Settings) -> None:
    """Refuse to start, naming the fixing command, before any worker is started."""
    from service.index import check_index

    check_index(settings)


def serve(settings: Settings, make_app: AppFactory = live,
          preflight: Callable[[Settings], None] | None = preflight_index) -> None:
    """Serve `make_app(settings)` on settings.host:port with settings.workers processes under
    settings.http_server; returns when the server has stopped."""
    if preflight is not None:
        preflight(settings)
    # Processes started from here on (spawned workers, SPARQL workers) read it when they
    # start; a forked worker applies it itself (`_worker_app`).
    os.environ.setdefault(ARENAS, str(SERVING_ARENAS))
    if settings.http_server == "uvicorn":
        _uvicorn(settings, make_app)
    else:
        _granian(settings, make_app)


def _worker_app(make_app: AppFactory, settings: Settings) -> Any:
    """Build the app inside a worker; a failure stops the server instead of a restart loop."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # until the app's lifespan listens for it
    # before the app's threads start (principles/memory.py); an operator's value wins
    limit_arenas(_number(ARENAS, SERVING_ARENAS))
    try:
        return make_app(settings)
    except Exception:
        log.exception("worker %d could not open the app", os.getpid())
        sys.exit(STARTUP_FAILURE)


def _number(variable: str, default: int) -> int:
    """A glibc tunable as the environment has it, else ours."""
    value = os.environ.get(variable, "")
    return int(value) if value.isdigit() and int(value) > 0 else default


def _forward(signum: int, pids: list[int | None]) -> None:
    for pid in pids:
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)


# granian ---------------------------------------------------------------------------------------

def _granian(settings: Settings, make_app: AppFactory) -> None:
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels
    from granian.server import MPServer

    class Workers(MPServer):
        """granian's supervisor, except that SIGHUP is forwarded to the workers (granian's own
        SIGHUP restarts them: seconds of model loading for what a swap does in ~0.2 s)."""

        def _reload(self, spawn_target: Any, target_loader: Any) -> None:
            self.reload_signal = False
            self.main_loop_interrupt.clear()
            log.warning("SIGHUP: forwarded to %d worker(s)", len(self.wrks))
            _forward(signal.SIGHUP, [worker.inner.pid for worker in self.wrks])

    server = Workers(
        "principles", address=settings.host, port=settings.port, interface=Interfaces.ASGI,
        workers=settings.workers, loop=Loops.uvloop, websockets=False,
        log_level=LogLevels.info, respawn_failed_workers=True,
        workers_kill_timeout=WORKER_STOP_TIMEOUT)
    # Workers are forked (granian's default on Linux): the loader runs in each of them.
    server.serve(target_loader=partial(_forked_worker_app, make_app, settings), wrap_loader=False)


def _forked_worker_app(make_app: AppFactory, settings: Settings) -> Any:
    """A forked worker inherits the supervisor's SIGTERM handler, which does nothing useful in
    it: a stop asked for while the worker loads would be lost (and the supervisor would wait
    for it to time out). Until granian installs the worker's own handlers after loading, a
    SIGTERM ends the worker at once (it serves nothing yet)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    return _worker_app(make_app, settings)


# uvicorn ---------------------------------------------------------------------------------------

def _uvicorn(settings: Settings, make_app: AppFactory) -> None:
    import uvicorn
    from uvicorn.supervisors.multiprocess import Multiprocess

    options: dict[str, Any] = {"host": settings.host, "port": settings.port, "log_level": "info",
                               "loop": "uvloop", "http": "httptools"}
    if settings.workers == 1:  # in this process, as before: the app opens before the bind
        uvicorn.run(make_app(settings), **options)
        return

    class Workers(Multiprocess):
        """uvicorn's supervisor, except that SIGHUP is forwarded to the workers (uvicorn's own
        SIGHUP restarts them one by one)."""

        def handle_hup(self) -> None:
            log.warning("SIGHUP: forwarded to %d worker(s)", len(self.processes))
            _forward(signal.SIGHUP, [process.pid for process in self.processes])

    # Workers are spawned: the factory and the settings are pickled to each.
    config = uvicorn.Config(partial(_worker_app, make_app, settings), factory=True,
                            workers=settings.workers, **options)
    Workers(config, sockets=[config.bind_socket()]).run()
