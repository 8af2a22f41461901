"""BM25 indexes (the bm25s files principles/sparse.py loads) built from term frequencies.

Beside each index a build keeps the frequency of every (term, document) entry and the pages
its documents belong to (`BM25_TF_FILE`, `BM25_PAGES_FILE`). The next ingest then tokenizes only the
documents of changed pages: the entries of unchanged pages come from the previous build and
every score is recomputed from the frequencies, which is cheap and necessary, since idf and
the average document length are corpus-wide. The vocabulary is sorted, so an incremental and
a full build of the same corpus write equal files. Scores are those bm25s computes (lucene
idf and term-frequency normalisation, k1 1.5, b 0.75).

payloads.json holds one document's payload per line, so unchanged documents' lines are
carried over as text; it is still one JSON list for the reader.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import numpy.typing as npt

from principles.contract import BM25_PAGES_FILE, BM25_TF_FILE
from principles.sparse import tokenize

K1, B = 1.5, 0.75  # bm25s's defaults, which the index has always been built with
COUNTS_VERSION = f"1/bm25s-{bm25s.__version__}"  # tokenizer and layout the counts were made with
PAYLOADS_FILE = "payloads.json"  # principles/sparse.py reads it back

Ints = npt.NDArray[np.int32]
Doc = tuple[dict[str, Any], str]  # a document's payload and text


@dataclass(frozen=True)
class Entries:
    """An index before scoring: (term, document, frequency), sorted by term, then document."""

    vocab: list[str]  # sorted
    terms: Ints
    docs: Ints
    tf: Ints
    n_docs: int


@dataclass(frozen=True)
class Previous:
    """What a build's index keeps for the next one."""

    entries: Entries
    page_ids: list[str]
    page_docs: Ints  # documents per page, in page order
    payloads: list[str]  # one JSON object per document

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
            indptr = np.load(folder / "indptr.csc.index.npy")
            docs = np.load(folder / "indices.csc.index.npy")
            vocab_ids: dict[str, int] = json.loads((folder / "vocab.index.json").read_text("utf-8"))
            payloads = _payload_lines((folder / PAYLOADS_FILE).read_text("utf-8"))
        except (OSError, ValueError, KeyError, AttributeError):
            return None
        vocab = sorted((t for t in vocab_ids if t), key=vocab_ids.__getitem__)
        valid = (payloads is not None and len(vocab) == len(indptr) - 1
                 and len(docs) == len(tf) and docs.dtype == np.int32 and tf.dtype.kind in "iu")
        if not valid or payloads is None:
            return None
        terms = np.repeat(np.arange(len(vocab), dtype=np.int32), np.diff(indptr))
        entries = Entries(vocab, terms, docs, tf.astype(np.int32, copy=False), len(payloads))
        return cls(entries, list(pages["page_ids"]), np.array(pages["page_docs"], np.int32),
                   payloads)


@dataclass(frozen=True)
class Built:
    entries: Entries
    page_ids: list[str]
    page_docs: Ints
    payloads: list[str]
    tokenized_docs: int

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        data, indices, indptr = bm25_matrix(self.entries)
        retriever = bm25s.BM25(k1=K1, b=B)
        retriever.scores = {"data": data, "indices": indices, "indptr": indptr,
                            "num_docs": self.entries.n_docs}
        vocab = {t: i for i, t in enumerate(self.entries.vocab)}
        vocab[""] = len(vocab)  # as bm25s adds it: the id of a query with no known word
        retriever.vocab_dict = vocab
        retriever.nonoccurrence_array = None  # lucene scores need none
        retriever.save(str(folder), show_progress=False)
        (folder / PAYLOADS_FILE).write_text(_payloads_text(self.payloads), "utf-8")
        np.save(folder / BM25_TF_FILE, _narrow(self.entries.tf))
        (folder / BM25_PAGES_FILE).write_text(json.dumps(
            {"version": COUNTS_VERSION, "page_ids": self.page_ids,
             "page_docs": self.page_docs.tolist()}), "utf-8")


def build(page_ids: Sequence[str], fresh: Mapping[str, list[Doc]],
          previous: Previous | None) -> Built:
    """The index over `page_ids`' documents, in page order: those of pages in `fresh` from
    their texts, every other page's from `previous`, which must hold them."""
    position = {page_id: j for j, page_id in enumerate(previous.page_ids)} if previous else {}
    old_docs = previous.page_docs.tolist() if previous else []
    page_docs = np.array([len(fresh[p]) if p in fresh else old_docs[position[p]]
                          for p in page_ids], dtype=np.int32)
    starts = np.cumsum(page_docs) - page_docs
    n_docs = int(page_docs.sum())
    payloads: list[str] = [""] * n_docs
    fresh_docs: list[int] = []
    texts: list[str] = []
    for i, page_id in enumerate(page_ids):
        for k, (payload, text) in enumerate(fresh.get(page_id, ())):
            payloads[int(starts[i]) + k] = json.dumps(payload)
            fresh_docs.append(int(starts[i]) + k)
            texts.append(text)
    counted = [Counter(tokens) for tokens in tokenize(texts)] if texts else []
    new_at = [i for i, p in enumerate(page_ids) if p not in fresh]
    carried = np.column_stack([np.array(new_at, dtype=np.int64),
                               np.array([position[page_ids[i]] for i in new_at], dtype=np.int64)])
    kept = _kept(previous, carried, starts, n_docs, payloads) if previous else None
    entries = _merge(kept, fresh_docs, counted, n_docs)
    return Built(entries, list(page_ids), page_docs, payloads, len(texts))


def _kept(previous: Previous, carried: npt.NDArray[np.int64], starts: Ints, n_docs: int,
          payloads: list[str]) -> Entries | None:
    """The previous entries of the carried pages' documents (rows: new, old page position),
    renumbered to their new documents; their payload lines are copied into `payloads`."""
    if not len(carried):
        return None
    old_starts = np.cumsum(previous.page_docs) - previous.page_docs
    sizes = previous.page_docs[carried[:, 1]]
    within = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    target = np.repeat(starts[carried[:, 0]], sizes) + within
    source = np.repeat(old_starts[carried[:, 1]], sizes) + within
    lines = previous.payloads
    for old_doc, new_doc in zip(source.tolist(), target.tolist(), strict=True):
        payloads[new_doc] = lines[old_doc]
    renumbered = np.full(previous.entries.n_docs, -1, dtype=np.int32)
    renumbered[source] = target
    old = previous.entries
    docs = renumbered[old.docs]
    keep = docs >= 0
    terms = old.terms[keep]
    used = np.flatnonzero(np.bincount(terms, minlength=len(old.vocab)))
    vocab_ids = np.full(len(old.vocab), -1, dtype=np.int32)
    vocab_ids[used] = np.arange(len(used), dtype=np.int32)
    entries = Entries([old.vocab[t] for t in used.tolist()], vocab_ids[terms], docs[keep],
                      old.tf[keep], n_docs)
    if not bool(np.all(np.diff(source) > 0)):  # the carried pages came in another order
        entries = _sorted(entries)
    return entries


def _merge(kept: Entries | None, fresh_docs: list[int], counted: list[Counter[str]],
           n_docs: int) -> Entries:
    """Kept entries and the fresh documents' counts as one sorted set of entries."""
    kept_vocab = kept.vocab if kept else []
    known = set(kept_vocab)
    added = sorted({t for c in counted for t in c if t not in known})
    vocab = sorted(kept_vocab + added) if added else kept_vocab  # two sorted runs: linear
    sizes = [len(c) for c in counted]
    words = [t for c in counted for t in c]
    ids = {t: bisect_left(vocab, t) for t in set(words)}
    fresh = _sorted(Entries(
        vocab, np.fromiter((ids[t] for t in words), np.int32, len(words)),
        np.repeat(np.array(fresh_docs, dtype=np.int32), sizes),
        np.fromiter((f for c in counted for f in c.values()), np.int32, len(words)), n_docs))
    if kept is None:
        return fresh
    terms = kept.terms
    if added:  # a kept term moves up by the number of added terms sorted before it
        shift = np.searchsorted(np.array(added), np.array(kept_vocab)).astype(np.int32)
        terms = terms + shift[terms]
    at = np.searchsorted(_keys(terms, kept.docs), _keys(fresh.terms, fresh.docs))
    return Entries(vocab, np.insert(terms, at, fresh.terms), np.insert(kept.docs, at, fresh.docs),
                   np.insert(kept.tf, at, fresh.tf), n_docs)


def _keys(terms: Ints, docs: Ints) -> npt.NDArray[np.int64]:
    return (terms.astype(np.int64) << 32) | docs.astype(np.int64)


def _sorted(entries: Entries) -> Entries:
    order = np.argsort(_keys(entries.terms, entries.docs), kind="stable")
    return Entries(entries.vocab, entries.terms[order], entries.docs[order], entries.tf[order],
                   entries.n_docs)


def bm25_matrix(entries: Entries) -> tuple[npt.NDArray[np.float32], Ints, npt.NDArray[np.int64]]:
    """bm25s's score matrix (documents x terms, CSC: data, indices, indptr) of the entries,
    with its arithmetic: idf rounded to float32, then the product in float64."""
    n_docs, n_terms = entries.n_docs, len(entries.vocab)
    df = np.bincount(entries.terms, minlength=n_terms)
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    lengths = np.bincount(entries.docs, weights=entries.tf, minlength=n_docs)
    average = float(lengths.sum()) / n_docs if n_docs else 0.0
    idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
    tf = entries.tf.astype(np.float64)
    norm = K1 * ((1 - B) + B * lengths[entries.docs] / average) + tf if average else tf
    data = (idf[entries.terms].astype(np.float64) * (tf / norm)).astype(np.float32)
    return data, entries.docs.astype(np.int32), indptr


def _narrow(tf: Ints) -> npt.NDArray[np.unsignedinteger[Any]]:
    """Frequencies in the smallest type that holds them (mostly 1 byte: a quarter to write)."""
    top = int(tf.max(initial=0))
    dtype = np.uint8 if top < 1 << 8 else np.uint16 if top < 1 << 16 else np.uint32
    return tf.astype(dtype)


def _payloads_text(lines: list[str]) -> str:
    return "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n"


def _payload_lines(text: str) -> list[str] | None:
    """The documents' payload lines of a payloads.json `_payloads_text` wrote, else None."""
    if text.strip() == "[]":
        return []
    lines = text.split("\n")
    if len(lines) < 3 or lines[0] != "[" or lines[-2:] != ["]", ""]:
        return None
    return [line.removesuffix(",") for line in lines[1:-2]]
