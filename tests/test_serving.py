"""Serving near the hardware limit (issue 14), inside one process: query vectors cached by
normalised query and encoded in batches across concurrent requests, related answers kept as
JSON bytes per build, memory-mapped build files, and snippets marked as before."""

from __future__ import annotations

import asyncio
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from litestar import Litestar
from litestar.serialization import encode_json
from litestar.testing import TestClient

from principles.npz import load_arrays
from principles.settings import Settings
from principles.sparse import stem_word, stems, words_with_offsets
from service.admission import ClientGone, InFlight, Lane, Overloaded
from service.answers import AnswerCache
from service.controllers.related import related_pages
from service.engines import query_encoder
from service.index import open_index
from service.query_vectors import QueryVectors
from service.snippets import matches
from tests.conftest import CORPUS


class FakeEncoder:
    """Case-sensitive stand-in that records its model calls; `gate` holds a call open."""

    model_name = "fake"
    dimension = 8

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.gate = threading.Event()
        self.gate.set()

    def _vector(self, text: str) -> Any:
        rng = np.random.default_rng(zlib.crc32(text.encode()))
        v = rng.standard_normal(self.dimension).astype(np.float32)
        return v / np.linalg.norm(v)

    def encode_query(self, text: str) -> Any:
        return self.encode([text])[0]

    def encode_queries(self, texts: list[str]) -> Any:
        return self.encode(texts)

    def encode(self, texts: list[str]) -> Any:
        self.gate.wait(10)
        self.calls.append(list(texts))
        return np.stack([self._vector(t) for t in texts])


def test_concurrent_misses_share_one_model_call() -> None:
    async def scenario() -> tuple[FakeEncoder, QueryVectors, list[Any]]:
        encoder = FakeEncoder()
        lane = Lane("search", size=100, retry_after=1)
        vectors = QueryVectors(encoder, lane, size=100, batch=32)
        encoder.calls.clear()  # the case probe
        encoder.gate.clear()  # the first model call is held: the others arrive meanwhile
        first = asyncio.ensure_future(vectors.vector("first query"))
        await asyncio.sleep(0.05)
        rest = [asyncio.ensure_future(vectors.vector(q)) for q in
                [f"query {i}" for i in range(10)] + ["query 3", "first query"]]
        await asyncio.sleep(0.05)
        encoder.gate.set()
        answers = await asyncio.gather(first, *rest)
        assert lane.admitted == 0  # every waiter gave its slot back
        lane.close()
        return encoder, vectors, answers

    encoder, vectors, answers = asyncio.run(scenario())
    # two model calls: the held one, then every query that arrived meanwhile, once each
    assert encoder.calls == [["first query"], [f"query {i}" for i in range(10)]]
    assert vectors.stats.calls == 2 and vectors.stats.largest == 10
    for query, vector in zip(["first query", *[f"query {i}" for i in range(10)], "query 3",
                              "first query"], answers, strict=True):
        assert np.allclose(vector, encoder._vector(query))
    assert len(vectors) == 11 and vectors.lowercase is False  # a case-sensitive model


def test_full_lane_refuses_and_a_waiter_that_leaves_drops_its_query() -> None:
    async def scenario() -> dict[str, Any]:
        encoder = FakeEncoder()
        lane = Lane("search", size=2, retry_after=3)
        vectors = QueryVectors(encoder, lane, size=100, batch=32)
        encoder.calls.clear()
        encoder.gate.clear()
        running = asyncio.ensure_future(vectors.vector("running"))
        await asyncio.sleep(0.05)
        left = asyncio.Event()

        async def receive() -> Any:
            await left.wait()
            return {"type": "http.disconnect"}

        queued = asyncio.ensure_future(vectors.vector("queued", receive))
        await asyncio.sleep(0.05)
        with pytest.raises(Overloaded) as refused:  # two admitted: the third is refused at once
            await vectors.vector("third")
        left.set()
        with pytest.raises(ClientGone):
            await queued
        encoder.gate.set()
        await running
        await asyncio.sleep(0.05)
        state = {"calls": encoder.calls, "dropped": vectors.stats.dropped,
                 "admitted": lane.admitted, "retry": refused.value.retry_after}
        lane.close()
        return state

    state = asyncio.run(scenario())
    assert state == {"calls": [["running"]], "dropped": 1, "admitted": 0, "retry": 3}


def test_a_lone_search_is_encoded_on_the_event_loop_and_others_on_the_lane() -> None:
    """The only request of the process with the lane idle: encoded where it is (no thread
    hand-off); with another request in flight, or a model call running, it takes the lane."""
    class ThreadRecorder(FakeEncoder):
        def __init__(self) -> None:
            super().__init__()
            self.threads: list[int] = []

        def encode(self, texts: list[str]) -> Any:
            self.threads.append(threading.get_ident())
            return super().encode(texts)

    async def scenario() -> dict[str, Any]:
        encoder = ThreadRecorder()
        lane = Lane("search", size=10, retry_after=1)
        in_flight = InFlight()
        vectors = QueryVectors(encoder, lane, size=100, batch=32, in_flight=in_flight)
        encoder.threads.clear()
        in_flight.count = 1
        alone = await vectors.vector("alone")
        in_flight.count = 2
        crowded = await vectors.vector("crowded")
        encoder.gate.clear()  # a model call runs on the lane: the next one waits for it
        running = asyncio.ensure_future(vectors.vector("running"))
        await asyncio.sleep(0.05)
        in_flight.count = 1
        behind = asyncio.ensure_future(vectors.vector("behind"))
        await asyncio.sleep(0.05)
        encoder.gate.set()
        await asyncio.gather(running, behind)
        state = {"threads": [t == threading.get_ident() for t in encoder.threads],
                 "inline": vectors.stats.inline, "calls": vectors.stats.calls,
                 "admitted": lane.admitted, "same": bool(np.allclose(alone, encoder._vector("alone")))
                 and bool(np.allclose(crowded, encoder._vector("crowded")))}
        lane.close()
        return state

    state = asyncio.run(scenario())
    assert state == {"threads": [True, False, False, False], "inline": 1, "calls": 4,
                     "admitted": 0, "same": True}


def test_cache_is_keyed_by_the_normalised_query_and_bounded(corpus_settings: Settings) -> None:
    encoder = query_encoder(corpus_settings, open_index(corpus_settings))
    lane = Lane("search", size=10, retry_after=1)
    vectors = QueryVectors(encoder, lane, size=2)
    try:
        assert vectors.lowercase  # all-MiniLM-L6-v2's tokenizer lowercases: probed, not assumed
        assert vectors.key("  Limit\tWork  in PROGRESS ") == "limit work in progress"

        async def ask(*queries: str) -> list[Any]:
            return [await vectors.vector(q) for q in queries]

        first, again = asyncio.run(ask("Limit  Work in Progress", "limit work in progress"))
        assert again is first and vectors.stats.hits == 1 and vectors.stats.misses == 1
        # the cached vector is the one the query itself gets from the model
        assert float(first @ encoder.encode_query("Limit Work in Progress")) > 0.9999
        asyncio.run(ask("flow", "batch size"))
        assert len(vectors) == 2 and vectors.cached("limit work in progress") is None  # LRU
        assert vectors.cached("FLOW") is not None
    finally:
        lane.close()


def test_answer_cache_keeps_the_latest_and_not_failures() -> None:
    cache = AnswerCache(2)
    assert cache.get("a", lambda: b"A") == b"A"
    assert cache.get("a", lambda: b"other") == b"A"
    cache.get("b", lambda: b"B")
    cache.get("c", lambda: b"C")  # "a" was used longest ago
    assert cache.get("a", lambda: b"A2") == b"A2" and len(cache) == 2

    def fails() -> bytes:
        raise KeyError("no page")

    with pytest.raises(KeyError):
        cache.get("d", fails)
    assert cache.get("d", lambda: b"D") == b"D"
    assert AnswerCache(0).get("x", lambda: b"X") == b"X" and len(AnswerCache(0)) == 0


def test_related_answers_are_kept_as_json_bytes_per_build(corpus_settings: Settings) -> None:
    from service.app import create_app

    app = create_app(corpus_settings)
    cache = app.dependencies["related_answers"].dependency().cache
    assert isinstance(cache, AnswerCache)
    params = {"page": "/principles/customer-focus/", "limit": "4"}
    with TestClient(app) as client:
        first = client.get("/v1/related", params=params)
        again = client.get("/v1/related", params=params)
        assert client.get("/v1/related", params={"page": "nope/nope"}).status_code == 404
        etag = first.headers["etag"]
        assert client.get("/v1/related", params=params,
                          headers={"If-None-Match": etag}).status_code == 304
    assert first.status_code == again.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert first.content == again.content
    view = app.dependencies["index"].dependency()
    assert first.content == encode_json(related_pages(view, params["page"], 4, None))
    assert cache.hits >= 2 and len(cache) == 1  # the 404 was not kept


def test_concurrent_searches_in_the_real_app_are_batched(corpus_settings: Settings) -> None:
    from service.app import create_app
    from service.search import Filters

    queries = ["why limit work in progress", "small batches", "customer feedback",
               "definition of done", "blameless retrospectives", "flow efficiency",
               "technical debt", "psychological safety"]

    async def scenario() -> tuple[list[list[str]], int, int, Any]:
        app: Litestar = create_app(corpus_settings)
        engine = app.dependencies["engine"].dependency()
        # httpx's ASGI transport runs the requests concurrently on this loop, as a server does
        transport = httpx.ASGITransport(app=app)
        async with app.lifespan(), httpx.AsyncClient(transport=transport,
                                                     base_url="http://testserver.local") as client:
            together = await asyncio.gather(*(client.get("/v1/search", params={"q": q})
                                              for q in queries))
            calls = engine.vectors.stats.calls
            for q in queries:  # again, in capitals: the same normalised queries
                assert (await client.get("/v1/search", params={"q": q.upper()})).status_code == 200
            hits = engine.vectors.stats.hits
        return [[r["id"] for r in a.json()["results"]] for a in together], calls, hits, engine

    together, calls, hits, engine = asyncio.run(scenario())
    assert calls < len(queries) and engine.vectors.stats.largest > 1  # one call served several
    assert hits == len(queries)  # all from the cache
    # batched vectors rank as the one-query encode does
    alone = [[h.page_id for h in engine.search(q, Filters(), "hybrid", 10)] for q in queries]
    assert [ids[:3] for ids in together] == [ids[:3] for ids in alone]
    engine.close()


def test_a_live_app_has_one_query_model_and_cache_per_process(corpus_settings: Settings) -> None:
    """The builds of a live app share the process's query vectors (one ONNX session, one
    cache), and a lone request is encoded on the event loop. (An empty cache is falsy: an
    `or` once gave each build a cache and a model of its own.)"""
    from service.live import live_app

    app = live_app(corpus_settings)
    engine = app.current.app.dependencies["engine"].dependency()
    second = app.factory(corpus_settings.index_dir / "current")
    try:
        assert engine.vectors.in_flight is app.in_flight
        assert second.dependencies["engine"].dependency().vectors is engine.vectors

        async def one_search() -> int:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
                response = await client.get("/v1/search", params={"q": "a lone query"})
            return response.status_code

        assert asyncio.run(one_search()) == 200 and engine.vectors.stats.inline == 1
    finally:
        engine.close()
        second.dependencies["engine"].dependency().close()


def test_a_lone_search_runs_its_bm25_beside_the_encode(corpus_settings: Settings) -> None:
    """A lone search encodes on the event loop and starts its BM25 on another thread as the
    forward pass begins; the answer is the one the same query gets from the cache (BM25 then
    runs on the loop, after the vector). When that thread could not start it (here: busy),
    the loop does it after the encode, with the same answer."""
    from service.live import live_app

    app = live_app(corpus_settings)
    engine = app.current.app.dependencies["engine"].dependency()
    threads: list[int] = []
    sparse_search = engine.sparse_search

    def recording(query: str, filters: Any) -> Any:
        threads.append(threading.get_ident())
        return sparse_search(query, filters)

    engine.sparse_search = recording
    session = engine.vectors.encoder.session

    class SlowForward:  # a forward pass long enough for the other thread to start, on any CI
        def run(self, *args: Any) -> Any:
            time.sleep(0.05)
            return session.run(*args)

    engine.vectors.encoder.session = SlowForward()
    queries = ["why limit work in progress", "blameless retrospectives", "Technical  DEBT"]
    busy = threading.Event()

    async def searches() -> tuple[list[bytes], int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
            answers = [(await client.get("/v1/search", params={"q": q})).content
                       for q in queries * 2]
            engine._beside.submit(busy.wait, 10)
            answers += [(await client.get("/v1/search", params={"q": q})).content
                        for q in ["small batches"] * 2]
            busy.set()
        return answers, threading.get_ident()

    try:
        answers, loop_thread = asyncio.run(searches())
        assert engine.vectors.stats.inline == len(queries) + 1
        assert [t != loop_thread for t in threads] == [True] * 3 + [False] * 3 + [False] * 2
        assert answers[:3] == answers[3:6] and answers[6] == answers[7]
        assert all(b'"results":[{' in a for a in answers)
    finally:
        busy.set()
        engine.close()


def test_npz_arrays_are_memory_mapped(tmp_path: Path) -> None:
    arrays = {"floats": np.arange(10, dtype=np.float32), "ids": np.array(["a", "bc"]),
              "empty": np.zeros((0, 2), np.int32), "fortran": np.arange(12).reshape(3, 4).T}
    np.savez(tmp_path / "plain.npz", **arrays)
    np.savez_compressed(tmp_path / "packed.npz", **arrays)
    plain, packed = load_arrays(tmp_path / "plain.npz"), load_arrays(tmp_path / "packed.npz")
    for name, array in arrays.items():
        for got in (plain[name], packed[name]):
            assert got.dtype == array.dtype and np.array_equal(got, array)
    # mapped from the file (read-only, memory not its own), but plain arrays: fast to index
    assert isinstance(plain["floats"].base, np.memmap) and type(plain["floats"]) is np.ndarray
    assert not plain["floats"].flags.writeable and not plain["floats"].flags.owndata
    assert packed["floats"].flags.writeable  # compressed: read the ordinary way, a copy


def test_snippet_case_folds_are_the_ones_re_applies() -> None:
    """The spelled-out cases of ASCII letters (service/search.py) are every character a
    case-insensitive Unicode pattern matches for the letter, checked over all of Unicode."""
    import re
    import string

    from service.snippets import CASE_FOLDS

    found: dict[str, set[str]] = {c: set() for c in string.ascii_lowercase + string.digits + "_"}
    anything = re.compile(r"(?iu)[a-z0-9_]")
    for point in range(0x110000):
        char = chr(point)
        if anything.fullmatch(char):
            for letter in found:
                if re.fullmatch(rf"(?iu){letter}", char):
                    found[letter].add(char)
    for letter, chars in found.items():
        assert chars == set(CASE_FOLDS.get(letter) or {letter, letter.upper()}), letter


def test_stems_keep_the_first_two_letters_snippets_look_for() -> None:
    """`stem_prefixes` (service/snippets.py) names a start of every word with that stem:
    checked over the corpus's words and every short word with the suffixes stemming cuts."""
    import itertools
    import re
    import string

    from service.snippets import ANY, stem_prefixes

    words = {w for p in CORPUS.rglob("*.md") for w in re.findall(r"(?u)\b\w\w+\b", p.read_text("utf-8"))}
    suffixes = ["", "s", "es", "ies", "ied", "ed", "edly", "eed", "eedly", "ing", "ingly", "ying",
                "yings", "y", "ly", "li", "e", "ness", "ation", "ator", "ogi", "bli"]
    letters = string.ascii_lowercase + string.digits + "_"
    for size in (1, 2):
        for start in itertools.product(letters, repeat=size):
            words.update("".join(start) + suffix for suffix in suffixes)
    for word in words:
        lower = word.lower()
        assert any(lower.startswith(first + second) for first, second in
                   stem_prefixes(stem_word(word))), word
    assert stem_prefixes("die") == (("d", "i"), ("d", "y")) and stem_prefixes("a") == (("a", ANY),)


def test_snippet_cases_hold_every_character_lowering_to_a_letter() -> None:
    """A word is stemmed in lower case: every character whose lower case starts with an
    ASCII word character is among that character's spelled-out cases."""
    from service.snippets import CASE_FOLDS

    for point in range(0x110000):
        char = chr(point)
        lower = char.lower()
        if not char.isascii() and lower[:1].isascii() and (lower[:1].isalnum() or lower[:1] == "_"):
            assert char in CASE_FOLDS.get(lower[0], ""), hex(point)


def _reference_matches(text: str, query_stems: set[str]) -> list[tuple[int, int]]:
    """The former marking: every word of the text stemmed in turn."""
    return [(s, e) for s, e, w in words_with_offsets(text) if stem_word(w) in query_stems]


@pytest.mark.parametrize("query", ["how do we limit work in progress", "Flow", "customer's feedback",
                                   "teams_and_ü naïve café", "batches batch batching", "x",
                                   "kelvin ideas some 42nd", "İdea ıt ſome", "tie lie vies",
                                   "a ab aİdea", "sky dying"])
def test_snippet_marks_the_same_words_as_before(query: str) -> None:
    texts = [p.read_text("utf-8") for p in sorted(CORPUS.rglob("*.md"))[:40]]
    texts += ["flow_flow flow-flow Flow,flow", "naïve café teams_and_ü ü", "",
              "\u212aelvin KELVIN \u017fome Some \u0130dea \u0131dea IDEAS 42nd 42ND x42nd",
              "Dying DYING vying lying Lies tied ties tie skies sky a aing ab abing AİDEA a\u0130dea"]
    query_stems = stems(query)
    for text in texts:
        assert matches(text, query_stems) == _reference_matches(text, query_stems)
