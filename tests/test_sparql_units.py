"""The pure parts of /sparql: Accept negotiation, protocol parsing and the static query checks."""

from __future__ import annotations

import pytest

from principles.errors import InvalidInput
from service.errors import QueryRefused, QueryTooLong, UnsupportedMediaType
from service.sparql.analysis import Refused, analyse
from service.sparql.dataset import DEFAULT_DATASET, GRAPHS, KNOWLEDGE, ONTOLOGY, resolve_dataset
from service.sparql.formats import GRAPH_ALIASES, GRAPH_TYPES, RESULT_ALIASES, RESULT_TYPES, negotiate
from service.sparql.protocol import parse_request


def test_accept_q_values_and_aliases() -> None:
    assert negotiate(None, RESULT_TYPES) == "json" and negotiate("*/*", GRAPH_TYPES) == "turtle"
    assert negotiate("text/csv;q=0.5, application/sparql-results+xml", RESULT_TYPES) == "xml"
    assert negotiate("text/*;q=0.9, */*;q=0.1", RESULT_TYPES) == "csv"
    assert negotiate("application/json", RESULT_TYPES, RESULT_ALIASES) == "json"
    assert negotiate("application/json", GRAPH_TYPES, GRAPH_ALIASES) == "jsonld"
    assert negotiate("text/turtle", RESULT_TYPES, RESULT_ALIASES) is None
    assert negotiate("application/sparql-results+json;q=0", RESULT_TYPES) is None


def test_protocol_parsing() -> None:
    get = parse_request("GET", b"query=ASK%7B%7D&default-graph-uri=a&default-graph-uri=b", None, b"", 100)
    assert (get.query, get.default_graphs, get.named_graphs) == ("ASK{}", ["a", "b"], [])
    assert parse_request("GET", b"", None, b"", 100).query is None
    form = parse_request("POST", b"", "application/x-www-form-urlencoded; charset=UTF-8",
                         b"query=ASK+%7B%7D&named-graph-uri=n", 100)
    assert (form.query, form.named_graphs) == ("ASK {}", ["n"])
    direct = parse_request("POST", b"named-graph-uri=n", "application/sparql-query",
                           "ASK {'é'}".encode(), 100)
    assert (direct.query, direct.named_graphs) == ("ASK {'é'}", ["n"])
    with pytest.raises(InvalidInput):
        parse_request("GET", b"query=a&query=b", None, b"", 100)
    with pytest.raises(InvalidInput):
        parse_request("POST", b"query=a", "application/x-www-form-urlencoded", b"query=b", 100)
    with pytest.raises(UnsupportedMediaType):
        parse_request("POST", b"", "application/sparql-query; charset=UTF-16", b"", 100)
    with pytest.raises(UnsupportedMediaType):
        parse_request("POST", b"", None, b"ASK {}", 100)
    with pytest.raises(QueryRefused):
        parse_request("POST", b"", "application/sparql-update", b"CLEAR ALL", 100)
    with pytest.raises(QueryTooLong):
        parse_request("GET", b"query=" + b"x" * 101, None, b"", 100)


def test_analysis_reads_form_and_dataset() -> None:
    info = analyse("BASE <https://principles.graph/> PREFIX g: <graph/> "
                   "CONSTRUCT { ?s ?p ?o } FROM g:knowledge FROM NAMED <graph/ontology> WHERE {}")
    assert info.form == "CONSTRUCT"
    assert info.from_default == [KNOWLEDGE] and info.from_named == [ONTOLOGY]
    assert analyse("# SELECT\nPREFIX ask: <x:> DESCRIBE ask:me").form == "DESCRIBE"
    with pytest.raises(Refused):
        analyse("WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }")


def test_dataset_resolution() -> None:
    assert resolve_dataset([], [], analyse("ASK {}")) == DEFAULT_DATASET
    from_query = resolve_dataset([], [], analyse(f"ASK FROM <{ONTOLOGY}> {{}}"))
    assert (from_query.default, from_query.named) == ((ONTOLOGY,), ())
    protocol_wins = resolve_dataset([KNOWLEDGE], [], analyse(f"ASK FROM <{ONTOLOGY}> {{}}"))
    assert protocol_wins.default == (KNOWLEDGE,)
    assert resolve_dataset([], list(GRAPHS), analyse("ASK {}")).default == ()
    for bad in ("http://169.254.169.254/latest/meta-data", "file:///etc/passwd"):
        with pytest.raises(Refused):
            resolve_dataset([bad], [], analyse("ASK {}"))
        with pytest.raises(Refused):
            resolve_dataset([], [], analyse(f"ASK FROM NAMED <{bad}> {{}}"))
    with pytest.raises(Refused):
        resolve_dataset([], [], analyse("ASK FROM undeclared:graph {}"))
