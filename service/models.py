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


@dataclass
class TermRef:
    kind: str
    slug: str
    label: str
    id: str


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
