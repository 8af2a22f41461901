"""Media types the endpoint speaks and Accept negotiation (RFC 9110 q-values, most specific
range wins). The tables map a media type to a short format key that the engines and
`service.sparql.results` understand; the first entry of each table is the default."""

from __future__ import annotations

from dataclasses import dataclass

# format key -> canonical media type
RESULT_TYPES: dict[str, str] = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
GRAPH_TYPES: dict[str, str] = {
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
}
HTML = "text/html"
# Other names clients send for the same formats (SPARQLWrapper, older tools).
RESULT_ALIASES = {"application/json": "json", "application/xml": "xml", "text/xml": "xml"}
GRAPH_ALIASES = {"application/x-turtle": "turtle", "text/plain": "ntriples",
                 "application/json": "jsonld", "application/xml": "rdfxml", "text/xml": "rdfxml"}
# W3C format IRIs for the service description
FORMAT_IRIS = {
    "json": "SPARQL_Results_JSON", "xml": "SPARQL_Results_XML", "csv": "SPARQL_Results_CSV",
    "tsv": "SPARQL_Results_TSV", "turtle": "Turtle", "ntriples": "N-Triples",
    "jsonld": "JSON-LD", "rdfxml": "RDF_XML",
}


@dataclass(frozen=True)
class Range:
    type: str
    subtype: str
    q: float

    def specificity(self, media: str) -> int:
        """-1 if this range does not match `media`, else 0 (*/*), 1 (type/*) or 2 (exact)."""
        kind, _, sub = media.partition("/")
        if self.type == "*":
            return 0
        if self.type != kind:
            return -1
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == sub else -1


def parse_accept(header: str | None) -> list[Range]:
    if not header or not header.strip():
        return [Range("*", "*", 1.0)]
    ranges = []
    for part in header.split(","):
        media, *params = [p.strip() for p in part.split(";")]
        kind, slash, sub = media.lower().partition("/")
        if not slash or not kind or not sub:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        ranges.append(Range(kind, sub, q))
    return ranges


def quality(ranges: list[Range], media: str) -> float:
    best, q = -1, 0.0
    for r in ranges:
        spec = r.specificity(media)
        if spec > best:
            best, q = spec, r.q
    return q if best >= 0 else 0.0


def negotiate(accept: str | None, offers: dict[str, str],
              aliases: dict[str, str] | None = None) -> str | None:
    """The format key of the best offer for `accept`, None when nothing is acceptable.
    Ties go to the earlier offer; an alias only counts when named exactly."""
    ranges = parse_accept(accept)
    scored: dict[str, float] = {}
    for key, media in offers.items():
        scored[key] = quality(ranges, media)
    for alias, key in (aliases or {}).items():
        if key in offers:
            exact = [r.q for r in ranges if f"{r.type}/{r.subtype}" == alias]
            if exact:
                scored[key] = max(scored[key], max(exact))
    best = max(offers, key=lambda k: (scored[k], -list(offers).index(k)))
    return best if scored[best] > 0 else None
