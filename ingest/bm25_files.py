"""The files of a bm25s index, as `bm25s.BM25.save` writes them (score matrix, vocabulary,
parameters), written here so that a file equal to the previous build's is hard-linked to it
instead: after a small change the vocabulary, the parameters and often more stay the same.
tests/test_vectors_incremental.py compares the bytes with bm25s's own save.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import numpy.typing as npt
from bm25s.utils import json_functions

DATA, INDICES, INDPTR = "data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy"
VOCAB, PARAMS = "vocab.index.json", "params.index.json"


def put(target: Path, same: Path | None, write: Callable[[Path], object]) -> None:
    """`target` hard-linked to `same` (a previous build's file holding the bytes `write`
    would write; builds never write a file again), else written."""
    if same is not None:
        try:
            os.link(same, target)
            return
        except OSError:  # another file system, too many links, gone: written instead
            pass
    write(target)


def array_writer(array: npt.NDArray[Any]) -> Callable[[Path], None]:
    return lambda path: np.save(path, array, allow_pickle=False)


def vocab_writer(vocab: list[str]) -> Callable[[Path], None]:
    """The term ids bm25s saves: the sorted terms' places, then the empty term (the id of a
    query with no known word, which bm25s adds)."""
    def write(path: Path) -> None:
        ids = {t: i for i, t in enumerate(vocab)}
        ids[""] = len(ids)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(json_functions.dumps(ids, ensure_ascii=False))
    return write


def params_writer(k1: float, b: float, n_docs: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        model = bm25s.BM25(k1=k1, b=b)
        params = {"k1": model.k1, "b": model.b, "delta": model.delta, "method": model.method,
                  "idf_method": model.idf_method, "dtype": model.dtype,
                  "int_dtype": model.int_dtype, "num_docs": n_docs,
                  "version": bm25s.__version__, "backend": model.backend}
        with open(path, "w") as handle:
            json.dump(params, handle, indent=4)
    return write
