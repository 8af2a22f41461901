"""Read one corpus file safely: bytes -> text -> (front matter, body), reporting what was wrong.

Every way a real file can be broken (binary, not UTF-8, BOM, CRLF, empty, unclosed or
invalid YAML, YAML that is not a mapping) ends here as a report line, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ingest.report import Action, Report, Severity
from ingest.safe_read import Refused, read_bounded
from principles.safe_yaml import YamlTooComplex, load_front_matter

_OPENING = re.compile(r"\A---[ \t]*\n")
_CLOSING = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:", re.MULTILINE)


@dataclass(frozen=True)
class SourceFile:
    """A decoded file. `meta` is None when the file has no front matter at all."""

    rel_path: str
    meta: dict[str, Any] | None
    body: str
    body_line: int  # 1-based line of the body's first line in the file
    field_lines: dict[str, int]

    def where(self, key: str) -> str:
        line = self.field_lines.get(key)
        return f"line {line} (field {key})" if line else f"field {key}"


def read_source(path: Path, rel_path: str, report: Report,
                max_bytes: int = 2_000_000) -> SourceFile | None:
    """Decode and split one file; None (with a report line) when nothing usable is in it."""
    raw = read_reported(path, rel_path, report, max_bytes)
    return None if raw is None else source_from_bytes(raw, rel_path, report)


def read_reported(path: Path, rel_path: str, report: Report, max_bytes: int) -> bytes | None:
    """The file's bytes; None (with a report line) when it is refused or unreadable."""
    try:
        return read_bounded(path, max_bytes)
    except Refused as exc:
        report.add(rel_path, "file", exc.message, Action.SKIPPED, Severity.ERROR, exc.kind)
    except OSError as exc:
        report.add(rel_path, "file", f"cannot be read ({exc.strerror})", Action.SKIPPED,
                   Severity.ERROR, "unreadable")
    return None


def source_from_bytes(raw: bytes, rel_path: str, report: Report) -> SourceFile | None:
    """Decode and split bytes already read: what `read_source` does after the read."""
    text = _decode(raw, rel_path, report)
    if text is None:
        return None
    if not text.strip():
        report.add(rel_path, "file", "file is empty; add a title and some text or delete it",
                   Action.SKIPPED, Severity.ERROR, "empty-file")
        return None
    if not _OPENING.match(text):
        return SourceFile(rel_path, None, text, 1, {})
    return _split_front_matter(text, rel_path, report)


def _decode(raw: bytes, rel_path: str, report: Report) -> str | None:
    if b"\x00" in raw[:8192]:
        report.add(rel_path, "file", "binary content (NUL bytes), not a text page",
                   Action.SKIPPED, Severity.ERROR, "binary-file")
        return None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
        report.add(rel_path, "line 1", "UTF-8 byte-order mark at the start of the file",
                   Action.REPAIRED, Severity.INFO, "bom")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        report.add(rel_path, f"line {line}",
                   "not valid UTF-8; decoded as Windows-1252 - save the file as UTF-8",
                   Action.REPAIRED, Severity.WARNING, "not-utf8")
        text = raw.decode("cp1252", errors="replace")
    if "\r" in text:
        report.add(rel_path, "file", "CRLF/CR line endings", Action.REPAIRED, Severity.INFO, "crlf")
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _split_front_matter(text: str, rel_path: str, report: Report) -> SourceFile | None:
    opening = _OPENING.match(text)
    assert opening is not None
    closing = _CLOSING.search(text, opening.end())
    if closing is None:
        report.add(rel_path, "line 1",
                   "front matter opened with '---' but never closed; add a closing '---' line",
                   Action.SKIPPED, Severity.ERROR, "unclosed-front-matter")
        return None
    fm_text = text[opening.end(): closing.start()]
    body = text[closing.end():].lstrip("\n")
    body_line = text[: len(text) - len(body)].count("\n") + 1
    try:
        meta = load_front_matter(fm_text) if fm_text.strip() else {}
    except YamlTooComplex as exc:
        where = f"line {exc.line + 1}" if exc.line is not None else "front matter"
        report.add(rel_path, where, f"front matter refused: {exc.problem}", Action.SKIPPED,
                   Severity.ERROR, "yaml-too-complex")
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 2}" if mark is not None else "front matter"
        problem = str(getattr(exc, "problem", None) or str(exc).splitlines()[0])[:200]
        report.add(rel_path, where, f"invalid YAML in front matter: {problem}; fix the YAML",
                   Action.SKIPPED, Severity.ERROR, "invalid-yaml")
        return None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        report.add(rel_path, "line 2",
                   f"front matter is a {type(meta).__name__}, not a mapping of fields",
                   Action.SKIPPED, Severity.ERROR, "front-matter-not-mapping")
        return None
    field_lines = {m.group(1): fm_text[: m.start()].count("\n") + 2 for m in _KEY.finditer(fm_text)}
    return SourceFile(rel_path, {str(k): v for k, v in meta.items()}, body, body_line, field_lines)
