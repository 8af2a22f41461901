"""The index on disk: a folder of immutable builds and a `current` symlink switched by one
rename, plus the manifest that says what a build holds and how it was made.

    <index>/current -> builds/<build-id>
    <index>/builds/<build-id>/manifest.json, pages.json (+ pages_spans.npy), terms.json, aliases.json,
                             related.npz, graph.ttl, graph.nt, graph_parts.json, shacl.json,
                             graph.json (+ graph_spans.npz), bm25/, overlap/,
                             report.json, parsed.json, embeddings/, edge/ (or qdrant/)
    <index>/models/<model>.onnx   the query encoder serve runs, exported once per model
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from principles.errors import IndexProblem
from principles.leases import leased_builds

# 2: page headline field, page-level BM25, related coverage column; 3: overlap pairs as columns
INDEX_FORMAT = 3
CURRENT = "current"
BUILDS = "builds"
STAGING_PREFIX = ".staging-"
DEFAULT_LEASE_TTL = 60.0  # Settings.lease_ttl's default


@dataclass
class Manifest:
    build_id: str
    created: str
    corpus: str
    corpus_hash: str
    model: str
    dimension: int
    index_format: int
    ontology_version: str
    counts: dict[str, int]
    collections: dict[str, str]
    qdrant_url: str | None = None
    engine: str = "edge"
    query_encoder: str | None = None  # ONNX file relative to the index root
    chunking: dict[str, int] = field(default_factory=dict)
    page_hashes: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def save(self, folder: Path) -> None:
        # the fields themselves, not `asdict`'s deep copy of 10k page hashes; msgspec, ~10x
        # faster than json, unless a path holds a character UTF-8 cannot (json escapes it)
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        try:
            data = msgspec.json.format(msgspec.json.encode(fields), indent=1)
        except UnicodeEncodeError:
            data = json.dumps(fields, indent=1).encode()
        (folder / "manifest.json").write_bytes(data)

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        path = folder / "manifest.json"
        try:
            data: dict[str, Any] = json.loads(path.read_text("utf-8"))
            return cls(**data)
        except FileNotFoundError as exc:
            raise IndexProblem(f"no manifest at {path}") from exc
        except (ValueError, TypeError) as exc:
            raise IndexProblem(f"unreadable manifest {path}: {exc}") from exc


class IndexLayout:
    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def current(self) -> Path:
        return self.root / CURRENT

    @property
    def builds(self) -> Path:
        return self.root / BUILDS

    def current_build(self) -> Path | None:
        """The folder `current` points at, or None when there is no usable build yet."""
        if not self.current.is_symlink() and not self.current.exists():
            return None
        target = self.current.resolve()
        return target if (target / "manifest.json").is_file() else None

    def staging(self, build_id: str) -> Path:
        self.builds.mkdir(parents=True, exist_ok=True)
        path = self.builds / f"{STAGING_PREFIX}{build_id}"
        path.mkdir()
        return path

    def publish(self, staging: Path, build_id: str) -> Path:
        """Make a finished build current: rename it into place, then swap the symlink with
        one atomic rename. A crash before the last rename leaves the old build current."""
        final = self.builds / build_id
        os.replace(staging, final)
        self.point_current(build_id)
        return final

    def point_current(self, build_id: str | None) -> None:
        """Point `current` at a finished build with one atomic rename of a fresh symlink
        (None: no build is current any more)."""
        if build_id is None:
            self.current.unlink(missing_ok=True)
            return
        link = self.root / f".{CURRENT}-{build_id}"
        if link.is_symlink() or link.exists():
            link.unlink()
        os.symlink(Path(BUILDS) / build_id, link)
        os.replace(link, self.current)
        _fsync_dir(self.root)

    def kept(self, keep: int, lease_ttl: float = DEFAULT_LEASE_TTL) -> set[str]:
        """Build ids pruning keeps: the newest `keep`, the current one and every build a live
        server holds a lease on (principles/leases.py)."""
        finished = sorted(p.name for p in self.builds.iterdir()
                          if p.is_dir() and not p.name.startswith(".")) if self.builds.is_dir() else []
        current = self.current_build()
        return (set(finished[-keep:] if keep else []) | ({current.name} if current else set())
                | leased_builds(self.root, lease_ttl))

    def prune(self, keep: int, lease_ttl: float = DEFAULT_LEASE_TTL) -> list[Path]:
        """Delete abandoned staging folders and every build `kept` does not name."""
        if not self.builds.is_dir():
            return []
        kept = self.kept(keep, lease_ttl)
        removed: list[Path] = []
        finished = sorted((p for p in self.builds.iterdir()
                           if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name)
        for path in self.builds.iterdir():
            if path.name.startswith(STAGING_PREFIX) and not _owner_alive(path):
                removed.append(path)
        removed += [path for path in finished if path.name not in kept]
        for path in removed:
            shutil.rmtree(path, ignore_errors=True)
        for link in self.root.glob(f".{CURRENT}-*"):
            link.unlink(missing_ok=True)
        return removed


def _owner_alive(staging: Path) -> bool:
    """Staging folders carry the pid of the ingest writing them; a dead pid means abandoned."""
    try:
        pid = int((staging / ".pid").read_text().strip())
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid != os.getpid()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
