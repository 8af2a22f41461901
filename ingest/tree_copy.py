"""Copy a folder keeping the holes of sparse files.

qdrant-edge preallocates its storage files (32 MB chunks, mostly holes): `shutil.copytree`
reads the holes as zeros and writes them out in full (~95 MB per collection), while only the
data extents (SEEK_DATA .. SEEK_HOLE) need copying. They are copied in the kernel
(`os.copy_file_range`), which also shares blocks where the filesystem can (reflink on btrfs
and XFS). The source is only ever read: a build a server is reading stays as it was.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from pathlib import Path, PurePath

_CHUNK = 1 << 24


def copy_tree(source: Path, target: Path,
              shared: Callable[[PurePath], bool] = lambda _: False) -> None:
    """`target` (which must not exist) becomes a copy of `source`: files, folders, modes.
    Files for which `shared(path relative to source)` holds are hard-linked instead: only for
    files nothing ever writes again, since both folders then see every change to them."""
    _copy_tree(source, target, PurePath(), shared)


def _copy_tree(source: Path, target: Path, relative: PurePath,
               shared: Callable[[PurePath], bool]) -> None:
    target.mkdir(parents=True)
    shutil.copymode(source, target)
    for entry in os.scandir(source):
        destination, inside = target / entry.name, relative / entry.name
        if entry.is_symlink():
            os.symlink(os.readlink(entry.path), destination)
        elif entry.is_dir():
            _copy_tree(Path(entry.path), destination, inside, shared)
        elif shared(inside) and _linked(Path(entry.path), destination):
            continue
        else:
            copy_file(Path(entry.path), destination)


def _linked(source: Path, target: Path) -> bool:
    try:
        os.link(source, target)
    except OSError:  # another filesystem, too many links, not permitted: copy instead
        return False
    return True


def copy_file(source: Path, target: Path) -> None:
    """A copy of `source` with the same size, data and holes."""
    with open(source, "rb") as src, open(target, "xb") as dst:
        size = os.fstat(src.fileno()).st_size
        for start, end in _extents(src.fileno(), size):
            _copy_range(src.fileno(), dst.fileno(), start, end)
        os.ftruncate(dst.fileno(), size)  # a trailing hole
    shutil.copymode(source, target)


def _extents(fd: int, size: int) -> list[tuple[int, int]]:
    """The data regions of a file; the whole file where holes cannot be asked for."""
    extents = []
    offset = 0
    try:
        while offset < size:
            try:
                start = os.lseek(fd, offset, os.SEEK_DATA)
            except OSError as exc:
                if exc.errno == errno.ENXIO:  # only a hole from here on
                    break
                raise
            end = os.lseek(fd, start, os.SEEK_HOLE)
            extents.append((start, end))
            offset = end
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
        return [(0, size)]
    return extents


def _copy_range(src: int, dst: int, start: int, end: int) -> None:
    offset = start
    while offset < end:
        try:
            copied = os.copy_file_range(src, dst, min(end - offset, _CHUNK), offset, offset)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
                raise
            copied = _copy_plain(src, dst, offset, min(end - offset, _CHUNK))
        if copied == 0:  # the file shrank under us: copy what there is
            return
        offset += copied


def _copy_plain(src: int, dst: int, offset: int, length: int) -> int:
    data = os.pread(src, length, offset)
    os.pwrite(dst, data, offset)
    return len(data)
