"""API latency against baselines measured in the same run (loopback only, bounded).

Starts the real app under uvicorn in a child process, on 127.0.0.1, with one extra bare
endpoint (`GET /bench/bare`, returns a constant) so that routing, DI and serialisation
costs are the same. Sequential keep-alive requests (one client, so latency, not throughput).
Prints p50/p99 of /v1/related, /v1/search, /v1/resolve and the bare endpoint, their ratios
to the bare endpoint (goal: related <= 2x), and /v1/search p50 against a bare query encode
(sentence-transformers `encode`, in this process, same model; goal: <= 1.2x) and against
the ONNX encoder serve uses.
Run: .venv/bin/python bench/api.py [--requests N] [--seconds S]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

QUERIES = ["why finish work before starting more", "limiting work in progress", "blameless retro",
           "technical debt interest", "how to run a sprint review", "customer feedback loops",
           "feature toggles", "small batches reduce risk", "psychological safety in teams",
           "cost of delay prioritisation", "trunk based development", "value stream teams"]
PAGES = ["resources/articles/limit-work-in-progress", "tags/customer-focus", "tags/flow",
         "/principles/customer-focus/", "resources/articles/technical-debt-is-a-loan"]
PATHS = ["/principles/customer-focus/", "/Principles/Small-Batches", "/tags/flow/index.html",
         "https://example.org/principles/feedback/?x=1", "/nope/"]


def serve(index: str, port: int) -> None:
    import uvicorn
    from litestar import get

    from principles.settings import Settings
    from service.app import create_app

    @get("/bench/bare", sync_to_thread=False)
    def bare() -> dict[str, bool]:
        return {"ok": True}

    app = create_app(Settings(index_dir=Path(index)))
    app.register(bare)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", loop="uvloop", http="httptools")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def measure(client: object, url: str, params: list[dict[str, str]], n: int, seconds: float) -> list[float]:
    import httpx

    assert isinstance(client, httpx.Client)
    out: list[float] = []
    deadline = time.monotonic() + seconds
    for i in range(n):
        if time.monotonic() > deadline:
            break
        start = time.perf_counter()
        response = client.get(url, params=params[i % len(params)] if params else None)
        out.append((time.perf_counter() - start) * 1000)
        assert response.status_code in (200, 404), (url, response.status_code)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=30.0, help="time cap per endpoint")
    parser.add_argument("--serve", nargs=2, metavar=("INDEX", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return

    import httpx

    from ingest.pipeline import ingest
    from principles.embedder import Encoder
    from principles.onnx_encoder import OnnxEncoder
    from principles.settings import Settings

    encoder = Encoder(Settings().model)
    with tempfile.TemporaryDirectory() as tmp:
        ingest(Settings(corpus_dir=ROOT / "corpus", index_dir=Path(tmp)), encoder=encoder)
        port = free_port()
        server = subprocess.Popen([sys.executable, __file__, "--serve", tmp, str(port)])
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=10) as client:
                for _ in range(300):
                    try:
                        if client.get("/health").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.2)
                else:
                    raise SystemExit("server did not start")
                plans = {
                    "bare": ("/bench/bare", []),
                    "related": ("/v1/related", [{"page": p} for p in PAGES]),
                    "resolve": ("/v1/resolve", [{"path": p} for p in PATHS]),
                    "search": ("/v1/search", [{"q": q} for q in QUERIES]),
                }
                for url, params in plans.values():  # warm-up
                    measure(client, url, params, 30, 5)
                results = {name: percentiles(measure(client, url, params, args.requests, args.seconds))
                           for name, (url, params) in plans.items()}
        finally:
            server.terminate()
            server.wait(10)
        onnx = OnnxEncoder(Path(tmp) / "models" / "all-MiniLM-L6-v2.onnx", Settings().model)
        for name, encode in (("encode (in process)", lambda q: encoder.encode([q])),
                             ("onnx encode (in proc)", onnx.encode_query)):
            samples = []
            for i in range(args.requests):
                start = time.perf_counter()
                encode(QUERIES[i % len(QUERIES)])
                samples.append((time.perf_counter() - start) * 1000)
            results[name] = percentiles(samples)
    bare = results["bare"][0]
    print(f"{'endpoint':<22}{'p50 ms':>9}{'p99 ms':>9}{'p50 / bare':>12}")
    for name, (p50, p99) in results.items():
        print(f"{name:<22}{p50:>9.2f}{p99:>9.2f}{p50 / bare:>12.2f}")
    print(f"\nrelated / bare endpoint: {results['related'][0] / bare:.2f}x (goal <= 2)")
    print(f"search / bare encode:    {results['search'][0] / results['encode (in process)'][0]:.2f}x "
          "(goal <= 1.2; sentence-transformers encode; search includes HTTP, encode does not)")
    print(f"search / onnx encode:    {results['search'][0] / results['onnx encode (in proc)'][0]:.2f}x "
          "(the encoder serve actually uses)")


if __name__ == "__main__":
    main()
