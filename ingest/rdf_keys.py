"""What each subject's RDF triples are made of, as one digest per subject: a subject whose
digest equals the previous build's has the same triples, so its N-Triples and Turtle are
carried over instead of being built again (ingest/rdf_parts.py).

A page's triples (ingest/rdf.py `add_page`) read the page and the labels of the terms it
references; a term's (`add_term`) read the term alone; the schemes read the taxonomy kinds.
`RDF_CODE` changes with the code that writes the triples, so a build made by other code
never lends its parts.
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

from ingest import rdf
from ingest.pages import Page
from ingest.rdf import scheme_source
from ingest.terms import Term
from ontology import vocab
from ontology.vocab import TAXONOMY_KINDS
from principles.contract import page_node, term_key, term_node


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _code_version() -> str:
    h = hashlib.sha256()
    here = Path(__file__)
    for source in (Path(rdf.__file__ or ""), Path(vocab.__file__ or ""), here,
                   here.with_name("rdf_parts.py")):
        h.update(source.read_bytes())
    for name in ("rdflib", "pyoxigraph"):
        h.update(metadata.version(name).encode())
    return h.hexdigest()[:32]


RDF_CODE = _code_version()


def page_key(page: Page, content_hash: str, terms: dict[str, Term]) -> str:
    """`content_hash` (Page.content_hash) covers the page's own fields and its resolved terms
    but not its id, source path, slug and taxonomy; `add_page` also reads those and the
    referenced terms' labels."""
    labels = [terms[term_key(kind, slug)].label for kind, slugs in page.terms.items() for slug in slugs]
    return _digest(content_hash, page.id, page.rel_path, page.slug or "\x01",
                   repr(page.taxonomy), *labels)


def term_digest(term: Term) -> str:
    return _digest(term.kind, term.slug, term.label, repr(sorted(term.alt_labels)),
                   repr(term.page_id), repr(term.broader), repr(term.related),
                   str(term.generated))


def keyed_sources(pages: list[Page], hashes: dict[str, str],
                  terms: dict[str, Term]) -> dict[str, str]:
    """Every source of the build's graph (ingest/rdf.py `subjects_of`) -> the digest of what
    its triples are made of."""
    keys = {scheme_source(kind): _digest("scheme", kind, label)
            for kind, (_, label) in TAXONOMY_KINDS.items()}
    for key, term in terms.items():
        keys[term_node(key)] = term_digest(term)
    for page in pages:
        keys[page_node(page.id)] = page_key(page, hashes[page.id], terms)
    return keys
