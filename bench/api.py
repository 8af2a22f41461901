"""API throughput and latency against baselines measured in the same run (loopback only, bounded).

For each HTTP server asked for (granian; uvicorn with uvloop and httptools), two servers run
side by side on 127.0.0.1 with the same worker count: a bare Litestar app with one constant
endpoint (`GET /bench/bare`), and `principles serve`'s app (the live app over the index, every
feature and middleware) with the same endpoint mounted. wrk drives each plan for a few
seconds at 32 connections, in rounds (plans interleaved, medians printed, so load from other
processes hits every plan alike):

- bare app /bench/bare, ours /bench/bare (goal: ours >= 0.8x the bare app), /health;
- /v1/related over every served page, as the widget asks (goal: >= 0.5x the bare app);
- /v1/search with distinct 3-word queries (every one a cache miss: encoded, batched with the
  queries arriving meanwhile) (goal: >= 0.5x cores / encode time), and with a dozen repeated
  queries (cache hits);
- sequentially (one connection): /v1/search with distinct queries against one ONNX query
  encode in this process with the server's thread setting, timed right before and right after
  that plan in every round, so both see the machine in the same state (goal: p50 <= 1.5x),
  /v1/related;
- RSS and PSS (shared pages split between the processes sharing them) of every worker.

Run: .venv/bin/python bench/api.py [--index DIR] [--workers N] [--servers granian,uvicorn]
     [--seconds 3] [--rounds 3] [--json FILE]
Without --index, corpus/ is ingested into a temporary folder first. Bounded: every wrk run is
`--seconds` long, and the servers are stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

CONNECTIONS = 32
SEQUENTIAL_SEARCH = "sequential /v1/search distinct"
QUERIES = ["why finish work before starting more", "limiting work in progress", "blameless retro",
           "technical debt interest", "how to run a sprint review", "customer feedback loops",
           "feature toggles", "small batches reduce risk", "psychological safety in teams",
           "cost of delay prioritisation", "trunk based development", "value stream teams"]


# The served apps (child processes) -----------------------------------------------------------

def _bare_route() -> Any:
    from litestar import get

    @get("/bench/bare", sync_to_thread=False)
    def bare() -> dict[str, bool]:
        return {"ok": True}

    return bare


def bare_app(_: Any) -> Any:
    """A bare Litestar app: one constant endpoint, nothing else."""
    from litestar import Litestar

    return Litestar([_bare_route()])


def _with_bare(settings: Any, **parts: Any) -> Any:
    from service import app as module

    app = getattr(module, "original_create_app", module.create_app)(settings, **parts)
    app.register(_bare_route())
    return app


def ours_app(settings: Any) -> Any:
    """`principles serve`'s app (live, every feature) with the bare endpoint mounted in it."""
    from service.live import live_app

    try:
        return live_app(settings, make_app=_with_bare)
    except TypeError:  # older code (the "before" run): no make_app, so patch the factory
        import service.app

        service.app.original_create_app = service.app.create_app  # type: ignore[attr-defined]
        service.app.create_app = _with_bare  # type: ignore[assignment]
        return live_app(settings)


def run_server(kind: str, index: str, port: int, server: str, workers: int) -> None:
    from principles.settings import Settings

    options: dict[str, Any] = {"host": "127.0.0.1", "port": port}
    if "workers" in Settings.model_fields:
        options.update(workers=workers, http_server=server)
    settings = Settings(index_dir=Path(index), **options)
    make = bare_app if kind == "bare" else ours_app
    try:
        from service.server import serve
    except ImportError:  # older code: one uvicorn process
        import uvicorn

        uvicorn.run(make(settings), host="127.0.0.1", port=port, log_level="warning",
                    loop="uvloop", http="httptools")
        return
    serve(settings, make_app=make, preflight=None)


# Measuring ------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server_process(kind: str, index: Path, server: str, workers: int) -> Iterator[tuple[str, int]]:
    import httpx

    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, str(index), str(port),
                             server, str(workers)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/bench/bare", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
            if proc.poll() is not None:
                raise SystemExit(f"{kind} server ({server}) exited with {proc.returncode}")
        else:
            raise SystemExit(f"{kind} server ({server}) did not start")
        yield base, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, seconds: float, connections: int = CONNECTIONS,
        script: Path | None = None) -> dict[str, float]:
    """Requests per second and latency percentiles of one bounded wrk run."""
    threads = min(2, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency",
               "--timeout", "10s", *(["-s", str(script)] if script else []), url]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rate is None:
        raise RuntimeError(f"wrk failed on {url}: {out}")
    latency = {p: _ms(v, u) for p, v, u in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)", out)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: (.*)", out)
    return {"rps": float(rate.group(1)), "p50": latency.get("50", 0.0), "p99": latency.get("99", 0.0),
            "errors": float(errors.group(1)) if errors else 0.0,
            "socket_errors": 1.0 if sockets else 0.0}


def lua_paths(paths: list[str]) -> str:
    quoted = ", ".join(json.dumps(p) for p in paths)
    return f"""
local paths = {{{quoted}}}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
"""


def lua_distinct_queries(words: list[str]) -> str:
    """Three random words per request, seeded per wrk thread: practically never the same."""
    quoted = ", ".join(json.dumps(w) for w in words)
    return f"""
local words = {{{quoted}}}
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  math.randomseed(os.time() * 7919 + id * 104729)
end
request = function()
  local q = words[math.random(#words)] .. "+" .. words[math.random(#words)] .. "+" ..
            words[math.random(#words)]
  return wrk.format("GET", "/v1/search?q=" .. q)
end
"""


def memory(pid: int) -> list[dict[str, Any]]:
    """RSS and PSS (MB) of `pid` and its descendants, with what each process is."""
    def children(p: int) -> list[int]:
        found: list[int] = []
        for task in Path(f"/proc/{p}/task").glob("*"):
            with suppress(OSError):
                found += [int(c) for c in (task / "children").read_text().split()]
        return found

    rows, todo = [], [pid]
    while todo:
        p = todo.pop()
        todo += children(p)
        try:
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text()
            command = Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        values = {k: int(v) / 1024 for k, v in re.findall(r"^(Rss|Pss):\s+(\d+) kB", rollup, re.M)}
        role = ("sparql worker" if "sparql.worker" in command else
                "server" if p == pid else "helper" if "multiprocessing" in command
                and "spawn_main" not in command else "worker")
        rows.append({"pid": p, "role": role, "rss": values.get("Rss", 0.0),
                     "pss": values.get("Pss", 0.0)})
    if not any(r["role"] == "worker" for r in rows):  # one process: it is the worker
        for r in rows:
            r["role"] = "worker" if r["role"] == "server" else r["role"]
    return rows


def median_runs(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def bench_server(server: str, index: Path, workers: int, args: argparse.Namespace,
                 words: list[str], pages: list[str], scripts: Path,
                 encode: Callable[[], list[float]]) -> dict[str, Any]:
    related_lua = scripts / "related.lua"
    related_lua.write_text(lua_paths([f"/v1/related?page={p}" for p in pages]))
    distinct_lua = scripts / f"distinct-{server}.lua"
    distinct_lua.write_text(lua_distinct_queries(words))
    sequential_lua = scripts / f"sequential-{server}.lua"
    sequential_lua.write_text(lua_distinct_queries(list(reversed(words))))
    repeated_lua = scripts / "repeated.lua"
    repeated_lua.write_text(lua_paths([f"/v1/search?q={q.replace(' ', '+')}" for q in QUERIES]))
    seconds = args.seconds
    with server_process("bare", index, server, workers) as (bare, _), \
            server_process("ours", index, server, workers) as (ours, pid):
        plans: dict[str, tuple[str, Path | None, int]] = {
            "bare app /bench/bare": (bare + "/bench/bare", None, CONNECTIONS),
            "ours /bench/bare": (ours + "/bench/bare", None, CONNECTIONS),
            "ours /health": (ours + "/health", None, CONNECTIONS),
            "ours /v1/related": (ours, related_lua, CONNECTIONS),
            "ours /v1/search distinct": (ours, distinct_lua, CONNECTIONS),
            "ours /v1/search repeated": (ours, repeated_lua, CONNECTIONS),
            SEQUENTIAL_SEARCH: (ours, sequential_lua, 1),
            "sequential /v1/related": (ours, related_lua, 1),
            "sequential bare app": (bare + "/bench/bare", None, 1),
        }
        for url, script, _ in plans.values():  # warm-up: every worker, every path
            wrk(url, 1, script=script)
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in plans}
        encodes: list[float] = []
        for _ in range(args.rounds):  # interleaved, so other load on the machine hits all alike
            for name, (url, script, connections) in plans.items():
                if name == SEQUENTIAL_SEARCH:  # its baseline, timed just before and after it
                    encodes += encode()  # one query at a time while the servers idle
                runs[name].append(wrk(url, seconds, connections=connections, script=script))
                if name == SEQUENTIAL_SEARCH:
                    encodes += encode()
        results: dict[str, Any] = {name: median_runs(r) for name, r in runs.items()}
        results["encode"] = {"p50": statistics.median(encodes)}
        results["memory"] = memory(pid)
    return results


def encoder_for(index: Path, workers: int, queries: list[str]) -> Callable[[], list[float]]:
    """One query encode in this process, with the encoder and threads a server worker uses:
    a function that times a block of them (ms each)."""
    from principles.settings import Settings
    from service.engines import query_encoder
    from service.index import open_index

    options = {"workers": workers} if "workers" in Settings.model_fields else {}
    settings = Settings(index_dir=index, **options)
    encoder = query_encoder(settings, open_index(settings))
    for q in queries[:20]:
        encoder.encode_query(q)

    def block() -> list[float]:
        samples = []
        for q in queries:
            started = time.perf_counter()
            encoder.encode_query(q)
            samples.append((time.perf_counter() - started) * 1000)
        return samples

    return block


def vocabulary(index: Path) -> tuple[list[str], list[str]]:
    """Words of the page titles (for distinct queries) and the served page ids."""
    from principles.settings import Settings
    from service.index import open_index

    view = open_index(Settings(index_dir=index))
    pages = sorted(p["id"] for p in view.pages.values() if view.visible(p))
    words = sorted({w for p in view.pages.values() for w in re.findall(r"[a-z]{4,}", p["title"].lower())})
    return words[:400], pages[:2000]


def report(server: str, results: dict[str, Any], cores: int) -> list[str]:
    bare = results["bare app /bench/bare"]["rps"]
    encode = results["encode"]["p50"]
    search_goal = cores / (encode / 1000)
    goals = {"ours /bench/bare": ("bare app", bare, 0.8),
             "ours /v1/related": ("bare app", bare, 0.5),
             "ours /v1/search distinct": ("cores/encode", search_goal, 0.5)}
    lines = [f"{'server':<8} {'plan':<32}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>8}  ratio"]
    for name, r in results.items():
        if name in ("memory", "encode"):
            continue
        ratio = ""
        if name in goals:
            label, base, goal = goals[name]
            ratio = f"{r['rps'] / base:.2f}x {label} (goal >= {goal})"
        elif name == SEQUENTIAL_SEARCH:
            ratio = f"p50 {r['p50'] / encode:.2f}x encode (goal <= 1.5)"
        elif name == "ours /health":
            ratio = f"{r['rps'] / bare:.2f}x bare app"
        lines.append(f"{server:<8} {name:<32}{r['rps']:>9.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}"
                     f"{r['errors']:>8.0f}  {ratio}")
    lines.append(f"{server:<8} {'onnx encode, one query':<32}{'':>9}{encode:>9.2f}"
                 f"{'':>9}{'':>8}  cores/encode = {search_goal:.0f} req/s")
    for m in results["memory"]:
        lines.append(f"{server:<8} {'memory ' + m['role'] + ' ' + str(m['pid']):<32}"
                     f"  RSS {m['rss']:.0f} MB, PSS {m['pss']:.0f} MB")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="an index folder (default: ingest corpus/)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--servers", default="granian,uvicorn")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one wrk run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--serve", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        kind, index, port, server, workers = args.serve
        run_server(kind, index, int(port), server, int(workers))
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index
        if index is None:
            from ingest.pipeline import ingest
            from principles.settings import Settings

            index = Path(tmp) / "index"
            ingest(Settings(corpus_dir=ROOT / "corpus", index_dir=index))
        words, pages = vocabulary(index)
        rng = random.Random(7)
        queries = [" ".join(rng.sample(words, 3)) for _ in range(100)]
        cores = os.cpu_count() or 1
        figures: dict[str, Any] = {"workers": args.workers, "cores": cores, "index": str(index)}
        lines: list[str] = []
        encode = encoder_for(index, args.workers, queries)
        for server in args.servers.split(","):
            results = bench_server(server, index, args.workers, args, words, pages, Path(tmp), encode)
            figures[server] = results
            lines += report(server, results, cores)
            print("\n".join(lines[-len(results) - 6:]), flush=True)
    print(f"\n{args.workers} worker(s) per server, {cores} cores, wrk {CONNECTIONS} connections, "
          f"median of {args.rounds} x {args.seconds:g} s; index {index}")
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
