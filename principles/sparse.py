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
from bm25s.stopwords import STOPWORDS_EN

SPARSE_DIR = "bm25"  # one document per passage (the same windows the dense vectors cover)
PAGES_DIR = "bm25-pages"  # one document per page: head (title ... headline) and body
WORD = re.compile(r"(?u)\b\w\w+\b")  # a word: two or more word characters


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer().stemWords,
                            return_ids=False, show_progress=False)
    assert isinstance(tokens, list)
    return tokens


def query_tokens(text: str) -> list[str]:
    """`tokenize([text])[0]` for one query: the same lower-cased words, stop words and stems,
    without bm25s's per-call set-up (a stop-word set, progress bars and a vocabulary rebuilt
    on every call cost more than the tokenising of a short query)."""
    stop = _stop_words()
    return [stem_word(word) for word in WORD.findall(text.lower()) if word not in stop]


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    return frozenset(STOPWORDS_EN)


# Function words a snippet never marks. bm25s's English list has 33 words and keeps "how",
# "do", "my", "why", "we"...; BM25's idf already makes those cheap in ranking, but a snippet
# that highlights every "how" and "my" hides the words that matched.
FUNCTION_WORDS = frozenset("""
a about above after again against all am an and any are aren't as at be because been before
being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
don't down during each even ever every few for from further get gets getting got had hadn't has
hasn't have haven't having he her here hers herself him himself his how i if in into is isn't it
it's its itself just let me more most much must my myself need no nor not now of off on once
only or other ought our ours ourselves out over own really same shall she should shouldn't so
some still such than that that's the their theirs them themselves then there these they this
those through to too under until up upon us very was wasn't we were weren't what when where
whether which while who whom whose why will with won't would wouldn't yet you your yours
yourself yourselves also instead whenever everyone anyone someone something anything nothing
thing things
""".split())  # noqa: SIM905 - a word list reads best as text
FUNCTION_WORDS |= frozenset(w.split("'")[0] for w in FUNCTION_WORDS if "'" in w)  # "don't" -> "don"


def stems(text: str) -> set[str]:
    """Stemmed meaningful query words (function words left out), to mark in snippets."""
    return {stem_word(w) for _, _, w in words_with_offsets(text)} - _function_stems()


@lru_cache(maxsize=1)
def _function_stems() -> frozenset[str]:
    return frozenset(stem_word(w) for w in FUNCTION_WORDS)


@lru_cache(maxsize=65536)
def stem_word(word: str) -> str:
    stemmed: str = _stemmer().stemWord(word.lower())
    return stemmed


def words_with_offsets(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0)) for m in WORD.finditer(text)]


class SparseIndex:
    """BM25 over documents, each carrying a payload (page id, passage number)."""

    def __init__(self, retriever: bm25s.BM25, payloads: list[dict[str, Any]]) -> None:
        self.retriever = retriever
        self.payloads = payloads

    @classmethod
    def load(cls, folder: Path, name: str = SPARSE_DIR, *, mmap: bool = False) -> SparseIndex:
        """`mmap`: the score matrix stays in the files (read-only), shared through the page
        cache by every process that opens the same build."""
        source = folder / name
        retriever = bm25s.BM25.load(str(source), show_progress=False, mmap=mmap)
        if mmap:  # plain arrays over the mapping: slicing an np.memmap costs ~0.1 ms a slice
            for key in ("data", "indices", "indptr"):
                retriever.scores[key] = np.asarray(retriever.scores[key])
        payloads = json.loads((source / "payloads.json").read_text("utf-8"))
        return cls(retriever, payloads)

    def search(self, query: str, limit: int,
               mask: npt.NDArray[np.float32] | None = None) -> list[tuple[float, dict[str, Any]]]:
        """Top `limit` documents by BM25; `mask` (1 keep, 0 drop) applies filters.

        Scores come from `get_scores` and the top-k is an argpartition: ~20x faster here than
        `retrieve()` for one query, which sets up batching machinery per call."""
        return self.search_tokens(tokenize([query])[0], limit, mask)

    def search_tokens(self, query_tokens: list[str], limit: int,
                      mask: npt.NDArray[np.float32] | None = None) -> list[tuple[float, dict[str, Any]]]:
        """`search` for a query tokenized already (one tokenization serves several indexes)."""
        documents, scores = self.top_documents(query_tokens, limit, mask)
        return [(score, self.payloads[document])
                for document, score in zip(documents.tolist(), scores.tolist(), strict=True)]

    def top_documents(self, query_tokens: list[str], limit: int,
                      mask: npt.NDArray[np.float32] | None = None,
                      ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
        """The top `limit` documents with a score above 0, best first, and their scores, as
        arrays (the search engine maps documents to pages without a payload per hit)."""
        tokens = [t for t in query_tokens if t in self.retriever.vocab_dict]
        if not tokens:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float32)
        scores = np.asarray(self.retriever.get_scores(tokens), dtype=np.float32)
        if mask is not None:
            scores = scores * mask
        k = min(limit, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return top, scores[top]
