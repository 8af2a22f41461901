"""Read one corpus file without following links, blocking on special files or reading
without bound: a content repository takes pull requests, and CI that ingests one must never
publish the runner's files (`passwd.md -> /etc/passwd`) or hang on a FIFO or a 50 MB file."""

from __future__ import annotations

import os
import stat
from pathlib import Path


class Refused(OSError):
    """The file is not read; `kind` is the report code and the message says what to do."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def read_bounded(path: str | Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most `max_bytes`; Refused otherwise.

    O_NOFOLLOW: a file swapped for a symlink after discovery is not followed either.
    O_NONBLOCK: opening a FIFO never waits for a writer."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == getattr(os, "ELOOP", 40):
            raise Refused("symlink", "is a symbolic link; not followed") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused("not-a-file", "is not a regular file (a device, FIFO or socket); "
                          "remove it from the corpus")
        if info.st_size > max_bytes:
            raise Refused("too-large", f"is {info.st_size} bytes; the limit is {max_bytes} "
                          "(PRINCIPLES_MAX_FILE_BYTES): split the page or raise the limit")
        chunks = []
        remaining = max_bytes + 1  # a file growing while read is still bounded
        while remaining > 0 and (chunk := os.read(fd, wanted := min(remaining, 1 << 20))):
            chunks.append(chunk)
            remaining -= len(chunk)
            if len(chunk) < wanted:  # a regular file reads short only at its end: no read more
                break
        data = b"".join(chunks)
        if len(data) > max_bytes:
            raise Refused("too-large", f"grew past the limit of {max_bytes} bytes while read")
        return data
    finally:
        os.close(fd)
