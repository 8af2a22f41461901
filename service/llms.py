"""/llms.txt and /llms-full.txt (the llmstxt.org format) generated from the graph.

llms.txt is the map: a summary of the site, then one section per concept and per category
listing its pages as links with their description and id, then the pages no concept or
category holds, and the taxonomy pages under `## Optional` (the section an assistant may
skip). llms-full.txt is the header followed by every served page as Markdown (the same
renderer as `Accept: text/markdown`), produced page by page so a 50k-page build is never
held in memory as one string.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator

from principles.contract import PageRecord
from principles.settings import Settings
from service.index import IndexView
from service.markdown import page_markdown

TAXONOMY_TYPES = frozenset({"tag", "category", "concept"})
NOTE_CHARS = 160


def _served(index: IndexView) -> list[PageRecord]:
    pages = [p for p in index.pages.values() if index.visible(p)]
    pages.sort(key=lambda p: (p["title"].casefold(), p["id"]))
    return pages


def _label(index: IndexView, key: str) -> str:
    term = index.terms.get(key)
    return str(term["label"]) if term else key.split("/", 1)[1]


def _link(page: PageRecord, site_url: str) -> str:
    note = " ".join((page["description"] or "").split())
    if len(note) > NOTE_CHARS:
        note = note[: NOTE_CHARS - 1].rsplit(" ", 1)[0] + "…"
    title = page["title"].replace("[", "(").replace("]", ")")
    text = f"- [{title}]({site_url.rstrip('/')}{page['url']}): "
    return text + (f"{note} " if note else "") + f"(id `{page['id']}`)"


def header(index: IndexView, settings: Settings, api_url: str) -> str:
    """Title, the one-paragraph summary and how to read the site as an assistant."""
    pages = _served(index)
    types = Counter(p["type"] for p in pages)
    kinds = Counter(t["kind"] for t in index.terms.values())
    used: Counter[str] = Counter()
    for page in pages:
        used.update(f"concepts/{slug}" for slug in page["terms"].get("concepts", []))
    top = ", ".join(_label(index, key) for key, _ in used.most_common(5))
    mix = ", ".join(f"{n} {kind}" for kind, n in types.most_common())
    api = api_url.rstrip("/")
    summary = (f"{len(pages)} pages ({mix}) in a knowledge graph of {kinds['concepts']} concepts, "
               f"{kinds['categories']} categories and {kinds['tags']} tags"
               + (f"; the main concepts are {top}" if top else "") + ".")
    return "\n".join([
        f"# {settings.site_name}", "", f"> {summary}", "",
        "Each page below is listed under its concepts and categories, with its description and "
        "its id. To read a page as Markdown with its facts, request "
        f"`{api}/v1/pages/{{id}}` with `Accept: text/markdown`; every page in one file: "
        f"{api}/llms-full.txt. Search: `{api}/v1/search?q=...`; related pages with reasons: "
        f"`{api}/v1/related?page={{id}}`; SPARQL: {api}/sparql. MCP server (streamable HTTP, "
        f"tools search, get_page, related, resolve, list_terms, get_term, neighbours, "
        f"overlap_check, sparql_query): {api}/mcp", ""])


def llms_txt(index: IndexView, settings: Settings, api_url: str) -> str:
    site = settings.site_base()
    pages = _served(index)
    sections: dict[str, list[PageRecord]] = defaultdict(list)
    loose, taxonomy = [], []
    for page in pages:
        if page["type"] in TAXONOMY_TYPES:
            taxonomy.append(page)
            continue
        keys = [f"{kind}/{slug}" for kind in ("concepts", "categories")
                for slug in page["terms"].get(kind, [])]
        for key in keys:
            sections[key].append(page)
        if not keys:
            loose.append(page)
    order = sorted(sections, key=lambda k: (not k.startswith("concepts/"), -len(sections[k]),
                                            _label(index, k).casefold()))
    out = [header(index, settings, api_url)]
    for key in order:
        kind = "Concept" if key.startswith("concepts/") else "Category"
        out += [f"## {kind}: {_label(index, key)}", "", *(_link(p, site) for p in sections[key]), ""]
    if loose:
        out += ["## Other pages", "", *(_link(p, site) for p in loose), ""]
    if taxonomy:
        out += ["## Optional", "", *(_link(p, site) for p in taxonomy), ""]
    return "\n".join(out)


def llms_full(index: IndexView, settings: Settings, api_url: str) -> Iterator[str]:
    """The header, then each served page's Markdown, one chunk per page."""
    yield header(index, settings, api_url) + "\n"
    for page in _served(index):
        yield page_markdown(index, page, settings.site_base()) + "\n"
