"""File digests carried over by their stat, as git's index does: a re-ingest reads only the
page files whose inode, size, mtime or ctime moved since the previous build.

Every ingest needs every page file's digest (the corpus hash decides whether anything changed,
and the parse step parses only files whose digest did). Reading and hashing 10k files cost
0.2-0.5 s of a re-ingest; one `stat` per file costs a tenth of that.

ctime moves on every write and every metadata change (a `touch -d` restoring an mtime
included), and cannot be set from user space. A file changed within RACY_NS of the moment its
digest was taken could be changed again within the same timestamp tick without its stat
moving, so such a file gets no stamp: the next ingest reads it again.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from ingest.corpus import UNREAD, CorpusFile, file_digest
from principles.contract import STAMPS_FILE

RACY_NS = 2_000_000_000  # a tick of the coarsest file system clock we expect, with margin
Stamp = tuple[str, int, int, int, int, int]  # real path, device, inode, size, mtime_ns, ctime_ns


class _Record(msgspec.Struct, array_like=True):
    rel: str
    stamp: Stamp
    digest: str


_DECODER = msgspec.json.Decoder(list[_Record])


@dataclass
class FileStamps:
    """Each stamped file's digest by corpus path: the previous build's, then this one's."""

    known: dict[str, tuple[Stamp, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, build: Path | None) -> FileStamps:
        """Empty (every file is read) without a previous build or when its file is damaged."""
        if build is None:
            return cls()
        try:
            records = _DECODER.decode((build / STAMPS_FILE).read_bytes())
        except (OSError, msgspec.MsgspecError):
            return cls()
        return cls({r.rel: (tuple(r.stamp), r.digest) for r in records})  # type: ignore[misc]

    def save(self, folder: Path) -> None:
        records = [_Record(rel, stamp, digest) for rel, (stamp, digest) in self.known.items()]
        (folder / STAMPS_FILE).write_bytes(msgspec.json.encode(records))


def stamped_digests(files: list[CorpusFile], max_file_bytes: int,
                    previous: FileStamps) -> tuple[dict[str, str], FileStamps]:
    """Every page file's digest by corpus path (as `file_digests` gives them), read only where
    the stamp moved; and the stamps the next build may trust."""
    taken = time.time_ns()
    digests: dict[str, str] = {}
    stamps = FileStamps()
    for item in files:
        try:
            info = os.stat(item.real, follow_symlinks=False)
        except OSError:
            digests[item.rel] = file_digest(item.real, max_file_bytes)  # reports why
            continue
        now: Stamp = (item.real, info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns,
                      info.st_ctime_ns)
        before = previous.known.get(item.rel)
        if before is not None and before[0] == now and info.st_size <= max_file_bytes:
            digest = before[1]
        else:
            digest = file_digest(item.real, max_file_bytes)
        digests[item.rel] = digest
        settled = max(info.st_mtime_ns, info.st_ctime_ns) < taken - RACY_NS
        if settled and stat.S_ISREG(info.st_mode) and not digest.startswith(UNREAD):
            stamps.known[item.rel] = (now, digest)
    return digests, stamps
