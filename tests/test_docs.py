"""The README documents every setting and every CLI command: a new one that is not written up
fails here (as datasette's docs tests do)."""

from __future__ import annotations

import re

from typer.main import get_command

from principles.settings import Settings
from principles_graph.cli import app
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text("utf-8")


def test_every_setting_is_in_the_readme_settings_table() -> None:
    table = README[README.index("## Settings"):README.index("\n## ", README.index("## Settings") + 5)]
    documented = set(re.findall(r"`(PRINCIPLES_[A-Z0-9_]+)`", table))
    # rows such as `PRINCIPLES_HNSW_M` / `PRINCIPLES_HNSW_EF` name several settings
    documented |= {f"PRINCIPLES_{m}" for m in re.findall(r"PRINCIPLES_([A-Z0-9_]+)", table)}
    expected = {f"PRINCIPLES_{name.upper()}" for name in Settings.model_fields}
    assert not expected - documented, sorted(expected - documented)
    assert not documented - expected, sorted(documented - expected)


def test_every_cli_command_is_in_the_readme() -> None:
    commands = get_command(app).commands  # type: ignore[attr-defined]
    for name in commands:
        assert f"principles {name}" in README, name
