"""BM25 over the same passages the dense vectors cover (bm25s: sparse matrices, ~1 ms a query).

Shared by ingest (build, save) and serve (load, search) so both tokenize the same way:
lower case, English stop words removed, Snowball-stemmed ("batches" meets "batch").
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import numpy.typing as npt
import Stemmer

SPARSE_DIR = "bm25"
_WORD = re.compile(r"(?u)\b\w\w+\b")


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer().stemWords,
                            return_ids=False, show_progress=False)
    assert isinstance(tokens, list)
    return tokens


def stems(text: str) -> set[str]:
    """Stemmed query terms, used to mark matches in snippets."""
    return set(tokenize([text])[0]) if text.strip() else set()


def stem_word(word: str) -> str:
    stemmed: str = _stemmer().stemWord(word.lower())
    return stemmed


def words_with_offsets(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text)]


class SparseIndex:
    """BM25 over documents, each carrying a payload (page id, passage number)."""

    def __init__(self, retriever: bm25s.BM25, payloads: list[dict[str, Any]]) -> None:
        self.retriever = retriever
        self.payloads = payloads

    @classmethod
    def build(cls, texts: list[str], payloads: list[dict[str, Any]]) -> SparseIndex:
        retriever = bm25s.BM25()
        retriever.index(tokenize(texts), show_progress=False)
        return cls(retriever, payloads)

    def save(self, folder: Path) -> None:
        target = folder / SPARSE_DIR
        self.retriever.save(str(target), show_progress=False)
        (target / "payloads.json").write_text(json.dumps(self.payloads), "utf-8")

    @classmethod
    def load(cls, folder: Path) -> SparseIndex:
        source = folder / SPARSE_DIR
        retriever = bm25s.BM25.load(str(source), show_progress=False)
        payloads = json.loads((source / "payloads.json").read_text("utf-8"))
        return cls(retriever, payloads)

    def search(self, query: str, limit: int,
               mask: npt.NDArray[np.float32] | None = None) -> list[tuple[float, dict[str, Any]]]:
        tokens = tokenize([query])
        vocab = self.retriever.vocab_dict
        if not any(t in vocab for t in tokens[0]):
            return []
        k = min(limit, len(self.payloads))
        docs, scores = self.retriever.retrieve(tokens, k=k, show_progress=False,
                                               weight_mask=mask, n_threads=1)
        return [(float(s), self.payloads[int(d)]) for d, s in zip(docs[0], scores[0], strict=True)
                if s > 0]
