"""The embedded engine: a small pool of long-lived query worker processes.

Each worker (service/sparql/worker.py) loads the build's store once. A query takes an idle
worker, sends it the job and waits with a deadline; past the timeout the worker is killed
(so the work really stops) and replaced by a fresh process, which loads while the pool goes
on. One query per worker at a time, so `sparql_workers` bounds the CPU SPARQL can use.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from principles.errors import Unavailable
from service.errors import EngineCrashed, QueryTimeout
from service.sparql.engine import Job, Reply, raise_for

ROOT = Path(__file__).resolve().parents[2]
HEADER = struct.Struct(">Q")
START_TIMEOUT = 120.0  # seconds a new worker may take to load the store
log = logging.getLogger("principles.service.sparql")


class WorkerGone(RuntimeError):
    """The worker process exited (crash, memory cap) or broke the wire format."""


@dataclass(frozen=True)
class WorkerSpec:
    graph: Path
    ontology: Path
    include_drafts: bool
    memory_mb: int

    def argument(self) -> str:
        return json.dumps({"graph": str(self.graph), "ontology": str(self.ontology),
                           "include_drafts": self.include_drafts, "memory_mb": self.memory_mb})


class Worker:
    def __init__(self, spec: WorkerSpec) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service.sparql.worker", spec.argument()],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=ROOT)
        self.started = time.monotonic()
        self.sizes: dict[str, int] | None = None
        self._buffer = bytearray()

    def _read(self, size: int, deadline: float) -> bytes:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while len(self._buffer) < size:
            # What the worker already wrote is read even past the deadline (a ready message
            # from long ago); only waiting for more is bounded by it.
            remaining = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, max(65536, size - len(self._buffer)))
            if not chunk:
                raise WorkerGone(f"worker exited with code {self.proc.poll()}")
            self._buffer += chunk
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _frame(self, deadline: float) -> bytes:
        (size,) = HEADER.unpack(self._read(HEADER.size, deadline))
        return self._read(size, deadline)

    def wait_ready(self) -> None:
        """Raise WorkerGone unless the worker is alive and has loaded the store."""
        if self.proc.poll() is not None:
            raise WorkerGone(f"worker exited with code {self.proc.returncode}")
        if self.sizes is None:
            hello = json.loads(self._frame(self.started + START_TIMEOUT))
            self.sizes = hello["sizes"]

    def call(self, job: Job, deadline: float) -> tuple[dict[str, Any], bytes]:
        assert self.proc.stdin is not None
        payload = json.dumps(job.wire()).encode()
        try:
            self.proc.stdin.write(HEADER.pack(len(payload)) + payload)
            self.proc.stdin.flush()
        except OSError as exc:
            raise WorkerGone(f"worker is gone: {exc}") from exc
        header = json.loads(self._frame(deadline))
        return header, self._frame(deadline)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):  # unflushed bytes to a dead pipe
                    stream.close()


class LocalEngine:
    """Worker-process pool over the build's embedded pyoxigraph store."""

    name = "embedded"

    def __init__(self, spec: WorkerSpec, size: int) -> None:
        self.spec = spec
        self.size = size
        self._idle: queue.Queue[Worker] = queue.Queue()
        self._all: set[Worker] = set()
        self._lock = threading.Lock()
        self._started = False
        self._closed = False

    def _spawn(self) -> None:
        with self._lock:
            if self._closed:
                return
            worker = Worker(self.spec)
            self._all.add(worker)
        self._idle.put(worker)

    def _discard(self, worker: Worker) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)
        self._spawn()

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        for _ in range(self.size):
            self._spawn()

    def pids(self) -> list[int]:
        with self._lock:
            return [w.proc.pid for w in self._all]

    def sizes(self) -> dict[str, int] | None:
        """Triples per graph, as reported by a worker once it has loaded the store."""
        self.start()
        with self._lock:
            known = [w.sizes for w in self._all if w.sizes is not None]
        if known:
            return known[0]
        try:
            worker = self._idle.get(timeout=START_TIMEOUT)
        except queue.Empty:
            return None
        try:
            worker.wait_ready()
        except (TimeoutError, WorkerGone, ValueError, OSError):
            self._discard(worker)
            return None
        self._idle.put(worker)
        return worker.sizes

    def _checkout(self, timeout: float) -> Worker:
        """An idle, loaded worker; one found dead (killed while idle) is replaced, retried."""
        self.start()
        deadline = time.monotonic() + timeout
        for _ in range(self.size + 1):
            try:
                worker = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise Unavailable(f"all {self.size} SPARQL workers stayed busy for {timeout:g} s; "
                                  "retry later") from None
            try:
                worker.wait_ready()
                return worker
            except (TimeoutError, WorkerGone, ValueError, OSError) as exc:
                log.error("SPARQL worker %s is not usable (exit code %s): %r", worker.proc.pid,
                          worker.proc.poll(), exc)
                self._discard(worker)
        raise Unavailable("SPARQL workers fail to load the graph; see the server log")

    def run(self, job: Job, timeout: float) -> Reply:
        worker = self._checkout(timeout)
        try:
            header, body = worker.call(job, time.monotonic() + timeout)
        except TimeoutError:
            self._discard(worker)
            raise QueryTimeout(f"the query ran longer than the {timeout:g} s limit and was "
                               "stopped; narrow the patterns or add a LIMIT",
                               timeout_seconds=timeout) from None
        except (WorkerGone, ValueError, OSError) as exc:
            code = worker.proc.poll()
            if code is None:  # broken pipe or framing: it is stopped below either way
                worker.proc.kill()
                code = worker.proc.wait()
            self._discard(worker)  # a fresh worker replaces it: the pool recovers
            how = (f"was killed by {signal.Signals(-code).name}" if code < 0
                   and -code in signal.valid_signals() else f"exited with code {code}")
            log.error("SPARQL worker %s crashed answering a query (%s): %r",
                      worker.proc.pid, how, exc)
            raise EngineCrashed(f"the query engine crashed on this query (the worker {how}; it "
                                f"is replaced). Queries near the {self.spec.memory_mb} MB memory "
                                "cap or with very deep nesting can do this; simplify the query",
                                retry=False) from exc
        self._idle.put(worker)
        if "error" in header:
            raise_for(header["error"], header["message"])
        return Reply(body, header["kind"], header["rows"], header["truncated"])

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            worker.kill()
