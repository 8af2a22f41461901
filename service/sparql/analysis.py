"""Static checks on a query before any engine sees it: read-only, no server-side fetches.

The engine's parser stays the judge of syntax (its message goes back to the client); this
module only finds what must never run and the parts the endpoint decides itself (query form,
FROM / FROM NAMED). It tokenises like SPARQL's lexer (strings, IRIs, comments, variables) and
is conservative where the two could disagree: Oxigraph's parser also accepts `SERVICESILENT<x>`
and `SERVICE:x`, and a `SERVICE` call makes it send HTTP requests (SSRF), so any bare word
containing SERVICE outside strings, IRIs, comments, variables and local names is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

TOKEN = re.compile(r"""
  (?P<ws>\s+)
| (?P<comment>\#[^\n\r]*)
| (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
| (?P<string>'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''|\"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"
            |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
| (?P<var>[?$]\w+)
| (?P<word>\w[\w\-]*)
| (?P<escape>\\.)
| (?P<other>.)
""", re.VERBOSE | re.DOTALL)

FORMS = ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK")
UPDATE_WORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE",
                          "ADD", "WITH", "USING"})
NAME_PARTS = ("word", "escape")


class Refused(ValueError):
    """The query asks for something this endpoint never does (update, SERVICE)."""


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    glued_before: bool  # no whitespace or comment between this token and the previous one


@dataclass
class QueryInfo:
    """What the endpoint needs to know before running a query."""

    form: str | None = None  # SELECT / CONSTRUCT / DESCRIBE / ASK, None if not recognisable
    from_default: list[str | None] | None = None  # FROM IRIs (None entries: unresolvable)
    from_named: list[str | None] | None = None
    prefixes: dict[str, str] = field(default_factory=dict)
    depth: int = 0  # deepest nesting of { ( [ outside strings, IRIs and comments


def tokens(query: str) -> list[Token]:
    out: list[Token] = []
    glued = False
    for match in TOKEN.finditer(query):
        kind = match.lastgroup or "other"
        if kind in ("ws", "comment"):
            glued = False
            continue
        out.append(Token(kind, match.group(), glued and bool(out)))
        glued = True
    return out


def _is_keyword(toks: list[Token], i: int, word: str) -> bool:
    """A bare word used as a keyword: not the prefix or local part of a prefixed name."""
    tok = toks[i]
    if tok.kind != "word" or tok.text.upper() != word:
        return False
    after_colon = tok.glued_before and toks[i - 1].text == ":"
    before_colon = i + 1 < len(toks) and toks[i + 1].glued_before and toks[i + 1].text == ":"
    return not (after_colon or before_colon)


def _name_at(toks: list[Token], i: int, info: QueryInfo, base: str | None) -> tuple[str | None, int]:
    """The IRI written at token i (an <IRI> or a prefixed name) and the index after it."""
    if i >= len(toks):
        return None, i
    if toks[i].kind == "iri":
        iri = toks[i].text[1:-1]
        return (urljoin(base, iri) if base else iri), i + 1
    text, j = "", i
    while j < len(toks) and (j == i or toks[j].glued_before) and (
            toks[j].kind in NAME_PARTS or toks[j].text in ":.%"):
        text += toks[j].text
        j += 1
    prefix, colon, local = text.partition(":")
    if not colon or prefix not in info.prefixes:
        return None, max(j, i + 1)
    return info.prefixes[prefix] + re.sub(r"\\(.)", r"\1", local), j


def analyse(query: str) -> QueryInfo:
    """Raise Refused for updates and SERVICE; return the form, prologue and dataset clauses."""
    toks = tokens(query)
    info = QueryInfo(depth=nesting_depth(toks))
    base: str | None = None
    i = 0
    while i < len(toks):
        tok = toks[i]
        upper = tok.text.upper()
        if tok.kind == "word" and "SERVICE" in upper and not (
                tok.glued_before and toks[i - 1].text == ":"):
            raise Refused("SERVICE is refused: this endpoint never fetches from other servers")
        if any(_is_keyword(toks, i, w) for w in UPDATE_WORDS if w == upper):
            raise Refused(f"{upper} is an update operation: this endpoint is read-only and "
                          "answers queries (SELECT, ASK, CONSTRUCT, DESCRIBE) only")
        if info.form is None and upper in FORMS and _is_keyword(toks, i, upper):
            info.form = upper
        if _is_keyword(toks, i, "PREFIX"):
            j, name = i + 1, ""
            while j < len(toks) and toks[j].kind != "iri" and j - i < 6:
                name += toks[j].text
                j += 1
            if j < len(toks):
                iri = toks[j].text[1:-1]
                info.prefixes[name.rstrip(":")] = urljoin(base, iri) if base else iri
            i = j + 1
            continue
        if _is_keyword(toks, i, "BASE") and i + 1 < len(toks) and toks[i + 1].kind == "iri":
            iri = toks[i + 1].text[1:-1]
            base = urljoin(base, iri) if base else iri
            i += 2
            continue
        if _is_keyword(toks, i, "FROM"):
            named = i + 1 < len(toks) and _is_keyword(toks, i + 1, "NAMED")
            graph, i = _name_at(toks, i + 2 if named else i + 1, info, base)
            if named:
                info.from_named = [*(info.from_named or []), graph]
            else:
                info.from_default = [*(info.from_default or []), graph]
            continue
        i += 1
    return info


def nesting_depth(toks: list[Token]) -> int:
    """How deep braces, parentheses and brackets nest: the engine's parser recurses on them,
    and a few thousand levels overflow its stack (the worker dies with SIGSEGV)."""
    depth = deepest = 0
    for tok in toks:
        if tok.kind == "other":
            if tok.text in "{([":
                depth += 1
                deepest = max(deepest, depth)
            elif tok.text in "})]":
                depth -= 1
    return deepest
