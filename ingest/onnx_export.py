"""Export the embedding model's transformer to ONNX once per model, for serve's fast encoder.

Written into `<index>/models/` (shared by builds, named after the model), atomically: temporary
files renamed into place, the graph last, so a killed ingest never leaves half a model behind.
The weights go to a file of their own beside the graph (`<name>.onnx.data`, ONNX external
data): onnxruntime memory-maps it, so serve's worker processes share one copy of the weights
through the page cache instead of each reading them into its heap (~75 MB less per worker,
same speed; measured with bench/api.py's RSS figures).
"""

from __future__ import annotations

import copy
import os
import re
import warnings
from pathlib import Path
from typing import Any

from principles.embedder import Encoder

MODELS_DIR = "models"


def onnx_path(index_root: Path, model_name: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", model_name).strip("-") or "model"
    return index_root / MODELS_DIR / f"{slug}.onnx"


def export_onnx(encoder: Encoder, target: Path) -> Path:
    """Export if missing; return the file. Needs torch (ingest has it loaded anyway)."""
    if target.is_file():
        return target
    import torch

    # A copy: tracing for the export leaves the live model changed (measured: query vectors at
    # cosine 0.86 to the same model before the export), and ingest keeps using that model when
    # one process ingests twice (tests, benches, `--watch`).
    transformer: Any = copy.deepcopy(encoder.model[0].auto_model)
    transformer.eval()

    class LastHidden(torch.nn.Module):
        """Keyword call: BertModel's positional signature differs between transformers releases."""

        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = encoder.model.tokenizer(["a sample sentence"], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about constant shapes; parity is tested
        torch.onnx.export(LastHidden(transformer), tuple(sample[n] for n in names), str(partial),
                          input_names=names, output_names=["last_hidden_state"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)
    _weights_beside(partial, target)
    return target


def _weights_beside(single: Path, target: Path) -> None:
    """Rewrite the single-file model `single` as `target` plus `target.data` (the weights as
    external data, which onnxruntime memory-maps); the graph is renamed into place last."""
    import onnx

    staging = single.with_suffix(".dir")
    staging.mkdir(exist_ok=True)
    data = f"{target.name}.data"  # the graph names it relative to its own folder
    onnx.save_model(onnx.load(str(single)), str(staging / target.name), save_as_external_data=True,
                    all_tensors_to_one_file=True, location=data, size_threshold=1024)
    os.chmod(staging / data, 0o644)  # onnx writes it owner-only; serve may run as another user
    os.replace(staging / data, target.with_name(data))
    os.replace(staging / target.name, target)
    staging.rmdir()
    single.unlink()
