"""compose.yaml is checked by parsing (no container engine here)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from principles.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_compose_is_a_sound_draft() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text("utf-8"))
    services = compose["services"]
    assert {"qdrant", "oxigraph", "api", "ingest"} <= set(services)
    for name in ("qdrant", "oxigraph"):
        image = services[name]["image"]
        assert re.search(r":v?\d+\.\d+\.\d+$", image), f"{name} image must be pinned: {image}"
        assert services[name]["volumes"] and "healthcheck" in services[name]
    assert "healthcheck" in services["api"]
    assert services["ingest"]["restart"] == "no"
    fields = {f"PRINCIPLES_{name.upper()}" for name in Settings.model_fields}
    for service in services.values():
        for key in service.get("environment", {}):
            assert key in fields, f"{key} is not a Settings field"
    assert (ROOT / "Dockerfile").is_file()
