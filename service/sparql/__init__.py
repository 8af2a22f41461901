"""The read-only SPARQL 1.1 endpoint (/sparql): why it is built the way it is.

    request -> protocol.py (GET / POST form / POST sparql-query, updates refused)
            -> analysis.py (no SERVICE, no updates: static checks before any engine)
            -> dataset.py  (protocol dataset > FROM > default; only our two graphs)
            -> formats.py  (Accept -> format key, 406 when nothing matches)
            -> engine: pool.py + worker.py (embedded pyoxigraph, default) or remote.py
            -> results.py  (row cap, serialisation) -> endpoint.py builds the response

Engine. pyoxigraph (Oxigraph's Rust SPARQL engine) holds the build's graph in memory; rdflib
stays the graph-building library. bench/sparql.py measures it 40-200x faster than rdflib on
the same queries and data. A running pyoxigraph query cannot be cancelled from Python, so
queries run in long-lived worker processes (each loads the store once, ~0.1 s for the site
corpus) that are killed on timeout: the work really stops and a fresh worker takes its place.
The process hop costs ~0.1-0.3 ms per query (bench/sparql.py, "IPC ms"). Callers wait in a
thread with its own limiter, never on the event loop, so /v1/related is not slowed.

Limits (Settings, PRINCIPLES_SPARQL_*): timeout 10 s, 10,000 rows or triples per answer
(truncation flagged by `X-SPARQL-Truncated: true`), 10,000 characters per query, 2 workers,
2 GiB address space per worker. Kept free of heavy imports: worker.py runs as its own process
and imports only pyoxigraph, results.py, dataset.py and analysis.py.
"""
