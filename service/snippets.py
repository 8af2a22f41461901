"""Search snippets: a window of a passage around its first query word, query words in <mark>.

A word is marked when its stem is one of the query's stems. Stemming every word of every
passage shown was a third of a search's time; instead a regular expression finds, in C, the
few words whose first two letters could give a query stem, and only those are stemmed.
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from functools import lru_cache

from principles.sparse import stem_word

SNIPPET_CHARS = 280

# Every character a case-insensitive Unicode pattern matches for these ASCII letters, beyond
# their two cases (re's special folds: dotted and dotless I, KELVIN SIGN, long s). They also
# hold every character whose lower case starts with the letter (dotted I, KELVIN SIGN).
CASE_FOLDS = {"i": "Ii\u0130\u0131", "k": "Kk\u212a", "s": "Ss\u017f"}

ANY = ""  # a prefix's second letter when any word character may follow the first


def _word_character(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c == "_")


def stem_prefixes(stem: str) -> tuple[tuple[str, str], ...]:
    """The first two letters a word must start with (in lower case) to have this stem.

    English (Porter2) stemming changes only a word's end, never its first two letters (the
    regions it rewrites start after them, and the other steps cut whole suffixes), with one
    exception: a letter and "ying" ("dying", "vying") stems to the letter and "ie". A second
    letter that is not an ASCII word character stands for any (the pattern stays simple)."""
    second = stem[1:2]
    prefix = (stem[0], second if _word_character(second) else ANY)
    return (prefix, (stem[0], "y")) if len(stem) == 3 and stem.endswith("ie") else (prefix,)


def _cases(c: str) -> str:
    return CASE_FOLDS.get(c) or "".join(sorted({c, c.upper()}))


@lru_cache(maxsize=1024)
def _starting_with(prefixes: frozenset[tuple[str, str]]) -> re.Pattern[str]:
    """WORD, only the words starting with one of these prefixes (either case). For ASCII
    letters their cases are spelled out rather than matched with IGNORECASE: the pattern then
    starts with a plain set of characters and sre skips to the next candidate in C (scanning
    took half the time); the look-behind after the first letter says it starts a word (as a
    leading \\b did), the one before the second which first letter it follows."""
    firsts = sorted({first for first, _ in prefixes})
    if not firsts:
        return re.compile(r"(?!)")
    if not all(_word_character(c) for c in firsts):
        letters = "".join(re.escape(c) for c in firsts)
        return re.compile(rf"(?iu)\b[{letters}]\w+\b")
    seconds: dict[str, set[str]] = {}
    for first, second in prefixes:
        seconds.setdefault(first, set()).add(second)
    if all(ANY in found for found in seconds.values()):
        second_letter = r"\w"
    else:
        second_letter = "(?:" + "|".join(
            rf"(?<=[{_cases(first)}])" + (r"\w" if ANY in found else
                                          "[" + "".join(_cases(c) for c in sorted(found)) + "]")
            for first, found in sorted(seconds.items())) + ")"
    return re.compile(rf"(?u)[{''.join(_cases(c) for c in firsts)}](?<!\w.){second_letter}\w*")


def snippet_pattern(query_stems: AbstractSet[str]) -> re.Pattern[str]:
    """The words that may have one of these stems (`_starting_with` their first two letters)."""
    return _starting_with(frozenset(itertools.chain.from_iterable(
        stem_prefixes(stem) for stem in query_stems if stem)))


def matching_words(text: str, query_stems: AbstractSet[str]) -> Iterator[tuple[int, int]]:
    """Start and end of each word of `text` whose stem is a query stem, in order, found as
    they are asked for: only the words that could match are stemmed (stems are cached), and
    a snippet stops reading the text where its window ends."""
    for word in snippet_pattern(query_stems).finditer(text):
        if stem_word(word.group()) in query_stems:
            yield word.span()


def matches(text: str, query_stems: AbstractSet[str]) -> list[tuple[int, int]]:
    """Every span `matching_words` finds."""
    return list(matching_words(text, query_stems))


def mark(text: str, query_stems: AbstractSet[str]) -> str:
    """HTML-escaped text around the first match, matches in <mark>."""
    found = matching_words(text, query_stems) if query_stems else iter(())
    first = next(found, None)
    start = 0
    if first is not None and first[0] > SNIPPET_CHARS // 2:
        start = text.rfind(" ", 0, first[0] - 60) + 1
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    out, cursor = [], start
    for s, e in itertools.chain([first] if first else [], found):
        if e > end:  # matches come in order and never overlap: none later fits either
            break
        out.append(html.escape(text[cursor:s]))
        out.append(f"<mark>{html.escape(text[s:e])}</mark>")
        cursor = e
    out.append(html.escape(text[cursor:end]))
    snippet = " ".join("".join(out).split())  # runs of white space folded, ends stripped
    return ("… " if start > 0 else "") + snippet + (" …" if end < len(text) else "")
