"""The one Settings object: every knob, read from `PRINCIPLES_*` environment variables.

Built explicitly (`Settings()`) by the CLI or a test and passed down; nothing reads the
environment at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "all-MiniLM-L6-v2"


def cores() -> int:
    """CPU cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class Settings(BaseSettings):
    """Declarative settings shared by ingest, serve and the benches."""

    model_config = SettingsConfigDict(env_prefix="PRINCIPLES_", extra="ignore")

    corpus_dir: Path = Field(Path("corpus"), description="Folder of markdown/text pages to ingest.")
    index_dir: Path = Field(Path("var/index"), description="Folder the ingest writes and serve reads.")
    qdrant_url: str | None = Field(
        None, description="Qdrant server or cluster URL; unset = embedded on-disk store in the index."
    )
    embedded_engine: Literal["edge", "local"] = Field(
        "edge", description="Embedded vector engine when no Qdrant URL is set: qdrant-edge "
        "(in-process Rust engine, default) or qdrant-client local mode.")
    qdrant_api_key: str | None = Field(None, description="API key for the Qdrant server.")
    qdrant_on_disk: bool = Field(
        False, description="Qdrant server: keep vectors on disk (memory-mapped), not in RAM.")
    qdrant_shards: int = Field(1, ge=1, le=64, description="Qdrant server/cluster: shards per "
                               "collection (spread over the cluster's nodes).")
    qdrant_replicas: int = Field(1, ge=1, le=8, description="Qdrant cluster: copies of each shard.")
    hnsw_m: int = Field(8, ge=4, le=128, description="HNSW links per vector (bench/hnsw.py).")
    hnsw_ef_construct: int = Field(
        100, ge=4, le=1000, description="HNSW candidate list while building the graph.")
    hnsw_ef: int = Field(
        128, ge=4, le=4096, description="HNSW candidate list per search: higher = better recall, "
        "slower (collections under ~6,600 vectors are searched exactly regardless).")
    model: str = Field(
        DEFAULT_MODEL,
        description="sentence-transformers model: a name, a local path, or the packaged default.",
    )
    query_encoder: Literal["onnx", "torch"] = Field(
        "onnx", description="How serve encodes queries: onnxruntime on a model file ingest exports "
        "(fast, no torch in serve) or sentence-transformers on torch.")
    host: str = Field("127.0.0.1", description="Address `serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `serve` listens on.")
    passage_words: int = Field(150, ge=20, le=400, description="Words per passage vector.")
    passage_overlap: int = Field(30, ge=0, le=200, description="Words shared by adjacent passages.")
    batch_size: int = Field(32, ge=1, le=1024, description="Texts per model batch.")
    include_drafts: bool = Field(False, description="Serve pages flagged draft.")
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed to call the API from a browser."
    )
    max_url_bytes: int = Field(8192, ge=256, le=65536,
                               description="Longest request target accepted (414 beyond).")
    max_body_bytes: int = Field(1_000_000, ge=1024, le=50_000_000,
                                description="Largest request body accepted (413 beyond).")
    cache_max_age: int = Field(300, ge=0, le=86400, description="Cache-Control max-age of read answers.")
    # [sparql] SPARQL settings go here
    sparql_url: str | None = Field(
        None, description="Base URL of an external SPARQL 1.1 store (e.g. an Oxigraph server) that "
        "ingest loads and /sparql proxies to; unset = embedded pyoxigraph store per build.")
    sparql_query_path: str = Field("query", description="Query endpoint below PRINCIPLES_SPARQL_URL.")
    sparql_store_path: str = Field(
        "store", description="Graph Store Protocol endpoint below PRINCIPLES_SPARQL_URL.")
    sparql_timeout: float = Field(10.0, gt=0, le=600, description="Seconds a SPARQL query may run.")
    sparql_max_rows: int = Field(
        10000, ge=1, le=1_000_000, description="Result rows (or triples) returned before truncating.")
    sparql_max_query_length: int = Field(
        10000, ge=100, le=1_000_000, description="Longest SPARQL query accepted, in characters.")
    sparql_max_nesting: int = Field(
        64, ge=4, le=1000, description="Deepest nesting of braces, parentheses and brackets in a "
        "SPARQL query (400 beyond; thousands crash the engine's parser).")
    sparql_max_answer_bytes: int = Field(
        16_000_000, ge=10_000, le=1_000_000_000, description="Largest SPARQL answer in bytes "
        "(413 beyond): the row cap alone does not bound one huge GROUP_CONCAT row.")
    sparql_workers: int = Field(
        2, ge=1, le=32, description="Embedded engine: query worker processes (one query each).")
    sparql_worker_memory_mb: int = Field(
        2048, ge=256, le=65536, description="Embedded engine: address-space cap per worker process.")
    # [overlap] overlap settings go here
    overlap_candidates: int = Field(
        20, ge=1, le=200, description="Overlap finder: nearest pages (and passages per draft "
        "passage) taken as candidates before exact scoring.")
    overlap_max_draft_words: int = Field(
        10000, ge=100, le=200000, description="Overlap finder: longest draft accepted, in words "
        "(a 10,000-word draft is ~80 passages, ~5 s of model time on 2 cores).")
    # [hardening] limits on hostile corpus files and requests (issue 13)
    max_file_bytes: int = Field(
        2_000_000, ge=1024, le=1_000_000_000, description="Largest corpus file ingest reads; "
        "bigger files are skipped with a report line (the site's largest page is ~30 KB).")
    max_aliases: int = Field(
        500, ge=1, le=100_000, description="Aliases kept per page; more are dropped with a "
        "report line.")
    allowed_hosts: list[str] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1", "[::1]", "testserver.local"],
        description="Host header values served (JSON list; `*` = any well-formed host, "
        "`.example.com` = the domain and its subdomains); others get 400. testserver.local is "
        "the name Litestar's test client sends.")
    site_base_url: str = Field(
        "http://localhost:1313", pattern=r"^https?://[^\s/?#]+/?$",
        description="Where the site's pages are published (scheme and host): JSON-LD `url`s are "
        "built from it, never from the request's Host.")
    max_json_depth: int = Field(
        32, ge=2, le=512, description="Deepest nesting accepted in a JSON request body (400 "
        "beyond).")
    # [mcp] assistant-facing settings go here
    site_name: str = Field("Principles Graph", description="Site name: the title of /llms.txt.")
    related_rules: Path | None = Field(
        None, description="Site-level related-link rules (YAML: exclude_types, exclude_sections, "
        "boost_same_section, max_per_type, fallback); unset = no site rules.")
    keep_builds: int = Field(2, ge=1, le=20, description="Index builds kept on disk (for rollback).")
    # [live] hot swap of builds in a running server (issue 14)
    reload_poll: float = Field(
        1.0, ge=0, le=3600, description="Seconds between serve's checks of the `current` "
        "symlink for a new build (0 = only on SIGHUP).")
    lease_ttl: float = Field(
        60.0, ge=5, le=86400, description="Seconds a serving process's build lease lives "
        "without a refresh; pruning keeps leased builds (a dead server's lease expires).")
    search_queue: int = Field(
        128, ge=1, le=10000, description="Searches (query encodes) admitted at once, waiting or "
        "running; more get 503 with Retry-After at once. Above the connections a normal peak "
        "brings (64 in tests/test_load.py, none refused), ~2.5 s of queued encodes at ~20 ms.")
    draft_queue: int = Field(
        4, ge=1, le=1000, description="Overlap drafts admitted at once, waiting or running, on "
        "their own model thread; more get 503 with Retry-After at once.")
    retry_after: int = Field(
        2, ge=1, le=3600, description="Retry-After seconds sent with an overload 503.")
    # [workers] serving near the hardware limit (issue 14)
    workers: int = Field(
        default_factory=cores, ge=1, le=64, description="Worker processes `serve` runs (default: "
        "the core count). Each opens the index read-only and swaps builds itself; SIGHUP to the "
        "server reaches every worker.")
    http_server: Literal["granian", "uvicorn"] = Field(
        "granian", description="The HTTP server `serve` runs the app under: granian (Rust HTTP, "
        "chosen by bench/api.py) or uvicorn with uvloop and httptools.")
    query_cache: int = Field(
        4096, ge=0, le=1_000_000, description="Query vectors kept per worker process, by "
        "normalised query (LRU; 0 = none).")
    answer_cache: int = Field(
        4096, ge=0, le=1_000_000, description="Related answers kept per build and worker process "
        "as JSON bytes (LRU; 0 = none); a swap starts the new build with an empty cache.")
    drain_timeout: float = Field(
        60.0, ge=0, le=3600, description="Seconds an old build stays open after a swap for the "
        "requests still running on it; then it is closed anyway.")

    def site_base(self) -> str:
        """Scheme and host the site is published on, without a trailing slash: every absolute
        page link (JSON-LD, llms.txt, Markdown pages, MCP) is built from it, never from Host."""
        return self.site_base_url.rstrip("/")
