"""The browser page at GET /sparql (Accept: text/html): YASGUI, vendored under
service/static/yasgui/, with one tab per example query and this endpoint preselected.
Nothing is loaded from other hosts; persistence is off so the examples always show."""

from __future__ import annotations

import html
import json

from service.sparql.examples import EXAMPLES

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Principles Graph - SPARQL</title>
<link rel="stylesheet" href="{static}/yasgui.min.css">
<style>
body {{ font-family: system-ui, sans-serif; margin: 0 1rem; }}
header p {{ margin: .25rem 0 .75rem; color: #444; }}
code {{ background: #f3f3f3; padding: 0 .2rem; }}
</style>
</head>
<body>
<header>
<h1>Principles Graph SPARQL endpoint</h1>
<p>Read-only SPARQL 1.1 over <code>{endpoint}</code>. The default graph is
<code>https://principles.graph/graph/knowledge</code>; the ontology is the named graph
<code>https://principles.graph/graph/ontology</code>. Limits: {limits}
Each tab below is an example query; prefixes and more examples are in
<code>ontology/README.md</code>.</p>
</header>
<div id="yasgui"></div>
<noscript><p>The query editor needs JavaScript. Without it, send
<code>GET {endpoint}?query=...</code> with an Accept header.</p></noscript>
<script src="{static}/yasgui.min.js"></script>
<script>
const examples = {examples};
const yasgui = new Yasgui(document.getElementById("yasgui"), {{
  requestConfig: {{ endpoint: {endpoint_json}, method: "POST" }},
  copyEndpointOnNewTab: true,
  persistenceId: null,
  populateFromUrl: false,
  endpointCatalogueOptions: {{ getData: () => [{{ endpoint: {endpoint_json} }}] }},
}});
const first = yasgui.getTab();
examples.forEach((example, i) => {{
  const config = {{ name: example.title, yasqe: {{ value: example.query }},
                   requestConfig: {{ endpoint: {endpoint_json}, method: "POST" }} }};
  if (i === 0 && first) {{
    first.setName(example.title);
    first.setQuery(example.query);
  }} else {{
    yasgui.addTab(false, config);
  }}
}});
</script>
</body>
</html>
"""


def query_page(endpoint: str, static: str, limits: str) -> str:
    """The HTML page; `static` is the URL folder of the vendored YASGUI files."""
    examples = [{"name": e.name, "title": e.title, "query": e.query} for e in EXAMPLES]
    # JSON inside <script>: escape "</" so a query text can never close the script element.
    as_script = json.dumps(examples).replace("</", "<\\/")
    return PAGE.format(static=html.escape(static), endpoint=html.escape(endpoint),
                       endpoint_json=json.dumps(endpoint).replace("</", "<\\/"),
                       examples=as_script, limits=html.escape(limits))
