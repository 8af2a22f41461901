"""Which files to check: the paths given, or everything changed since a git ref.

`--since REF` compares REF with the working tree, so staged and unstaged changes both count,
and adds untracked files (a new page not yet `git add`ed). Renames are detected by git (-M),
so a moved page is checked as a rename (its old url should become an alias), not as a new
page that duplicates itself.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ingest.corpus import NOT_PAGES
from principles.errors import InvalidInput
from principles.paths import PAGE_SUFFIXES


class ChangesError(InvalidInput):
    """The changed files cannot be listed (not a git repository, unknown ref)."""


@dataclass(frozen=True)
class Change:
    path: Path  # absolute path of the file (may not exist when deleted)
    rel: PurePosixPath  # relative to the corpus root
    status: str  # added | modified | renamed | deleted | given
    old_rel: PurePosixPath | None = None  # renamed: the path before


def is_page(rel: PurePosixPath) -> bool:
    return (rel.suffix.lower() in PAGE_SUFFIXES and rel.name.lower() not in NOT_PAGES
            and not any(part.startswith(".") for part in rel.parts))


def _inside(path: Path, corpus: Path) -> PurePosixPath | None:
    try:
        return PurePosixPath(path.resolve().relative_to(corpus.resolve()).as_posix())
    except ValueError:
        return None


def from_paths(paths: list[Path], corpus: Path) -> tuple[list[Change], list[str]]:
    """Files (or folders, walked) given on the command line; a missing file is a deletion."""
    changes: list[Change] = []
    ignored: list[str] = []
    for given in paths:
        files = sorted(p for p in given.rglob("*") if p.is_file()) if given.is_dir() else [given]
        for path in files:
            rel = _inside(path, corpus)
            if rel is None or not is_page(rel):
                ignored.append(str(path))
                continue
            status = "given" if path.exists() else "deleted"
            changes.append(Change(path.resolve(), rel, status))
    return changes, ignored


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              check=False)
    except OSError as exc:
        raise ChangesError(f"cannot run git: {exc.strerror}") from exc
    if done.returncode != 0:
        raise ChangesError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


_STATUS = {"A": "added", "M": "modified", "T": "modified", "D": "deleted", "R": "renamed",
           "C": "added"}


def since(ref: str, corpus: Path) -> tuple[list[Change], list[str]]:
    """Pages changed between `ref` and the working tree, plus untracked pages."""
    corpus = corpus.resolve()
    top = Path(_git(corpus, "rev-parse", "--show-toplevel").strip())
    fields = _git(top, "diff", "--name-status", "-M", "-z", ref, "--").split("\0")
    entries: list[tuple[str, str, str | None]] = []
    i = 0
    while i < len(fields) and fields[i]:
        code = fields[i][0]
        if code in ("R", "C"):
            entries.append((code, fields[i + 2], fields[i + 1]))
            i += 3
        else:
            entries.append((code, fields[i + 1], None))
            i += 2
    for name in _git(top, "ls-files", "--others", "--exclude-standard", "-z").split("\0"):
        if name:
            entries.append(("A", name, None))
    changes: list[Change] = []
    ignored: list[str] = []
    for code, name, old in entries:
        path = top / name
        rel = _inside(path, corpus)
        if rel is None or not is_page(rel):
            ignored.append(name)
            continue
        old_rel = _inside(top / old, corpus) if old else None
        status = _STATUS.get(code, "modified")
        if status == "renamed" and (old_rel is None or not is_page(old_rel)):
            status, old_rel = "added", None
        changes.append(Change(path, rel, status, old_rel))
    return changes, ignored
