/* The knowledge view of the agent pane: at the cursor, every fact the run states with reality and the
 * agent's belief side by side, and what it believes other agents believe (second order). A false belief
 * carries the class "false-belief" and the text "✗ false"; an unknown one reads "unknown". Clicking a
 * belief opens the events behind it in the causes pane (simworld.app.showBelief). Answers come from
 * api.knowledge (the server's /api/knowledge, or the exported page's timelines). */
(function () {
  "use strict";
  const SW = window.simworld;
  const { h, clear, brief } = SW.dom;
  const PAGE = 50;

  /** "what sally believes" / "what sally believes anne believes". */
  function chainText(chain) {
    return "what " + chain.map((a) => `${a} believes`).join(" ");
  }

  /** A belief cell: the value as a button that opens the events behind it, the false marker, or "unknown". */
  function beliefCell(app, info, extra) {
    if (info.belief === null || info.belief === undefined) {
      return h("td", { class: "belief unknown-belief" }, h("span", { class: "unknown" }, "unknown"), extra || null);
    }
    const cls = "belief" + (info.false ? " false-belief" : " true-belief");
    return h("td", { class: cls, dataset: { seq: String(info.seq) } },
      h("button", { class: "link belief-value", title: `${chainText(info.chain)}: ${brief(info.belief, 400)} (event #${info.seq}); show why`,
        onclick: () => app.showBelief(info) }, brief(info.belief, 40)),
      info.false ? h("span", { class: "marker false-marker" }, " ✗ false") : null,
      extra || null);
  }

  class KnowledgeView {
    constructor(app) {
      this.app = app;
      this.offset = 0;
      this.only = false;
      this.about = ""; // "": the server's default others; "-": none; else one agent
      this.search = h("input", { type: "search", class: "knowledge-search", placeholder: "find a fact", "aria-label": "find a fact" });
      this.search.addEventListener("input", () => { this.offset = 0; this.refresh(); });
    }

    /** The query options for api.knowledge. */
    options() {
      const o = { offset: this.offset, limit: PAGE };
      if (this.only) o.only = "false";
      if (this.search.value) o.fact = this.search.value;
      if (this.about === "-") o.second = 0;
      else if (this.about) o.about = this.about;
      return o;
    }

    refresh() {
      if (this.app.cursor) this.app.agents.renderKnowledge(this.app.cursor);
    }

    /** The filter controls: made once per agent and kept (so typing in the search box keeps its focus). */
    controls(res) {
      if (this.controlsEl && this.controlsFor === res.agent) return this.controlsEl;
      const only = h("input", { type: "checkbox", id: "knowledge-only-false", checked: this.only });
      only.addEventListener("change", () => { this.only = only.checked; this.offset = 0; this.refresh(); });
      const others = this.app.meta.agents.map((a) => a.id).filter((a) => a !== res.agent);
      const pick = h("select", { id: "knowledge-about", "aria-label": "second-order beliefs about" },
        h("option", { value: "" }, "second order: up to 8 others"),
        h("option", { value: "-" }, "no second order"),
        others.slice(0, 500).map((a) => h("option", { value: a }, "second order about " + a)));
      if (this.about && this.about !== "-" && !others.includes(this.about)) this.about = "";
      pick.value = this.about;
      pick.addEventListener("change", () => { this.about = pick.value; this.refresh(); });
      this.controlsFor = res.agent;
      this.controlsEl = h("div", { class: "filters knowledge-controls" }, this.search,
        h("label", { class: "small" }, only, " false only"), pick);
      return this.controlsEl;
    }

    /** Fill ``box`` (the knowledge section) with the answer ``res``. */
    fill(box, res) {
      const app = this.app;
      const agent = res.agent;
      const title = `Knowledge (${res.stated} facts · ${res.false} false · ${res.unknown} unknown)`;
      const controls = this.controls(res);
      if (controls.parentNode !== box || !box.querySelector(".knowledge-body")) {
        clear(box).append(h("h3", null, title), controls, h("div", { class: "knowledge-body" }));
      }
      box.querySelector("h3").textContent = title;
      const body = clear(box.querySelector(".knowledge-body"));
      box = body;
      if (res.note) box.appendChild(h("p", { class: "warn small knowledge-note" }, res.note));
      if (res.scanned < res.stated) {
        box.appendChild(h("p", { class: "muted small" }, `counting the first ${res.scanned} of ${res.stated} facts: find a fact to narrow`));
      }
      if (!res.facts.length) {
        box.appendChild(h("p", { class: "muted small" }, res.stated ? "no fact matches" : "no fact stated yet"));
        return;
      }
      const about = res.about;
      const head = h("thead", null,
        h("tr", null, h("th", { rowspan: about.length ? "2" : null }, "fact"), h("th", { rowspan: about.length ? "2" : null }, "reality"),
          h("th", { rowspan: about.length ? "2" : null }, `${agent} believes`),
          about.length ? h("th", { colspan: String(about.length), class: "second-head" }, `what ${agent} thinks … believes`) : null),
        about.length ? h("tr", null, about.map((b) => h("th", { class: "second-head" }, b))) : null);
      const rows = res.facts.map((f) => {
        const reality = f.reality === null
          ? h("td", { class: "reality" }, h("span", { class: "unknown" }, "not stated yet"))
          : h("td", { class: "reality", dataset: { seq: String(f.reality_seq) } },
            h("button", { class: "link", title: `reality since event #${f.reality_seq}`,
              onclick: () => app.selectEvent(f.reality_seq, false) }, brief(f.reality, 40)));
        const own = beliefCell(app, { chain: [agent], fact: f.fact, belief: f.belief, seq: f.seq, false: f.false,
          reality: f.reality, reality_seq: f.reality_seq });
        const second = (f.second || []).map((s) => {
          const differs = s.belief !== null && JSON.stringify(s.belief) !== JSON.stringify(s.theirs);
          const note = differs
            ? h("span", { class: "marker mistaken small", title: `${s.about} believes ${brief(s.theirs, 200)}` },
              ` (${s.about}: ${s.theirs === null ? "unknown" : brief(s.theirs, 24)})`)
            : null;
          return beliefCell(app, { chain: [agent, s.about], fact: f.fact, belief: s.belief, seq: s.seq, false: s.false,
            reality: f.reality, reality_seq: f.reality_seq, theirs: s.theirs }, note);
        });
        return h("tr", { class: f.false ? "knowledge-row has-false" : "knowledge-row", dataset: { fact: f.fact } },
          h("td", { class: "fact mono" }, f.fact), reality, own, second);
      });
      box.appendChild(h("div", { class: "scroll-x" }, h("table", { class: "knowledge", id: "knowledge-table" },
        head, h("tbody", null, rows))));
      if (res.total > res.facts.length) {
        const prev = h("button", { class: "knowledge-prev", disabled: this.offset <= 0,
          onclick: () => { this.offset = Math.max(0, this.offset - PAGE); this.refresh(); } }, "◀");
        const next = h("button", { class: "knowledge-next", disabled: this.offset + res.facts.length >= res.total,
          onclick: () => { this.offset += PAGE; this.refresh(); } }, "▶");
        box.appendChild(h("div", { class: "muted small knowledge-pages" }, prev, " ",
          `facts ${res.offset + 1}–${res.offset + res.facts.length} of ${res.total} `, next));
      }
    }
  }

  SW.KnowledgeView = KnowledgeView;
  SW.beliefChainText = chainText;
})();
