/* Author check: POST the pasted draft to /v1/overlap and show each page that already covers it,
 * with its band, score, the suggested action and the matching passages side by side.
 * Every piece of data goes into the page through textContent (no innerHTML with data). */
(() => {
  "use strict";
  const form = document.getElementById("draft");
  const report = document.getElementById("report");
  const button = form.querySelector("button");

  // el("p", {className: "meta"}, "text", childNode, ...): strings become text nodes.
  function el(tag, props, ...children) {
    const node = Object.assign(document.createElement(tag), props || {});
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  const PAIRS_SHOWN = 2; // passage pairs open per page; the rest behind "more"
  const percent = (x) => Math.round(x * 100) + "%";
  const pageLink = (r) => el("a", { href: "/#/page/" + encodeURI(r.id) }, r.title);

  // The same advice as `principles check` (ingest/check/overlap.py), per band.
  function action(r) {
    if (r.band === "near-duplicate")
      return ["merge into ", pageLink(r), " and add your page's url to its aliases"];
    if (r.band === "strong overlap")
      return ["differentiate from ", pageLink(r), " (a different main argument), or merge into it and add your page's url to its aliases"];
    return ["link to ", pageLink(r), " (", el("code", {}, r.url), ")"];
  }

  function passage(label, text) {
    return el("div", { className: "passage" }, el("span", { className: "side" }, label),
              el("blockquote", {}, text));
  }

  function result(r) {
    const band = el("span", { className: "badge band-" + r.band.replace(/\s+/g, "-") }, r.band);
    const head = el("div", { className: "overlap-head" },
                    el("a", { className: "title", href: "/#/page/" + encodeURI(r.id) }, r.title), " ", band);
    const terms = r.shared_terms.map((t) => t.label).join(", ");
    const meta = el("p", { className: "meta" },
                    `${r.type} · ${r.url} · score ${r.score.toFixed(2)} · ${percent(r.covered)} of the draft matched`
                    + (terms ? ` · shares ${terms}` : ""));
    const advice = el("p", { className: "action" }, el("strong", {}, "Suggested action: "), ...action(r));
    const pair = (m) => el("li", { className: "pair" },
      el("p", { className: "similarity" }, "similarity " + m.similarity.toFixed(2)),
      passage("Your draft", m.source.text), passage(r.title, m.target.text));
    const list = (matches) => el("ol", { className: "evidence" }, ...matches.map(pair));
    const rest = r.evidence.slice(PAIRS_SHOWN);
    const more = rest.length ? el("details", {}, el("summary", {},
      `${rest.length} more matching passage${rest.length === 1 ? "" : "s"}`), list(rest)) : null;
    return el("li", { className: "overlap" }, head, meta, advice,
              r.evidence.length ? list(r.evidence.slice(0, PAIRS_SHOWN)) : null, more);
  }

  function show(body) {
    const words = `${body.draft.words} words, ${body.draft.passages} passage${body.draft.passages === 1 ? "" : "s"}`;
    if (!body.results.length) {
      report.replaceChildren(el("p", {}, `No published page overlaps this draft (${words}). Good to go.`));
      return;
    }
    report.replaceChildren(
      el("h2", {}, `${body.results.length} page${body.results.length === 1 ? "" : "s"} overlap this draft`),
      el("p", { className: "meta" }, `${body.draft.title ? "“" + body.draft.title + "” · " : ""}${words}`),
      el("ol", { className: "results overlaps" }, ...body.results.map(result)));
  }

  function fail(message) {
    report.replaceChildren(el("p", { className: "error", role: "alert" }, message));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const draft = { text: form.elements.text.value };
    const title = form.elements.title.value.trim();
    if (title) draft.title = title;
    button.disabled = true;
    report.replaceChildren(el("p", {}, "Checking…"));
    try {
      const response = await fetch("/v1/overlap", {
        method: "POST", body: JSON.stringify(draft),
        headers: { "Content-Type": "application/json", Accept: "application/json" } });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) fail(body.detail || body.title || `The check failed (HTTP ${response.status}).`);
      else show(body);
    } catch (error) {
      fail("The service did not answer: " + error.message);
    } finally {
      button.disabled = false;
    }
  });
})();
