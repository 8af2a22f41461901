"""Embed pages and passages, re-using the previous build's vectors for unchanged text.

The cache is keyed by sha256(model, text), so a re-run encodes only what changed and a
model change re-encodes everything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ingest.pages import Page
from principles.embedder import Encoder, Vectors
from principles.passages import Passage, chunk
from principles.text import head_text

CACHE_FILE = "embeddings.npz"


def page_head(page: Page) -> str:
    """Everything the front matter says the page is about: title, description, abstract and
    headline. On the site corpus this lifted related-link agreement and search nDCG
    (bench/quality.py): taxonomy pages say most of what they are about there, not in a body."""
    return head_text(page.title, page.description, page.abstract, page.headline)


def page_text(page: Page) -> str:
    return f"{page_head(page)}\n{page.body}".strip()


def passage_text(page: Page, passage: Passage) -> str:
    return f"{page.title}. {passage.text}"


def page_passages(page: Page, words: int, overlap: int) -> list[Passage]:
    """A page with no body still gets one passage (its title and description)."""
    cached: list[Passage] | None = page.passage_cache.get((words, overlap))
    if cached is None:
        cached = chunk(page.body, words, overlap) or [Passage(0, 0, 0, page.description or "")]
        page.passage_cache[(words, overlap)] = cached
    return cached


def text_key(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\0{text}".encode("utf-8", "replace")).hexdigest()


class EmbeddingCache:
    def __init__(self, model: str) -> None:
        self.model = model
        self.vectors: dict[str, Vectors] = {}
        self.reused = 0
        self.encoded = 0

    def load(self, folder: Path | None) -> None:
        path = folder / CACHE_FILE if folder else None
        if path is None or not path.is_file():
            return
        try:
            with np.load(path) as data:
                keys, matrix = data["keys"], data["vectors"]
        except (OSError, ValueError, KeyError):
            return  # a damaged cache only costs a full re-encode
        self.vectors = {str(k): matrix[i] for i, k in enumerate(keys)}

    def embed(self, encoder: Encoder, texts: list[str],
              progress: Callable[[int], None] | None = None) -> Vectors:
        keys = [text_key(self.model, t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in self.vectors}.items())
        self.reused += len(texts) - len(missing)
        step = 64
        for start in range(0, len(missing), step):
            batch = missing[start:start + step]
            vectors = encoder.encode([t for _, t in batch])
            for (key, _), vector in zip(batch, vectors, strict=True):
                self.vectors[key] = vector
            self.encoded += len(batch)
            if progress:
                progress(len(batch))
        if not keys:  # nothing to embed: do not load the model just for its dimension
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self.vectors[k] for k in keys]).astype(np.float32)

    def save(self, folder: Path, keep: set[str]) -> None:
        kept = sorted(k for k in self.vectors if k in keep)
        matrix = np.stack([self.vectors[k] for k in kept]) if kept else np.zeros((0, 0), np.float32)
        np.savez(folder / CACHE_FILE, keys=np.array(kept), vectors=matrix)
