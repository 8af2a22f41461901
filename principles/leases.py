"""Leases: which builds running servers still read, so pruning never deletes one under them.

A serving process keeps one file per build it has open, `<index>/leases/<pid>-<build-id>`,
and refreshes its mtime on every poll. `IndexLayout.prune` keeps every build with a live
lease. A lease is dead when its process is gone (same host: the pid no longer exists) or
when it was not refreshed for `ttl` seconds (a server on another host sharing the volume,
or a process frozen long enough that its reads are moot). Plain files, no locks: a crash
leaves a file that simply expires.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

LEASES = "leases"


def _folder(root: Path) -> Path:
    return root / LEASES


class Lease:
    """This process's claim on one build; `refresh` keeps it alive, `release` ends it."""

    def __init__(self, root: Path, build_id: str) -> None:
        self.build_id = build_id
        self.path = _folder(root) / f"{os.getpid()}-{build_id}"
        self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                   "build": self.build_id}), "utf-8")
        os.replace(tmp, self.path)

    def refresh(self) -> None:
        try:
            os.utime(self.path)
        except FileNotFoundError:  # removed by hand, or expired while the process was frozen
            self._write()

    def release(self) -> None:
        self.path.unlink(missing_ok=True)


def _held_build(path: Path, ttl: float, now: float) -> str | None:
    """The build a lease holds, or None when the lease is dead (or unreadable)."""
    try:
        if now - path.stat().st_mtime > ttl:
            return None
        data = json.loads(path.read_text("utf-8"))
        build, pid, host = str(data["build"]), int(data["pid"]), data.get("host")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if host != socket.gethostname():
        return build  # another host's pid means nothing here: the ttl decides
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, another user's
    return build


def leased_builds(root: Path, ttl: float) -> set[str]:
    """Build ids some live server holds; dead leases are removed on the way."""
    folder = _folder(root)
    if not folder.is_dir():
        return set()
    now = time.time()
    held: set[str] = set()
    for path in folder.iterdir():
        if path.name.startswith("."):
            continue
        build = _held_build(path, ttl, now)
        if build is None:
            path.unlink(missing_ok=True)
        else:
            held.add(build)
    return held
