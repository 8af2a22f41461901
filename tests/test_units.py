"""Unit tests of the pure pieces outside ranking: the alias winner rule, term resolution,
MinHash shingles, the build contract, the error mapping and the import-graph checker."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest

from ingest.aliases import resolve_aliases
from ingest.pages import Page
from ingest.report import Report
from ingest.steps import page_record
from ingest.terms import resolve_terms
from principles.arrays import places, places_in
from principles.contract import Chunking, PageRecord, collection_names, store_graph, term_key
from principles.errors import (
    ContentTooLarge,
    IndexProblem,
    InvalidInput,
    NotFound,
    PrinciplesError,
    StoreUnavailable,
)
from principles.overlap import cliques
from principles.overlap.draft import DraftError, DraftTooLong
from principles.overlap.ranked_cliques import RankedCliques
from principles.overlap.shingles import jaccard, shingles, signature
from principles.settings import Settings
from principles_graph.cli import exit_code
from service.admission import Overloaded
from service.errors import QueryRefused, status_of
from tests.import_graph import cycles, upward_edges


def page(page_id: str, url: str, *, aliases: list[str] | None = None, draft: bool = False,
         date: str | None = None, tags: list[str] | None = None, title: str = "T") -> Page:
    return Page(id=page_id, rel_path=f"{page_id}.md", title=title, url=url, type="article",
                body="text", aliases=aliases or [], draft=draft, date=date,
                term_refs={"tags": tags or [], "categories": [], "concepts": []})


# --- aliases: canonical url, then published, then earliest date, then smallest id ----------

def test_alias_rule_canonical_url_beats_an_alias_claim() -> None:
    report = Report()
    table, conflicts = resolve_aliases(
        [page("b", "/old/", date="2020-01-01"), page("a", "/new/", aliases=["/old/"])], report)
    assert table["/old/"] == "b" and table["/new/"] == "a"
    assert [(c.alias, c.winner, c.claimants) for c in conflicts] == [("/old/", "b", ["b", "a"])]
    assert [f.path for f in report.findings if f.kind == "alias-conflict"] == ["a.md"]


@pytest.mark.parametrize(("pages", "winner"), [
    ([page("a", "/a/", aliases=["/x/"], draft=True), page("b", "/b/", aliases=["/x/"])], "b"),
    ([page("a", "/a/", aliases=["/x/"], date="2021-05-01"),
      page("b", "/b/", aliases=["/x/"], date="2019-05-01")], "b"),
    ([page("a", "/a/", aliases=["/x/"]), page("b", "/b/", aliases=["/x/"], date="2024-01-01")], "b"),
    ([page("b", "/b/", aliases=["/x/"]), page("a", "/a/", aliases=["/x/"])], "a"),
])
def test_alias_rule_order(pages: list[Page], winner: str) -> None:
    table, _ = resolve_aliases(pages, Report())
    assert table["/x/"] == winner


# --- terms -----------------------------------------------------------------------------------

def test_terms_resolve_to_the_taxonomy_page_by_loose_spelling() -> None:
    lean = page("tags/lean-and-kanban", "/tags/lean-and-kanban/", title="Lean & Kanban")
    lean.taxonomy = ("tags", "lean-and-kanban")
    user = page("articles/a", "/a/", tags=["Lean & Kanban", "lean-kanban", "Brand New"])
    report = Report()
    terms = resolve_terms([lean, user], report)
    assert user.terms["tags"] == ["lean-and-kanban", "brand-new"]  # one term, spelled twice
    assert terms["tags/lean-and-kanban"].page_id == "tags/lean-and-kanban"
    generated = terms["tags/brand-new"]
    assert generated.generated and generated.label == "Brand New"  # the spelling authors used
    assert [f.path for f in report.findings if "has no page" in f.problem] == ["articles/a.md"]


def test_a_term_without_letters_is_skipped_with_a_warning() -> None:
    user = page("articles/a", "/a/", tags=["!!!"])
    report = Report()
    assert resolve_terms([user], report) == {}
    assert user.terms["tags"] == []
    assert [f.kind for f in report.findings] == ["empty-term"]


# --- shingles --------------------------------------------------------------------------------

def test_shingles_are_lower_cased_word_five_grams() -> None:
    assert shingles("One two three four five six") == {b"one two three four five",
                                                       b"two three four five six"}
    assert shingles("Too short") == {b"too short"}
    assert shingles("...") == set()


def test_minhash_jaccard_estimates_shared_shingles() -> None:
    text = " ".join(f"word{i}" for i in range(400))
    half = " ".join(f"word{i}" for i in range(200)) + " " + " ".join(f"other{i}" for i in range(200))
    same = jaccard(signature(shingles(text)), signature(shingles(text)))
    partly = jaccard(signature(shingles(text)), signature(shingles(half)))
    unrelated = jaccard(signature(shingles(text)), signature(shingles("nothing alike " * 50)))
    assert same == 1.0 and 0.2 < partly < 0.45 and unrelated < 0.05


# --- the build contract ----------------------------------------------------------------------

def test_page_record_holds_every_page_field() -> None:
    """A field added to Page must reach pages.json (and the PageRecord type)."""
    stored = {f.name for f in dataclasses.fields(Page)} - {"passage_cache"} | {"passages", "hash"}
    assert set(PageRecord.__annotations__) == stored
    record = page_record(page("a", "/a/"), Settings(), "digest")
    assert set(record) == stored and record["hash"] == "digest"


def test_contract_names() -> None:
    assert term_key("tags", "flow") == "tags/flow"
    assert collection_names("B1", server=False) == {"pages": "pages", "passages": "passages"}
    assert collection_names("B1", server=True) == {"pages": "pg-B1-pages",
                                                   "passages": "pg-B1-passages"}
    assert store_graph("B1", "public") == "https://principles.graph/graph/knowledge/B1/public"
    assert store_graph("B1", "ontology") == "https://principles.graph/graph/ontology/B1"
    settings = Settings(passage_words=150, passage_overlap=30)
    assert Chunking.of({}, settings) == Chunking(150, 30)
    assert Chunking.of({"passage_words": 90, "passage_overlap": 10}, settings) == Chunking(90, 10)


# --- one error vocabulary ---------------------------------------------------------------------

@pytest.mark.parametrize(("error", "status", "code"), [
    (InvalidInput("x"), 400, 2), (DraftError("x"), 422, 2), (DraftTooLong("x"), 413, 2),
    (ContentTooLarge("x"), 413, 2), (NotFound("x"), 404, 2), (IndexProblem("x"), 503, 2),
    (StoreUnavailable("x"), 503, 3), (Overloaded("x", 1), 503, 3), (QueryRefused("x"), 403, 2),
    (PrinciplesError("x"), 500, 2),
])
def test_each_error_maps_once_to_a_status_and_an_exit_code(error: PrinciplesError, status: int,
                                                           code: int) -> None:
    assert status_of(error) == status and exit_code(error) == code
    assert exit_code(OSError("disk full")) == 2


# --- the import-graph checker can fail --------------------------------------------------------

def test_import_checks_flag_upward_edges_and_cycles() -> None:
    graph = nx.DiGraph([("principles.a", "service.b"), ("ingest.c", "ingest.d"),
                        ("ingest.d", "ingest.c"), ("service.e", "ingest.c")])
    assert upward_edges(graph) == [("principles.a", "service.b"), ("service.e", "ingest.c")]
    assert cycles(graph) == [["ingest.c", "ingest.d"]]


def test_import_graph_reads_relative_and_skips_type_checking_imports(tmp_path: Path,
                                                                     monkeypatch: Any) -> None:
    from tests import import_graph

    for name, text in {
        "principles/__init__.py": "",
        "principles/a.py": "from .b import x\nfrom typing import TYPE_CHECKING\n"
                           "if TYPE_CHECKING:\n    from service.c import y\n",
        "principles/b.py": "def f():\n    from service.c import y\n",
        "service/__init__.py": "", "service/c.py": "",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(import_graph, "ROOT", tmp_path)
    graph = import_graph.module_graph()
    assert set(graph.edges) == {("principles.a", "principles.b"), ("principles.b", "service.c")}


def _random_graph(rng: random.Random, nodes: int, density: float) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {str(i): set() for i in range(nodes)}
    for i in range(nodes):
        for j in range(i + 1, nodes):
            if rng.random() < density:
                graph[str(i)].add(str(j))
                graph[str(j)].add(str(i))
    return graph


def _edit(rng: random.Random, graph: dict[str, set[str]], nodes: int) -> dict[str, set[str]]:
    """A copy with a few pages removed, added or re-linked, as a re-ingest changes them."""
    after = {k: set(v) for k, v in graph.items()}
    for _ in range(rng.randint(0, 4)):
        page = str(rng.randrange(nodes + 3))
        if rng.random() < 0.2 and page in after:
            for other in after.pop(page):
                after[other].discard(page)
            continue
        after.setdefault(page, set())
        for other in [o for o in after if o != page and rng.random() < 0.3]:
            if other in after[page]:
                after[page].discard(other)
                after[other].discard(page)
            else:
                after[page].add(other)
                after[other].add(page)
    return after


def test_clique_update_equals_a_full_search_after_random_edits() -> None:
    rng, pick = random.Random(1), random.Random(2)
    for trial in range(200):
        nodes = rng.randint(5, 35)
        before = _random_graph(rng, nodes, rng.choice([0.1, 0.3, 0.5, 0.7]))
        after = _edit(rng, before, nodes)
        expected = cliques.find(after)
        assert cliques.update(before, after, cliques.find(before)) == expected, trial
        # told which nodes may have moved (the moved ones and some others), it need not look
        moved = {n for n in before.keys() | after.keys()
                 if before.get(n, set()) != after.get(n, set())}
        extra = {n for n in after if pick.random() < 0.2}
        assert cliques.update(None, after, cliques.find(before), moved | extra) == expected, trial
    assert any(len(c) >= 4 for c in expected)  # the graphs do have large cliques


def _scored_graph(rng: random.Random, nodes: int, density: float) -> dict[int, dict[int, float]]:
    scores: dict[int, dict[int, float]] = {i: {} for i in range(nodes)}
    for i in range(nodes):
        for j in range(i + 1, nodes):
            if rng.random() < density:
                scores[i][j] = scores[j][i] = round(rng.uniform(0.75, 1.0), 3)
    return {i: others for i, others in scores.items() if others}


def test_ranked_cliques_updated_equal_ranked_from_scratch() -> None:
    """Pages removed and added (rows renumbered), pairs added, dropped and scored again: the
    updated ranking, means and clusters are those of ranking the new graph from scratch."""
    rng = random.Random(3)
    for trial in range(150):
        n_old = rng.randint(6, 40)
        old_ids = [f"p{rng.randrange(10**6):06d}-{i}" for i in range(n_old)]
        old = _scored_graph(rng, n_old, rng.choice([0.2, 0.4, 0.6]))
        ranked = RankedCliques.of(cliques.find({a: set(b) for a, b in old.items()}), old,
                                  places(old_ids))
        gone = {o for o in range(n_old) if rng.random() < 0.1}
        ids = [p for o, p in enumerate(old_ids) if o not in gone]
        ids += [f"p{rng.randrange(10**6):06d}-new{k}" for k in range(rng.randint(0, 3))]
        rng.shuffle(ids)
        row = {p: i for i, p in enumerate(ids)}
        new_of_old = np.array([row.get(p, -1) for p in old_ids], dtype=np.int64)
        after: dict[int, dict[int, float]] = {}
        for a, others in old.items():
            for b, score in others.items():
                if a not in gone and b not in gone:
                    after.setdefault(int(new_of_old[a]), {})[int(new_of_old[b])] = score
        rescored: set[int] = set()
        for _ in range(rng.randint(0, 6)):  # a pair added, dropped or scored again
            a, b = rng.sample(range(len(ids)), 2)
            rescored |= {a, b}
            if b in after.get(a, {}) and rng.random() < 0.4:
                del after[a][b], after[b][a]
            else:
                score = round(rng.uniform(0.75, 1.0), 3)
                after.setdefault(a, {})[b] = score
                after.setdefault(b, {})[a] = score
        after = {a: others for a, others in after.items() if others}
        moved = rescored | {-1 - o for o in gone} | {i for i in range(len(ids))
                                                    if rng.random() < 0.05}
        node = np.where(new_of_old >= 0, new_of_old, -1 - np.arange(n_old))
        place = places(ids)
        got = ranked.updated(node, after, moved, rescored, place)
        expected = RankedCliques.of(cliques.find({a: set(b) for a, b in after.items()}), after,
                                    place)
        assert [r.tolist() for r in got.members] == [r.tolist() for r in expected.members], trial
        assert got.means.tolist() == expected.means.tolist(), trial
        assert got.clusters(after, ids) == expected.clusters(after, ids), trial


def test_point_number_is_the_uuid5_point_id_as_a_number() -> None:
    import uuid

    from principles.vectors import point_id, point_number

    for key in ["a", "resources/articles/005/page-5000#3", "tags/café#0", "", "x" * 500]:
        assert point_number(key) == uuid.UUID(point_id(key)).int, key


def test_distinct_and_union_are_numpys_unique_and_union1d() -> None:
    import numpy as np

    from principles.arrays import any_per_row, distinct, union, within

    rng = np.random.default_rng(7)
    for size in [0, 1, 2, 5, 1000]:
        a, b = rng.integers(-50, 50, size), rng.integers(0, 10**12, size)
        assert distinct(a).tolist() == np.unique(a).tolist()
        assert union(a, b).tolist() == np.union1d(a, b).tolist()
        assert within(a, distinct(b[: size // 2])).tolist() == np.isin(a, b[: size // 2]).tolist()
        assert within(b, distinct(b[: size // 2])).tolist() == np.isin(b, b[: size // 2]).tolist()
    flags = rng.random(50) < 0.2
    cuts = np.sort(rng.integers(0, 51, 12))
    bounds = np.concatenate([[0], cuts, [50, 50]])
    assert any_per_row(flags, bounds).tolist() == [
        bool(flags[s:e].any()) for s, e in zip(bounds[:-1], bounds[1:], strict=True)]
    assert any_per_row(flags[:0], [0, 0, 0]).tolist() == [False, False]


def _pair(a: str, b: str, score: float, words: int) -> dict[str, Any]:
    return {"a": a, "b": b, "score": score, "band": "related", "evidence": [[0, 0, score]],
            "shared": ["x" * words], "cluster": None}


def test_pair_records_stay_in_linked_segments_until_most_are_dead(tmp_path: Path) -> None:
    import numpy as np

    from principles.overlap.pair_table import PairTable, build_table

    ids = ["p0", "p1", "p2", "p3"]
    same = np.arange(4)
    first = build_table(ids, [_pair("p0", "p1", 0.9, 10), _pair("p1", "p2", 0.8, 10),
                              _pair("p2", "p3", 0.7, 10)], None, None, None)
    first.save(tmp_path / "one")
    one = PairTable.load(tmp_path / "one")
    assert one is not None and [r["b"] for r in one.all_records()] == ["p1", "p2", "p3"]
    # two of three kept: their segment is linked, the new record written to a new one
    two = build_table(ids, [_pair("p0", "p3", 0.85, 10)], one,
                      np.array([True, False, True]), same)
    two.save(tmp_path / "two")
    again = PairTable.load(tmp_path / "two")
    assert again is not None
    assert [(r["a"], r["b"]) for r in again.all_records()] == [
        ("p0", "p1"), ("p0", "p3"), ("p2", "p3")]
    names = sorted(p.name for p in (tmp_path / "two").glob("records-*.bin"))
    assert names == ["records-000000.bin", "records-000001.bin"]
    assert ((tmp_path / "two" / names[0]).stat().st_ino
            == (tmp_path / "one" / names[0]).stat().st_ino)
    # one record of three in a segment kept: it is written again, into one new segment
    three = build_table(ids, [], again, np.array([True, False, False]), same)
    three.save(tmp_path / "three")
    last = PairTable.load(tmp_path / "three")
    assert last is not None and [(r["a"], r["b"]) for r in last.all_records()] == [("p0", "p1")]
    assert sorted(p.name for p in (tmp_path / "three").glob("records-*.bin")) == [
        "records-000002.bin"]


def test_bucket_partners_are_the_bucket_pairs_of_those_rows() -> None:
    from principles.overlap.shingles import Signatures

    rng = random.Random(3)
    words = [f"w{i}" for i in range(40)]
    base = [" ".join(rng.choice(words) for _ in range(60)) for _ in range(6)]
    texts = [base[i % 6] + " " + " ".join(rng.choice(words) for _ in range(i % 7))
             for i in range(30)] + [""]
    signatures = Signatures.compute((f"p{i}", str(i), t) for i, t in enumerate(texts))
    every = signatures.bucket_pairs()
    assert every
    for rows in [[0], [3, 17], [30], list(range(31))]:
        assert signatures.bucket_partners(rows) == {p for p in every
                                                    if p[0] in rows or p[1] in rows}, rows


def test_patched_rows_and_taken_equal_row_by_row_lists() -> None:
    from principles.npz import PatchedRows, Ragged, ragged, taken

    rng = random.Random(4)
    for _ in range(100):
        rows = [np.array([rng.randrange(50) for _ in range(rng.randrange(4))], np.int64)
                for _ in range(rng.randrange(1, 12))]
        stored = ragged("x", rows, np.int64)
        base = Ragged(stored["x_values"], stored["x_offsets"])
        order = [rng.randrange(-1, len(rows)) for _ in range(rng.randrange(0, 15))]
        picked = taken(base, np.array(order, dtype=np.int64))
        assert [r.tolist() for r in picked] == [rows[o].tolist() if o >= 0 else [] for o in order]
        patched, expected = PatchedRows(picked), [r.tolist() for r in picked]
        for _ in range(rng.randrange(4)):
            if len(order):
                i = rng.randrange(len(order))
                row = np.array([rng.randrange(50) for _ in range(rng.randrange(5))], np.int64)
                patched[i], expected[i] = row, row.tolist()
        assert [r.tolist() for r in patched] == expected
        flat = patched.flat()
        assert [r.tolist() for r in flat] == expected
        assert flat.offsets.tolist() == np.concatenate([[0], np.cumsum([len(r) for r in expected])]).tolist()
    assert [r.tolist() for r in PatchedRows.empty(3, np.float32).flat()] == [[], [], []]


def test_places_in_is_each_index_in_the_other_list() -> None:
    rng = random.Random(6)
    for _ in range(100):
        among = rng.sample([f"p{k}" for k in range(30)], rng.randrange(0, 20))
        values = (list(among) if rng.random() < 0.3
                  else [f"p{rng.randrange(30)}" for _ in range(rng.randrange(0, 20))])
        expected = [among.index(v) if v in among else -1 for v in values]
        assert places_in(values, among).tolist() == expected
