"""Memory-mapped reading of `.npz` files (numpy's `np.load` cannot map the arrays inside one).

`np.savez` stores each array uncompressed inside the zip, so its bytes sit at a fixed offset
of the file and can be mapped like a `.npy` file: every process that opens the same build
shares one copy through the page cache, and nothing is read until it is used. Compressed or
object members are read the ordinary way.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np

from principles.arrays import ranges

_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, ..., file name length, extra length


def load_arrays(path: Path) -> dict[str, np.ndarray[Any, Any]]:
    """Every array of the `.npz` at `path` by name; stored members memory-mapped read-only."""
    arrays: dict[str, np.ndarray[Any, Any]] = {}
    with zipfile.ZipFile(path) as archive, path.open("rb") as raw:
        for info in archive.infolist():
            name = info.filename.removesuffix(".npy")
            mapped = _mapped(path, raw, info) if info.compress_type == zipfile.ZIP_STORED else None
            if mapped is None:
                with archive.open(info) as member:
                    mapped = np.lib.format.read_array(member, allow_pickle=False)
            arrays[name] = mapped
    return arrays


def _mapped(path: Path, raw: Any, info: zipfile.ZipInfo) -> np.ndarray[Any, Any] | None:
    raw.seek(info.header_offset)
    signature, name_length, extra_length = _LOCAL_HEADER.unpack(raw.read(_LOCAL_HEADER.size))
    if signature != b"PK\x03\x04":
        return None
    raw.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
    version = np.lib.format.read_magic(raw)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(raw)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(raw)
    else:
        return None
    if dtype.hasobject:
        return None
    if int(np.prod(shape)) == 0:
        return np.empty(shape, dtype=dtype)
    mapped = np.memmap(path, dtype=dtype, mode="r", offset=raw.tell(), shape=shape,
                       order="F" if fortran else "C")
    # A plain (read-only) array over the mapping: indexing an np.memmap costs ~0.1 ms a call.
    return np.asarray(mapped)


def ragged(name: str, rows: list[Any], dtype: Any = np.int32) -> dict[str, np.ndarray[Any, Any]]:
    """Rows of different lengths as two arrays for `np.savez`: `<name>_offsets` (n + 1) and
    `<name>_values` (all rows, concatenated)."""
    sizes = [len(row) for row in rows]
    values = np.concatenate(rows).astype(dtype) if rows else np.zeros(0, dtype)
    return {f"{name}_offsets": np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
            f"{name}_values": values}


class _Rows(Sequence[np.ndarray[Any, Any]]):
    """Rows by index: a slice gives a list of them, an index one (`_row`)."""

    @overload
    def __getitem__(self, i: int) -> np.ndarray[Any, Any]: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[np.ndarray[Any, Any]]: ...

    def __getitem__(self, i: int | slice) -> np.ndarray[Any, Any] | Sequence[np.ndarray[Any, Any]]:
        if isinstance(i, slice):
            return [self._row(n) for n in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._row(i)

    def _row(self, i: int) -> np.ndarray[Any, Any]:
        raise NotImplementedError


class Ragged(_Rows):
    """Rows stored flat, as `ragged` writes them: row i is a view of `values` made when it is
    read. Loading a 10k-page state splits nothing up front, and a pass over every row (a
    re-ingest remapping page indices) works on `values` at once."""

    def __init__(self, values: np.ndarray[Any, Any], offsets: np.ndarray[Any, Any]) -> None:
        self.values, self.offsets = values, offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def _row(self, i: int) -> np.ndarray[Any, Any]:
        return self.values[self.offsets[i]:self.offsets[i + 1]]

    def rows(self, indices: Sequence[int]) -> list[np.ndarray[Any, Any]]:
        """Rows `indices`, one view each (a pass over thousands of rows, without a method
        call per row)."""
        at = np.asarray(indices, dtype=np.int64)
        values = self.values
        return [values[start:end] for start, end in zip(
            self.offsets[at].tolist(), self.offsets[at + 1].tolist(), strict=True)]


def ragged_rows(data: Any, name: str) -> Ragged:
    """The rows `ragged` stored, as `Ragged`; integer rows (page indices, stored as int32)
    come back as int64."""
    values = data[f"{name}_values"]
    return Ragged(values.astype(np.int64) if values.dtype.kind == "i" else values,
                  data[f"{name}_offsets"])


def taken(rows: Ragged, order: np.ndarray[Any, Any]) -> Ragged:
    """Row `order[i]` of `rows` as row i (an empty row where it is -1), in one gather."""
    at = np.asarray(order, dtype=np.int64)
    present = at >= 0
    starts = np.where(present, rows.offsets[np.maximum(at, 0)], 0)
    sizes = np.where(present, rows.offsets[np.maximum(at, 0) + 1] - starts, 0)
    return Ragged(rows.values[ranges(starts, sizes)],
                  np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64))


class PatchedRows(_Rows):
    """Rows stored flat with some of them replaced: a re-ingest carries ~10k rows over and
    replaces a few dozen. Reading a row gives its replacement if any; `flat` gives them all as
    one `Ragged` in one gather, without a pass over the rows carried over."""

    def __init__(self, base: Ragged) -> None:
        self.base = base
        self.replaced: dict[int, np.ndarray[Any, Any]] = {}

    @classmethod
    def empty(cls, n: int, dtype: Any) -> PatchedRows:
        return cls(Ragged(np.zeros(0, dtype), np.zeros(n + 1, np.int64)))

    def __len__(self) -> int:
        return len(self.base)

    def _row(self, i: int) -> np.ndarray[Any, Any]:
        found = self.replaced.get(i)
        return found if found is not None else self.base[i]

    def __setitem__(self, i: int, row: np.ndarray[Any, Any]) -> None:
        self.replaced[i] = row

    def flat(self) -> Ragged:
        """Every row, replacements included, as one `Ragged`."""
        if not self.replaced:
            return self.base
        base = self.base
        sizes = np.diff(base.offsets)
        starts = base.offsets[:-1].copy()
        swapped = np.fromiter(self.replaced, np.int64, len(self.replaced))
        rows = [self.replaced[i] for i in swapped.tolist()]
        new_sizes = np.array([len(r) for r in rows], dtype=np.int64)
        sizes[swapped] = new_sizes
        starts[swapped] = len(base.values) + np.concatenate([[0], np.cumsum(new_sizes)[:-1]])
        values = np.concatenate([base.values, *(np.asarray(r, base.values.dtype) for r in rows)])
        return Ragged(values[ranges(starts, sizes)],
                      np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64))
