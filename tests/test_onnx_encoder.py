"""serve's ONNX encoder gives the same vectors as sentence-transformers, and is what serve uses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from litestar import Litestar
from litestar.testing import TestClient

from ingest.onnx_export import export_onnx
from ingest.pipeline import IngestResult
from principles.embedder import Encoder
from principles.onnx_encoder import OnnxEncoder
from principles.settings import Settings
from service.engines import query_encoder
from service.index import open_index
from tests.conftest import CORPUS


def test_onnx_matches_torch(corpus_ingest: IngestResult, corpus_settings: Settings, encoder: Encoder) -> None:
    assert corpus_ingest.manifest is not None and corpus_ingest.manifest.query_encoder
    model_file = corpus_settings.index_dir / corpus_ingest.manifest.query_encoder
    # the weights beside the graph, memory-mapped by onnxruntime (shared by serve's workers)
    assert model_file.with_name(model_file.name + ".data").stat().st_size > 80_000_000
    assert model_file.stat().st_size < 1_000_000
    onnx = OnnxEncoder(model_file, "all-MiniLM-L6-v2")
    texts = ["wip limits", "Why should a team finish work before it starts new work?",
             (CORPUS / "tags" / "flow" / "_index.md").read_text("utf-8"),  # > 256 word-pieces
             "Ünïcödé, emoji 🎯 and punctuation!?"]
    ours, theirs = onnx.encode(texts), encoder.encode(texts)
    assert ours.shape == theirs.shape == (4, 384)
    assert float(np.min(np.sum(ours * theirs, axis=1))) > 0.9999
    assert np.allclose(onnx.encode_query(texts[0]), theirs[0], atol=1e-4)
    assert onnx.dimension == 384


def test_serve_uses_onnx_unless_told_otherwise(corpus_settings: Settings) -> None:
    view = open_index(corpus_settings)
    assert isinstance(query_encoder(corpus_settings, view), OnnxEncoder)
    torch_settings = corpus_settings.model_copy(update={"query_encoder": "torch"})
    assert isinstance(query_encoder(torch_settings, view), Encoder)


def test_search_same_answer_both_encoders(api: TestClient[Litestar], corpus_settings: Settings,
                                          encoder: Encoder) -> None:
    from service.app import create_app

    params = {"q": "how do we stop starting and start finishing", "mode": "dense"}
    onnx_ids = [r["id"] for r in api.get("/v1/search", params=params).json()["results"]]
    with TestClient(create_app(corpus_settings, encoder=encoder)) as torch_client:
        torch_ids = [r["id"] for r in torch_client.get("/v1/search", params=params).json()["results"]]
    assert onnx_ids[:5] == torch_ids[:5]


def test_export_leaves_the_live_model_unchanged(encoder: Encoder, tmp_path: Path) -> None:
    """Tracing used to change the torch model in place (query vectors at cosine 0.86 after an
    export), so a process that ingested twice embedded its second corpus with another model."""
    texts = ["why limit work in progress", "definition of done", "a" * 40]
    before = np.stack([encoder.encode_query(t) for t in texts])
    export_onnx(encoder, tmp_path / "model.onnx")
    after = np.stack([encoder.encode_query(t) for t in texts])
    assert (tmp_path / "model.onnx").is_file()
    assert float((before * after).sum(axis=1).min()) > 0.9999
