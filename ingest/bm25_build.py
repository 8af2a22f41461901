"""BM25 indexes (the bm25s files principles/sparse.py loads) built from term frequencies.

Beside each index a build keeps the frequency of every (term, document) entry and the pages
its documents belong to (`BM25_TF_FILE`, `BM25_PAGES_FILE`). The next ingest then tokenizes only the
documents of changed pages: the entries of unchanged pages come from the previous build and
every score is recomputed from the frequencies, which is cheap and necessary, since idf and
the average document length are corpus-wide. The vocabulary is sorted, so an incremental and
a full build of the same corpus write equal files. Scores are those bm25s computes (lucene
idf and term-frequency normalisation, k1 1.5, b 0.75).

payloads.json holds one document's payload per line, so unchanged documents' lines are
carried over as runs of the previous file's bytes (ingest/payload_lines.py); it is still one
JSON list for the reader. The entries are kept by term (ingest/bm25_entries.py), as the score
matrix stores them, so a re-ingest edits them in place of rebuilding them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import numpy.typing as npt

from ingest.bm25_entries import Entries, Longs, counted, kept, merged, width
from ingest.bm25_files import (
    DATA,
    INDICES,
    INDPTR,
    PARAMS,
    VOCAB,
    array_writer,
    params_writer,
    put,
    vocab_writer,
)
from ingest.payload_lines import PayloadLines, assemble
from principles.arrays import places_in, ranges
from principles.contract import BM25_PAGES_FILE, BM25_TF_FILE
from principles.sparse import tokenize

K1, B = 1.5, 0.75  # bm25s's defaults, which the index has always been built with
COUNTS_VERSION = f"1/bm25s-{bm25s.__version__}"  # tokenizer and layout the counts were made with
PAYLOADS_FILE = "payloads.json"  # principles/sparse.py reads it back

Ints = npt.NDArray[np.int32]
Doc = tuple[dict[str, Any], str]  # a document's payload and text


@dataclass(frozen=True)
class Previous:
    """What a build's index keeps for the next one."""

    entries: Entries
    page_ids: list[str]
    page_docs: Ints  # documents per page, in page order
    payloads: PayloadLines  # one JSON object per document
    folder: Path

    @classmethod
    def load(cls, folder: Path) -> Previous | None:
        """None when the folder holds no counts of this version (then everything is tokenized)."""
        try:
            pages = json.loads((folder / BM25_PAGES_FILE).read_text("utf-8"))
            if pages.get("version") != COUNTS_VERSION:
                return None
            # read, not mapped: every entry is used, and a page fault per 4 KB of a mapping
            # costs more on this machine class than one read of the file
            tf = np.load(folder / BM25_TF_FILE)
            indptr = np.load(folder / INDPTR)
            docs = np.load(folder / INDICES)
            vocab_ids: dict[str, int] = json.loads((folder / VOCAB).read_text("utf-8"))
            payloads = PayloadLines.read(folder / PAYLOADS_FILE)
        except (OSError, ValueError, KeyError, AttributeError):
            return None
        vocab = _vocab(vocab_ids)
        valid = (payloads is not None and len(vocab) == len(indptr) - 1 and len(docs) == len(tf)
                 and len(indptr) > 0 and int(indptr[-1]) == len(docs)
                 and docs.dtype == np.int32 and tf.dtype.kind in "iu")
        if not valid or payloads is None:
            return None
        entries = Entries(vocab, np.diff(indptr).astype(np.int64, copy=False), docs, tf,
                          len(payloads))
        return cls(entries, list(pages["page_ids"]), np.array(pages["page_docs"], np.int32),
                   payloads, folder)


def _vocab(ids: dict[str, int]) -> list[str]:
    """The terms by id (without bm25s's empty term). Saved in id order, so that order is
    taken as it is when it holds."""
    words = list(ids)
    if words and words[-1] == "" and list(ids.values()) == list(range(len(words))):
        return words[:-1]
    return sorted((t for t in ids if t), key=ids.__getitem__)


@dataclass(frozen=True)
class Built:
    entries: Entries
    page_ids: list[str]
    page_docs: Ints
    payloads: bytes  # payloads.json
    tokenized_docs: int
    previous: Previous | None = None  # the index it was built from

    def save(self, folder: Path) -> None:
        """The index's files; each equal to the previous build's is hard-linked to it."""
        folder.mkdir(parents=True, exist_ok=True)
        entries, old = self.entries, self.previous
        was = old.entries if old is not None else None

        def linked(name: str, equal: bool) -> Path | None:
            return old.folder / name if old is not None and equal else None

        same_docs = was is not None and np.array_equal(entries.docs, was.docs)
        same_df = was is not None and np.array_equal(entries.df, was.df)
        same_tf = was is not None and np.array_equal(entries.tf, was.tf)
        same_n = was is not None and entries.n_docs == was.n_docs
        put(folder / DATA, linked(DATA, same_docs and same_df and same_tf and same_n),
            lambda path: np.save(path, scores(entries), allow_pickle=False))
        put(folder / INDICES, linked(INDICES, same_docs),
            array_writer(entries.docs.astype(np.int32, copy=False)))
        put(folder / INDPTR, linked(INDPTR, same_df), array_writer(column_starts(entries.df)))
        put(folder / VOCAB, linked(VOCAB, was is not None and (entries.vocab is was.vocab
                                                            or entries.vocab == was.vocab)),
            vocab_writer(entries.vocab))
        put(folder / PARAMS, linked(PARAMS, same_n), params_writer(K1, B, entries.n_docs))
        put(folder / PAYLOADS_FILE, linked(PAYLOADS_FILE, old is not None
                                         and self.payloads == old.payloads.text),
            lambda path: path.write_bytes(self.payloads))
        tf = entries.tf  # in the smallest type that holds it (mostly 1 byte: a quarter to write)
        put(folder / BM25_TF_FILE, linked(BM25_TF_FILE, same_tf),
            array_writer(tf.astype(width(int(tf.max(initial=0))), copy=False)))
        put(folder / BM25_PAGES_FILE, linked(BM25_PAGES_FILE, old is not None
                                           and self.page_ids == old.page_ids
                                           and np.array_equal(self.page_docs, old.page_docs)),
            lambda path: path.write_text(json.dumps(
                {"version": COUNTS_VERSION, "page_ids": self.page_ids,
                 "page_docs": self.page_docs.tolist()}), "utf-8"))


def build(page_ids: Sequence[str], fresh: Mapping[str, list[Doc]],
          previous: Previous | None) -> Built:
    """The index over `page_ids`' documents, in page order: those of pages in `fresh` from
    their texts, every other page's from `previous`, which must hold them."""
    ids = list(page_ids)
    at = {page_id: i for i, page_id in enumerate(ids)}
    fresh_at = np.array(sorted(at[p] for p in fresh if p in at), dtype=np.int64)
    old_at = (places_in(ids, previous.page_ids) if previous is not None
              else np.full(len(ids), -1, dtype=np.int64))
    old_at[fresh_at] = -1
    carried = np.flatnonzero(old_at >= 0)
    if len(carried) + len(fresh_at) != len(ids):
        raise KeyError(f"no documents for page {ids[int(np.flatnonzero(old_at < 0)[0])]!r}")
    page_docs = np.zeros(len(ids), dtype=np.int32)
    page_docs[fresh_at] = [len(fresh[ids[i]]) for i in fresh_at.tolist()]
    if previous is not None:
        page_docs[carried] = previous.page_docs[old_at[carried]]
    starts = np.cumsum(page_docs, dtype=np.int64) - page_docs
    source = np.full(int(page_docs.sum()), -1, dtype=np.int64)  # each document's previous one
    if previous is not None and len(carried):
        old_starts = np.cumsum(previous.page_docs, dtype=np.int64) - previous.page_docs
        sizes = page_docs[carried]
        source[ranges(starts[carried], sizes)] = ranges(old_starts[old_at[carried]], sizes)
    n_docs = len(source)
    lines: dict[int, str] = {}
    texts: list[str] = []
    for i in fresh_at.tolist():
        for k, (payload, text) in enumerate(fresh[ids[i]]):
            lines[int(starts[i]) + k] = json.dumps(payload)
            texts.append(text)
    counts = [Counter(tokens) for tokens in tokenize(texts)] if texts else []
    old = None
    if previous is not None and len(carried):
        renumbered = np.full(previous.entries.n_docs, -1, dtype=np.int32)
        new_docs = np.flatnonzero(source >= 0)
        renumbered[source[new_docs]] = new_docs
        old = kept(previous.entries, renumbered, n_docs)
    vocab = _vocab_with(old.vocab if old else [], counts)
    entries = merged(old, counted(vocab, list(lines), counts, n_docs))
    payloads = assemble(previous.payloads if previous else None, source, lines)
    return Built(entries, ids, page_docs, payloads, len(texts), previous)


def _vocab_with(vocab: list[str], counts: list[Counter[str]]) -> list[str]:
    """The sorted vocabulary with the counted terms added."""
    known = set(vocab)
    added = {t for c in counts for t in c if t not in known}
    return sorted(vocab + list(added)) if added else vocab


def column_starts(df: Longs) -> Longs:
    """The score matrix's indptr: where each term's entries start, then their count."""
    indptr = np.zeros(len(df) + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    return indptr


def scores(entries: Entries) -> npt.NDArray[np.float32]:
    """The score of each entry, as bm25s computes it: idf rounded to float32, then the product
    in float64. The length normalisation is made once per document (the same operations on
    the same values as per entry) and the products in place: one pass over the entries each."""
    n_docs, df = entries.n_docs, entries.df
    tf = entries.tf.astype(np.float64)
    lengths = np.bincount(entries.docs, weights=tf, minlength=n_docs)  # float weights: 2x faster
    average = float(lengths.sum()) / n_docs if n_docs else 0.0
    idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
    if average:
        norm = np.take(K1 * ((1 - B) + B * lengths / average), entries.docs)
        norm += tf
    else:
        norm = tf.copy()
    product = np.divide(tf, norm, out=norm)
    np.multiply(np.repeat(idf, df), product, out=product)
    return product.astype(np.float32)
