"""The hostile-corpus fixture set: files a pull request to a content repository could add.

Written into a temporary folder by `write_hostile_corpus` (symlinks, a FIFO and a 50 MB
sparse file cannot live in git). `EXPECTED` is what ingest must report for each: the report
code and the severity, one line per file, never a crash or an unbounded read.
"""

from __future__ import annotations

import os
from pathlib import Path

SECRET = "TOP-SECRET-RUNNER-FILE root:x:0:0"
GOOD = "---\ntitle: {title}\n{extra}---\nA page about flow and queues and waiting work.\n"


def yaml_bomb(levels: int = 7, key: str = "tags") -> str:
    """The "billion laughs" front matter: each level lists the previous one nine times."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    lines.append(f"{key}: *a{levels - 1}")
    return "---\ntitle: Bomb\n" + "\n".join(lines) + "\n---\nbody\n"


def _write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


# rel path -> (report code, severity)
EXPECTED: dict[str, tuple[str, str]] = {
    "resources/articles/passwd.md": ("symlink", "error"),
    "outside-folder": ("symlink", "error"),
    "broken.md": ("symlink", "error"),
    "loop/again": ("symlink", "warning"),
    "fifo.md": ("not-a-file", "error"),
    "huge.md": ("too-large", "error"),
    "bomb.md": ("yaml-too-complex", "error"),
    "bomb-in-title.md": ("yaml-too-complex", "error"),
    "deep.md": ("yaml-too-complex", "error"),
    "recursive.md": ("yaml-too-complex", "error"),
    "hundred-k-aliases.md": ("yaml-too-complex", "error"),
    "many-aliases.md": ("too-many-aliases", "error"),
    "long-title.md": ("field-too-long", "warning"),
    "newline-alias.md": ("alias-invalid", "error"),
    "encoded-newline-alias.md": ("alias-invalid", "error"),
    "tab-url.md": ("url-invalid", "error"),
    "root-url.md": ("url-root", "error"),
    "root-alias.md": ("alias-root", "error"),
    "nested-values.md": ("wrong-type", "error"),
}


def write_hostile_corpus(root: Path, secret_file: Path) -> Path:
    """Every hostile file next to two ordinary pages; `secret_file` plays /etc/passwd."""
    secret_file.write_text(f"---\ntitle: Secret\n---\n{SECRET}\n", "utf-8")
    (secret_file.parent / "secret-folder").mkdir(exist_ok=True)
    (secret_file.parent / "secret-folder" / "leak.md").write_text(SECRET, "utf-8")
    _write(root, "_index.md", GOOD.format(title="Home", extra=""))
    _write(root, "tags/flow/_index.md", GOOD.format(title="Flow", extra="ClassificationType: tags\n"))
    good = _write(root, "resources/articles/good.md",
                  GOOD.format(title="Good Page", extra="tags: [Flow]\naliases: [/old/good/]\n"))
    (root / "resources/articles/passwd.md").symlink_to(secret_file)
    (root / "outside-folder").symlink_to(secret_file.parent / "secret-folder")
    (root / "broken.md").symlink_to(root / "does-not-exist.md")
    (root / "inside-link.md").symlink_to(good)  # inside the corpus: followed
    (root / "loop").mkdir()
    (root / "loop" / "again").symlink_to(root / "loop")
    os.mkfifo(root / "fifo.md")
    with open(root / "huge.md", "wb") as handle:  # 50 MB, sparse: costs no disk
        handle.write(b"---\ntitle: Huge\n---\n")
        handle.truncate(50_000_000)
    _write(root, "bomb.md", yaml_bomb())
    _write(root, "bomb-in-title.md", yaml_bomb(key="title"))
    _write(root, "deep.md", "---\ntitle: Deep\ntags: " + "[" * 5000 + "]" * 5000 + "\n---\nbody\n")
    _write(root, "recursive.md", "---\ntitle: Loop\ntags: &a [*a]\n---\nbody\n")
    _write(root, "hundred-k-aliases.md", "---\ntitle: Aliases\naliases:\n"
           + "".join(f"- /old/{i}/\n" for i in range(100_000)) + "---\nbody\n")
    _write(root, "many-aliases.md", "---\ntitle: Many Aliases\naliases:\n"
           + "".join(f"- /m/{i}/\n" for i in range(2_000)) + "---\nbody\n")
    _write(root, "long-title.md", f"---\ntitle: {'T' * 20_000}\n---\nbody text here\n")
    _write(root, "newline-alias.md", '---\ntitle: Newline\naliases: ["/old\\n/* /hijacked 302", '
           '"/with space/", "/fine/"]\n---\nbody\n')
    _write(root, "encoded-newline-alias.md",
           "---\ntitle: Encoded\naliases: [/x%0A/y/, /tab%09/]\n---\nbody\n")
    _write(root, "tab-url.md", '---\ntitle: Tab\nurl: "/new\\tpage/"\n---\nbody\n')
    _write(root, "root-url.md", "---\ntitle: Root Url\nurl: /\n---\nbody\n")
    _write(root, "root-alias.md", "---\ntitle: Root Alias\naliases: [/, /index.html]\n---\nbody\n")
    _write(root, "nested-values.md", "---\ntitle: Nested\ntags: [[[[a]]], {b: [c]}]\n"
           "draft: {x: [1, 2]}\nweight: [1]\n---\nbody\n")
    _write(root, "non-ascii.md",
           "---\ntitle: Café\nurl: /café-ü/\naliases: [/old/cafe/]\n---\nCafé body text.\n")
    return root
