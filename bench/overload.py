"""Overload: 64 connections for 60 s against a real `principles serve` on 127.0.0.1, 70% searches
and 30% overlap drafts of 1,000-5,000 words (text cut from corpus/ pages), then recovery.

Prints, per kind: answered, refused (503 with Retry-After), other 5xx, client errors, and
latency p50/p99 of answered requests and of refusals; then search p50 in the 5 s after the
load against the p50 before it, and the server's RSS before, at the end of the load and 5 s
after. Goals (issue 14): 0 search 5xx, search p99 <= 1 s, drafts answered or refused at once,
normal latency within 5 s of the load ending, RSS back within 20% of its level before
(also per process, split into anonymous memory and mapped file pages).
Run: .venv/bin/python bench/overload.py [--seconds 60] [--connections 64] [--index DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.api import QUERIES, free_port  # noqa: E402


def corpus_words() -> list[str]:
    from ingest.corpus import discover, load_pages
    from ingest.report import Report

    return [w for page in load_pages(discover(ROOT / "corpus"), Report()) for w in page.body.split()]


def rss_mb(pid: int) -> float:
    """RSS of the server and every process under it (its workers, their SPARQL workers)."""
    total = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total += int(line.split()[1]) / 1024
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += rss_mb(int(child))
    return total


def processes(pid: int) -> list[tuple[int, str, dict[str, float]]]:
    """The server and every process under it: pid, what it is, and its RSS split (MB) into
    anonymous memory (heaps: what a process keeps for itself) and file pages (mapped model
    weights, shards, BM25 matrices: shared through the page cache)."""
    rows, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            command = Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
        sizes = {key: int(value) / 1024 for key, value in
                 (line.split()[:2] for line in status.splitlines()
                  if line.startswith(("VmRSS:", "RssAnon:", "RssFile:", "RssShmem:")))}
        role = "server" if p == pid else "sparql worker" if "sparql.worker" in command else "worker"
        rows.append((p, role, {"rss": sizes.get("VmRSS:", 0.0), "anon": sizes.get("RssAnon:", 0.0),
                               "file": sizes.get("RssFile:", 0.0) + sizes.get("RssShmem:", 0.0)}))
    return rows


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


async def sequential_search_p50(base: str, seconds: float, tag: str) -> float:
    """Distinct queries (`tag` keeps the two phases apart: no answer from the query cache)."""
    import httpx

    samples: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        deadline = time.monotonic() + seconds
        i = 0
        while time.monotonic() < deadline:
            start = time.perf_counter()
            await client.get("/v1/search", params={"q": f"{QUERIES[i % len(QUERIES)]} {tag}{i}"})
            samples.append((time.perf_counter() - start) * 1000)
            i += 1
    return statistics.median(samples)


Outcome = dict[str, dict[str, list[float]]]  # kind -> outcome -> latencies (ms)


async def load(base: str, seconds: float, connections: int, words: list[str]) -> Outcome:
    import httpx

    outcome: Outcome = {"search": defaultdict(list), "draft": defaultdict(list)}
    rng = random.Random(7)
    deadline = time.monotonic() + seconds

    async def worker(n: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            i = 0
            while time.monotonic() < deadline:
                i += 1
                kind = "draft" if rng.random() < 0.3 else "search"
                start = time.perf_counter()
                try:
                    if kind == "search":
                        response = await client.get("/v1/search", params={
                            "q": f"{QUERIES[(n + i) % len(QUERIES)]} {n}-{i}"})  # never cached
                    else:
                        size = rng.randint(1000, 5000)
                        at = rng.randint(0, len(words) - size)
                        response = await client.post("/v1/overlap", json={
                            "text": "# Draft\n\n" + " ".join(words[at:at + size])})
                except httpx.HTTPError:
                    outcome[kind]["client error"].append((time.perf_counter() - start) * 1000)
                    continue
                ms = (time.perf_counter() - start) * 1000
                status = response.status_code
                if status == 200:
                    outcome[kind]["answered"].append(ms)
                elif status == 503 and "retry-after" in response.headers:
                    outcome[kind]["refused"].append(ms)
                elif status >= 500:
                    outcome[kind]["other 5xx"].append(ms)
                else:
                    outcome[kind][f"{status}"].append(ms)

    await asyncio.gather(*(worker(n) for n in range(connections)))
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--index", type=Path, help="an index built from corpus/ (else built now)")
    args = parser.parse_args()

    from principles.settings import Settings

    words = corpus_words()
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index
        if index is None:
            from ingest.pipeline import ingest

            index = Path(tmp) / "index"
            ingest(Settings(corpus_dir=ROOT / "corpus", index_dir=index))
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "principles_graph", "serve", "--index",
                                   str(index), "--port", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            import httpx

            for _ in range(300):
                try:
                    if httpx.get(base + "/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.3)
            before_p50 = asyncio.run(sequential_search_p50(base, 5, "before"))
            rss_before, split_before = rss_mb(server.pid), processes(server.pid)
            outcome = asyncio.run(load(base, args.seconds, args.connections, words))
            rss_peak = rss_mb(server.pid)
            after_p50 = asyncio.run(sequential_search_p50(base, 5, "after"))
            rss_after, split_after = rss_mb(server.pid), processes(server.pid)
        finally:
            server.terminate()
            server.wait(10)

    print(f"{args.connections} connections for {args.seconds:.0f} s, 70% search / 30% drafts "
          "of 1-5k words (corpus/ index)")
    print(f"{'kind':<8}{'outcome':<14}{'count':>7}{'p50 ms':>10}{'p99 ms':>10}")
    for kind, rows in outcome.items():
        for name, samples in sorted(rows.items()):
            print(f"{kind:<8}{name:<14}{len(samples):>7}{pct(samples, 0.5):>10.1f}"
                  f"{pct(samples, 0.99):>10.1f}")
    print(f"search p50 sequential: before {before_p50:.1f} ms, in the 5 s after the load "
          f"{after_p50:.1f} ms ({after_p50 / before_p50:.2f}x)")
    print(f"server RSS (all its processes): before {rss_before:.0f} MB, end of load "
          f"{rss_peak:.0f} MB, 5 s after {rss_after:.0f} MB ({rss_after / rss_before:.2f}x)")
    after = {pid: sizes for pid, _, sizes in split_after}
    print(f"{'process':<22}{'RSS before':>11}{'after':>8}{'anon before':>13}{'after':>8}"
          f"{'file before':>13}{'after':>8}  (MB; 'gone': the process ended)")
    for pid, role, sizes in split_before:
        later = after.get(pid)
        cells = "".join(f"{sizes[k]:>{w}.0f}" + (f"{later[k]:>8.0f}" if later else f"{'gone':>8}")
                        for k, w in (("rss", 11), ("anon", 13), ("file", 13)))
        print(f"{role + ' ' + str(pid):<22}{cells}")


if __name__ == "__main__":
    main()
