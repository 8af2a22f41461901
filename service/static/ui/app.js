/* The Principles Graph web UI: search, page view with related pages and a neighbourhood graph.
 * Plain JS over the public API; hash routes: #/search?q=..., #/page/<id>, #/term/<kind>/<slug>. */
(() => {
  "use strict";
  const view = document.getElementById("view");
  const form = document.getElementById("search");
  const $ = (id) => document.getElementById(id);
  let graph = null;

  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  // Server snippets are HTML-escaped with only <mark> added; keep exactly that and nothing else.
  const safeSnippet = (s) => esc(s).replace(/&lt;mark&gt;/g, "<mark>").replace(/&lt;\/mark&gt;/g, "</mark>").replace(/&amp;(#?[a-z0-9]+);/gi, "&$1;");

  async function api(path) {
    const response = await fetch(path, { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || body.title || "HTTP " + response.status);
    return body;
  }

  const pageLink = (p) => `<a class="title" href="#/page/${encodeURI(p.id)}">${esc(p.title)}</a>`;
  const fail = (error) => { view.innerHTML = `<p class="error" role="alert">${esc(error.message)}</p>`; };

  async function showSearch(params) {
    const q = params.get("q") || "";
    $("q").value = q;
    for (const key of ["mode", "type", "tag"]) if (params.get(key) !== null) $(key).value = params.get(key);
    if (!q.trim()) { view.innerHTML = "<p>Search the corpus, or open a page to see what relates to it.</p>"; return; }
    view.innerHTML = "<p>Searching…</p>";
    try {
      const body = await api("/v1/search?" + params.toString());
      if (!body.results.length) { view.innerHTML = `<p>No results for “${esc(q)}”.</p>`; return; }
      view.innerHTML = `<h1 class="visually-hidden">Results</h1><ol class="results">${body.results.map((r) =>
        `<li>${pageLink(r)} <span class="meta">${esc(r.type)} · ${esc(r.url)}</span>
         <p class="snippet">${safeSnippet(r.snippet)}</p></li>`).join("")}</ol>`;
    } catch (error) { fail(error); }
  }

  function termChips(page) {
    const terms = [...page.concepts, ...page.categories, ...page.tags];
    return `<ul class="chips" aria-label="Terms">${terms.map((t) =>
      `<li><a href="#/term/${t.kind}/${encodeURIComponent(t.slug)}">${esc(t.label)}</a></li>`).join("")}</ul>`;
  }

  function reasons(r) {
    const shared = r.reasons.shared_terms.slice(0, 3).map((t) => esc(t.label)).join(", ");
    const passage = r.reasons.passages.target.text.split(/\s+/).slice(0, 18).join(" ");
    return `<span class="reason">${shared ? "Shares " + shared + ". " : ""}Closest passage (${r.reasons.passages.similarity.toFixed(2)}): “${esc(passage)}…”</span>`;
  }

  async function showPage(id) {
    view.innerHTML = "<p>Loading…</p>";
    try {
      const [page, related, hood] = await Promise.all([
        api("/v1/pages/" + encodeURI(id)), api("/v1/related?limit=6&page=" + encodeURIComponent(id)),
        api("/v1/pages/" + encodeURI(id) + "/neighbours?depth=1")]);
      view.innerHTML = `<article><h1>${esc(page.title)}</h1>
        <p class="meta">${esc(page.type)} · <a href="${esc(page.url)}">${esc(page.url)}</a>${page.date ? " · " + esc(page.date.slice(0, 10)) : ""}</p>
        ${page.description ? `<p>${esc(page.description)}</p>` : ""}${termChips(page)}</article>
        <div class="columns"><section><h2>Related</h2><ol class="results">${related.results.map((r) =>
          `<li>${pageLink(r)} <span class="meta">${esc(r.type)} · score ${r.score.toFixed(2)}</span>${reasons(r)}</li>`).join("")}</ol></section>
        <section><h2>Neighbourhood</h2><div id="graph" role="img" aria-label="Graph of the pages and terms around ${esc(page.title)}"></div></section></div>`;
      drawGraph(hood);
    } catch (error) { fail(error); }
  }

  function drawGraph(hood) {
    if (graph) graph.destroy();
    if (!window.cytoscape) return;
    const elements = [
      ...hood.nodes.map((n) => ({ data: { id: n.key, label: n.label, kind: n.kind, center: n.distance === 0 ? 1 : 0, ref: n.id } })),
      ...hood.edges.map((e, i) => ({ data: { id: "e" + i, source: e.source, target: e.target, kind: e.kind } }))];
    graph = window.cytoscape({
      container: $("graph"), elements, layout: { name: "cose", animate: false },
      style: [
        { selector: "node", style: { label: "data(label)", "font-size": 9, "text-wrap": "ellipsis", "text-max-width": 90, "background-color": "#60a5fa", width: 14, height: 14 } },
        { selector: "node[kind = 'term']", style: { "background-color": "#f59e0b", shape: "round-rectangle" } },
        { selector: "node[center = 1]", style: { "background-color": "#1d4ed8", width: 22, height: 22 } },
        { selector: "edge", style: { width: 1, "line-color": "#cbd5e1", "curve-style": "bezier" } },
        { selector: "edge[kind = 'similar']", style: { "line-style": "dashed", "line-color": "#93c5fd" } }],
    });
    graph.on("tap", "node[kind = 'page']", (event) => { location.hash = "#/page/" + encodeURI(event.target.data("ref")); });
  }

  async function showTerm(kind, slug) {
    try {
      const term = await api(`/v1/terms/${kind}/${encodeURIComponent(slug)}`);
      const pages = Array.isArray(term.pages) ? term.pages : term.pages.results;
      view.innerHTML = `<h1>${esc(term.label)}</h1><p class="meta">${esc(term.kind)} · ${pages.length} pages</p>
        <ol class="results">${pages.map((p) => `<li>${pageLink(p)} <span class="meta">${esc(p.type)}</span></li>`).join("")}</ol>`;
    } catch (error) { fail(error); }
  }

  function route() {
    const hash = location.hash.replace(/^#\/?/, "");
    if (hash.startsWith("page/")) return showPage(decodeURI(hash.slice(5)));
    if (hash.startsWith("term/")) { const [, kind, slug] = hash.split("/"); return showTerm(kind, decodeURIComponent(slug)); }
    return showSearch(new URLSearchParams(hash.startsWith("search?") ? hash.slice(7) : ""));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams({ q: $("q").value, mode: $("mode").value });
    if ($("type").value) params.set("type", $("type").value);
    if ($("tag").value) params.set("tag", $("tag").value);
    location.hash = "#/search?" + params.toString();
  });

  async function fillFilters() {
    try {
      const terms = await api("/v1/terms?kind=tags");
      $("tag").insertAdjacentHTML("beforeend", terms.results.map((t) => `<option value="${esc(t.slug)}">${esc(t.label)}</option>`).join(""));
      for (const type of ["article", "blog", "guide", "tag", "category", "concept", "note"]) $("type").insertAdjacentHTML("beforeend", `<option>${type}</option>`);
      const health = await api("/health");
      $("corpus").textContent = `${health.corpus} (${health.served_pages} pages, build ${health.index_version})`;
    } catch (error) { /* filters are optional */ }
  }

  window.addEventListener("hashchange", route);
  fillFilters().then(route);
})();
