"""What the overlap finder answers: one set of dataclasses for the API (they become its OpenAPI
schemas), the CLI's `--json` and its tables, so every output says the same thing."""

from __future__ import annotations

from dataclasses import dataclass, field

from principles.contract import PageRecord, TermRecord, term_key


@dataclass
class PassageRef:
    """A passage: character offsets into the plain text of the draft or page, and the text."""

    index: int
    start: int
    end: int
    text: str


@dataclass
class PassageMatch:
    similarity: float
    source: PassageRef  # the draft's passage (draft mode) or a passage of the result page
    target: PassageRef  # a passage of the result page (draft mode) or of the other page


@dataclass
class SharedTerm:
    id: str
    kind: str
    slug: str
    label: str


@dataclass
class PageRef:
    id: str
    title: str
    url: str
    type: str


@dataclass
class DraftOverlap:
    """An existing page and how much of the draft it covers."""

    id: str
    title: str
    url: str
    type: str
    score: float
    band: str
    covered: float  # share of the draft's text whose best passage match is >= passage_match
    passage_similarity: float  # length-weighted mean best cosine of the draft's passages
    page_similarity: float
    jaccard: float | None  # MinHash estimate over 5-word shingles
    containment: float | None
    evidence: list[PassageMatch] = field(default_factory=list)
    shared_terms: list[SharedTerm] = field(default_factory=list)


@dataclass
class DraftSummary:
    title: str | None
    words: int
    passages: int
    terms: list[str]


@dataclass
class DraftReport:
    draft: DraftSummary
    thresholds: dict[str, float]
    results: list[DraftOverlap]


@dataclass
class PairOverlap:
    """Two pages that overlap: `id` is the page more covered by `other` (the merge candidate)."""

    id: str
    title: str
    url: str
    type: str
    score: float
    band: str
    other: PageRef
    covered: float  # share of this page's text covered by `other`
    other_covered: float  # share of `other`'s text covered by this page
    passage_similarity: float
    page_similarity: float
    jaccard: float | None
    containment: float | None
    cluster: int | None
    evidence: list[PassageMatch] = field(default_factory=list)
    shared_terms: list[SharedTerm] = field(default_factory=list)


@dataclass
class ClusterPage:
    id: str
    title: str
    url: str
    type: str
    score: float  # mean score of this page's pairs inside the cluster


@dataclass
class Cluster:
    id: int
    score: float
    pages: list[ClusterPage]


@dataclass
class PairsReport:
    min_score: float
    thresholds: dict[str, float]
    results: list[PairOverlap]
    clusters: list[Cluster]


def page_ref(page: PageRecord) -> PageRef:
    return PageRef(id=page["id"], title=page["title"], url=page["url"], type=page["type"])


def passage_ref(page: PageRecord, index: int) -> PassageRef:
    """A page's passage from pages.json; a body-less page's one passage is its description."""
    spans = page["passages"]
    start, end = spans[index] if 0 <= index < len(spans) else (0, 0)
    text = page["body"][start:end] if end else (page.get("description") or "")
    return PassageRef(index=index, start=start, end=end, text=text)


def shared_term(terms: dict[str, TermRecord], key: str) -> SharedTerm:
    kind, slug = key.split("/", 1)
    term = terms.get(key)
    return SharedTerm(id=key, kind=kind, slug=slug, label=term["label"] if term else slug)


def page_term_keys(page: PageRecord) -> set[str]:
    """The terms a page carries, plus the term it defines when it is a taxonomy page."""
    keys = {term_key(kind, slug) for kind, slugs in page["terms"].items() for slug in slugs}
    if page["taxonomy"]:
        keys.add("/".join(page["taxonomy"]))
    return keys
