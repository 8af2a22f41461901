"""Front-matter YAML with bounds, shared by ingest (corpus files) and the overlap drafts.

PyYAML's safe loader shares the node an alias points to, so a 400-byte "billion laughs"
document builds a small object that explodes only when something walks it (str(), a loop
over its items, json.dumps): the walk, not the parse, took seconds and hundreds of MB. So
the composed node graph is measured before any Python object is built: its expanded size
(every alias counted as the values it stands for, in linear time), its nesting depth (the
composer recurses, so deep nesting would also be a RecursionError) and recursive anchors.
Anything over the bounds is a `YamlTooComplex` naming the line; nothing is constructed.
"""

from __future__ import annotations

import re
import reprlib
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_FRONT_MATTER_BYTES = 65_536  # the site's largest front matter is ~2 KB
MAX_VALUES = 5_000  # scalars + collections after expanding aliases
MAX_DEPTH = 32  # nested lists/mappings
MAX_ALIASES = 100  # `*name` references in one document

_SHORT = reprlib.Repr()  # Python 3.11's Repr takes no arguments
_SHORT.maxlevel = 2
_SHORT.maxtuple = _SHORT.maxlist = _SHORT.maxdict = _SHORT.maxset = _SHORT.maxfrozenset = 4
_SHORT.maxdeque = _SHORT.maxarray = 4
_SHORT.maxstring, _SHORT.maxlong, _SHORT.maxother = 60, 40, 60


class YamlTooComplex(yaml.YAMLError):
    """The document is over a bound; `line` is 1-based within the YAML text (or None)."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader whose composer refuses deep nesting and many aliases while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def _line(self) -> int:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        return int(event.start_mark.line) + 1

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise YamlTooComplex(f"more than {MAX_ALIASES} YAML aliases (*name); write the "
                                     "values out", self._line())
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YamlTooComplex(f"YAML nested more than {MAX_DEPTH} levels deep", self._line())
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def expanded_size(root: Node) -> int:
    """Values the document stands for once aliases are expanded (memoised: linear in the
    node graph); raises YamlTooComplex on a recursive anchor or past MAX_VALUES."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()

    def size(node: Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in on_path:
            raise YamlTooComplex("a YAML anchor refers to itself (recursive alias)",
                                 node.start_mark.line + 1)
        total = 1
        if isinstance(node, SequenceNode | MappingNode):
            on_path.add(key)
            children: list[Node] = (list(node.value) if isinstance(node, SequenceNode)
                                    else [part for pair in node.value for part in pair])
            for child in children:
                total += size(child)
                if total > MAX_VALUES:
                    raise YamlTooComplex(
                        f"the YAML expands to more than {MAX_VALUES} values through anchors "
                        "and aliases (an alias bomb?); write the values out",
                        node.start_mark.line + 1)
            on_path.discard(key)
        elif not isinstance(node, ScalarNode):  # pragma: no cover - PyYAML has no other kind
            raise YamlTooComplex(f"unexpected YAML node {type(node).__name__}")
        sizes[key] = total
        return total

    return size(root)


def load_front_matter(text: str) -> Any:
    """The YAML value of a front-matter block, bounded; YAMLError (or YamlTooComplex) when
    it is invalid or over a bound. Only SafeLoader's plain types are ever built."""
    size = len(text.encode("utf-8", "replace"))
    if size > MAX_FRONT_MATTER_BYTES:
        raise YamlTooComplex(f"front matter is {size} bytes; the limit is "
                             f"{MAX_FRONT_MATTER_BYTES} (move long text into the body)")
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        expanded_size(node)
        return _without_surrogates(loader.construct_document(node))
    except RecursionError as exc:  # belt and braces: MAX_DEPTH should stop this first
        raise YamlTooComplex(f"YAML nested too deeply (more than {MAX_DEPTH} levels)") from exc
    finally:
        loader.dispose()


_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_surrogates(value: Any) -> Any:
    """YAML's escapes can spell surrogates ("\\ud800"), which no UTF-8 file can hold: a pair
    becomes the character it encodes, a lone one U+FFFD (as an undecodable byte does), so the
    page can still be stored."""
    if isinstance(value, str):
        if not _SURROGATE.search(value):
            return value
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value


def excerpt(value: Any, limit: int = 80) -> str:
    """A short, bounded repr for report lines and error messages: looks at no more than a
    few items of two levels of a nested value (an alias bomb is never walked) and cuts long
    text, saying how long it was."""
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + f"... ({len(value)} characters)"
    text = _SHORT.repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
