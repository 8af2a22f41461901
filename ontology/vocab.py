"""The vocabulary ingest writes and the service reads: namespaces, IRIs, taxonomy kinds.

Plain strings, free of rdflib objects, so the service can use the IRI rules without loading
rdflib; the graph builder (ingest/rdf.py) wraps them as rdflib terms.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from urllib.parse import quote

ONTOLOGY_VERSION = "1.0.0"

PG = "https://principles.graph/ontology#"
BASE = "https://principles.graph/"
SCHEMA = "https://schema.org/"
DCTERMS = "http://purl.org/dc/terms/"
SKOS = "http://www.w3.org/2004/02/skos/core#"

# Taxonomy kind (the content folder and Hugo taxonomy name) -> (singular page type, label).
TAXONOMY_KINDS: dict[str, tuple[str, str]] = {
    "concepts": ("concept", "Concepts"),
    "categories": ("category", "Categories"),
    "tags": ("tag", "Tags"),
}

# Page type -> schema.org class (all CreativeWork subtypes).
SCHEMA_CLASS_FOR_TYPE: dict[str, str] = {
    "concept": "CollectionPage",
    "category": "CollectionPage",
    "tag": "CollectionPage",
    "section": "CollectionPage",
    "blog": "BlogPosting",
    "article": "Article",
    "guide": "Article",
    "signal": "SocialMediaPosting",
    "video": "VideoObject",
    "course": "Course",
    "note": "CreativeWork",
}
DEFAULT_SCHEMA_CLASS = "WebPage"


def page_iri(page_id: str) -> str:
    return f"{BASE}page/{quote(page_id, safe='/-_.~')}"


def term_iri(kind: str, slug: str) -> str:
    return f"{BASE}term/{kind}/{quote(slug, safe='-_.~')}"


def scheme_iri(kind: str) -> str:
    return f"{BASE}scheme/{kind}"


def schema_class(page_type: str) -> str:
    return SCHEMA + SCHEMA_CLASS_FOR_TYPE.get(page_type, DEFAULT_SCHEMA_CLASS)


def ontology_file(name: str) -> Path:
    """Path of a Turtle file shipped in this package (`vocabulary.ttl`, `shapes.ttl`)."""
    return Path(str(resources.files("ontology").joinpath(name)))
