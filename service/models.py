"""Typed response bodies (they become the OpenAPI schemas)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Health:
    status: str
    index_version: str
    pages: int
    served_pages: int
    model: str
    dimension: int
    created: str
    corpus: str  # the corpus folder's name (not its path), from the manifest


@dataclass
class TermRef:
    kind: str
    slug: str
    label: str
    id: str

    @classmethod
    def of(cls, key: str, label: str | None) -> TermRef:
        """The reference to term `key` (`kind/slug`); a term without a record (or label)
        is labelled by its slug."""
        kind, _, slug = key.partition("/")
        return cls(kind=kind, slug=slug, label=label or slug, id=key)


@dataclass
class PageDetail:
    id: str
    title: str
    url: str
    type: str
    description: str | None
    date: str | None
    resource_id: str | None
    draft: bool
    aliases: list[str] = field(default_factory=list)
    concepts: list[TermRef] = field(default_factory=list)
    categories: list[TermRef] = field(default_factory=list)
    tags: list[TermRef] = field(default_factory=list)
    word_count: int = 0


@dataclass
class SearchResult:
    id: str
    title: str
    url: str
    type: str
    score: float
    snippet: str
    ranks: dict[str, int] = field(default_factory=dict)


@dataclass
class SearchResponse:
    query: str
    mode: str
    results: list[SearchResult]


@dataclass
class PassageEvidence:
    index: int
    start: int
    end: int
    text: str


@dataclass
class PassagePair:
    similarity: float
    source: PassageEvidence
    target: PassageEvidence


@dataclass
class Reasons:
    shared_terms: list[TermRef]
    passages: PassagePair
    signals: dict[str, float]
    editor: str | None = None  # "pinned by the editor" / "fallback chosen by the editor"


@dataclass
class RelatedResult:
    id: str
    title: str
    url: str
    type: str
    score: float
    reasons: Reasons


@dataclass
class RelatedResponse:
    page: str
    results: list[RelatedResult]


@dataclass
class PageResult:
    id: str
    title: str
    url: str
    type: str
    score: float


@dataclass
class Resolution:
    path: str
    normalised: str
    matched: str
    page: PageResult


@dataclass
class AliasConflict:
    alias: str
    winner: PageResult
    claimants: list[PageResult]


@dataclass
class AliasConflicts:
    rule: str
    results: list[AliasConflict]
