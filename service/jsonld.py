"""schema.org JSON-LD for a page, with `about` and `keywords` (which the site's pages lack)."""

from __future__ import annotations

from typing import Any

from ontology.vocab import DEFAULT_SCHEMA_CLASS, SCHEMA_CLASS_FOR_TYPE, page_iri, term_iri
from principles.contract import PageRecord
from service.index import IndexView

JSONLD = "application/ld+json"


def wants_jsonld(accept: str | None) -> bool:
    """True when the client prefers JSON-LD over plain JSON (a simple q-less preference)."""
    if not accept:
        return False
    types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return JSONLD in types and (types.index(JSONLD) < types.index("application/json")
                                if "application/json" in types else True)


def page_jsonld(index: IndexView, page: PageRecord, base_url: str) -> dict[str, Any]:
    about = []
    keywords = []
    for kind, slugs in page["terms"].items():
        for slug in slugs:
            term = index.terms.get(f"{kind}/{slug}")
            label = term["label"] if term else slug
            keywords.append(label)
            about.append({"@type": "DefinedTerm", "@id": term_iri(kind, slug), "name": label,
                          "termCode": slug, "inDefinedTermSet": f"{kind}"})
    doc: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": SCHEMA_CLASS_FOR_TYPE.get(page["type"], DEFAULT_SCHEMA_CLASS),
        "@id": page_iri(page["id"]),
        "name": page["title"],
        "headline": page["title"],
        "url": base_url.rstrip("/") + page["url"],
        "about": about,
        "keywords": ", ".join(keywords),
    }
    optional = {"description": page["description"], "abstract": page["abstract"],
                "identifier": page["resource_id"], "datePublished": page["date"],
                "dateModified": page["modified"]}
    doc.update({k: v for k, v in optional.items() if v})
    if page["authors"]:
        doc["author"] = [{"@type": "Person", "name": a} for a in page["authors"]]
    return doc
