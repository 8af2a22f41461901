/* <principles-related page="/tags/customer-focus/"> - related content from Principles Graph.
 *
 * One script tag, no framework:  <script src="https://API/static/widget/principles-related.js" defer></script>
 * Attributes: page (id, url or alias; required), limit (default 5), type (page type filter),
 * api (API origin; default: where this script came from), site (prefix for links; default "").
 * Renders a labelled list of links with a one-line reason each. On any failure it renders
 * nothing at all (the element hides itself), so a host page never shows a broken box.
 * Cross-origin calls need the host origin in PRINCIPLES_CORS_ORIGINS.
 */
(() => {
  "use strict";
  const SCRIPT_ORIGIN = document.currentScript ? new URL(document.currentScript.src).origin : "";
  const TIMEOUT_MS = 5000;
  const STYLE = `
    :host { display: block; font: inherit; color: inherit; }
    :host([hidden]) { display: none; }
    nav { border-top: 1px solid color-mix(in srgb, currentColor 20%, transparent); padding-top: .5rem; }
    h2 { font-size: 1rem; margin: 0 0 .5rem; }
    ul { list-style: none; margin: 0; padding: 0; }
    li { margin: 0 0 .6rem; }
    a { color: inherit; font-weight: 600; text-decoration: underline; text-underline-offset: 2px; }
    a:focus-visible { outline: 3px solid #2563eb; outline-offset: 2px; border-radius: 2px; }
    .reason { display: block; font-size: .85em; opacity: .75; margin-top: .1rem; }`;

  function reasonText(result) {
    if (result.reasons && result.reasons.editor) return result.reasons.editor[0].toUpperCase() + result.reasons.editor.slice(1);
    const terms = (result.reasons && result.reasons.shared_terms) || [];
    if (terms.length) return "Also about " + terms.slice(0, 3).map((t) => t.label).join(", ");
    const passage = result.reasons && result.reasons.passages && result.reasons.passages.target;
    if (passage && passage.text) return "Covers: " + passage.text.split(/\s+/).slice(0, 12).join(" ") + "…";
    return "";
  }

  class PrinciplesRelated extends HTMLElement {
    static get observedAttributes() { return ["page", "limit", "type", "api", "site"]; }

    constructor() {
      super();
      this.attachShadow({ mode: "open" });
      this._request = 0;
    }

    connectedCallback() { this.load(); }

    attributeChangedCallback() { if (this.isConnected) this.load(); }

    fail() {
      this.shadowRoot.replaceChildren();
      this.hidden = true;
    }

    async load() {
      const page = this.getAttribute("page");
      if (!page) return this.fail();
      const request = ++this._request;
      const api = (this.getAttribute("api") || SCRIPT_ORIGIN).replace(/\/$/, "");
      const url = new URL(api + "/v1/related");
      url.searchParams.set("page", page);
      url.searchParams.set("limit", this.getAttribute("limit") || "5");
      if (this.getAttribute("type")) url.searchParams.set("type", this.getAttribute("type"));
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
      try {
        const response = await fetch(url, { signal: controller.signal, headers: { Accept: "application/json" } });
        if (!response.ok) throw new Error("HTTP " + response.status);
        const body = await response.json();
        if (request !== this._request) return;  // a newer load superseded this one
        if (!body.results || !body.results.length) return this.fail();
        this.render(body.results);
      } catch (error) {
        if (request === this._request) this.fail();
      } finally {
        clearTimeout(timer);
      }
    }

    render(results) {
      const site = (this.getAttribute("site") || "").replace(/\/$/, "");
      const style = document.createElement("style");
      style.textContent = STYLE;
      const nav = document.createElement("nav");
      nav.setAttribute("aria-labelledby", "principles-related-heading");
      const heading = document.createElement("h2");
      heading.id = "principles-related-heading";
      heading.part = "heading";
      heading.textContent = this.getAttribute("heading") || "Related";
      const list = document.createElement("ul");
      list.setAttribute("role", "list");
      for (const result of results) {
        const item = document.createElement("li");
        const link = document.createElement("a");
        link.href = site + result.url;
        link.textContent = result.title;
        link.part = "link";
        item.append(link);
        const reason = reasonText(result);
        if (reason) {
          const small = document.createElement("span");
          small.className = "reason";
          small.textContent = reason;
          item.append(small);
        }
        list.append(item);
      }
      nav.append(heading, list);
      this.shadowRoot.replaceChildren(style, nav);
      this.hidden = false;
    }
  }

  if (!customElements.get("principles-related")) customElements.define("principles-related", PrinciplesRelated);
})();
