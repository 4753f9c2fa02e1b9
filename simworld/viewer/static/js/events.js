/* The event list (filtered by kind and agent, synced to the cursor), one event's detail, and the causes
 * view that follows `causes` seqs back through observations, memory retrievals and model calls. */
(function () {
  "use strict";
  const SW = window.simworld;
  const { h, clear, append, brief, fmtTime, eventCard } = SW.dom;
  const BEFORE = 60;
  const AFTER = 15;

  /** A one-line description of an event: the panel's, else the first few data fields. */
  function summary(app, ev) {
    const panel = app.panel;
    if (panel && typeof panel.summary === "function") {
      try {
        const s = panel.summary(ev, app.ctx());
        if (s) return String(s);
      } catch (err) { /* fall through to the generic line */ }
    }
    const d = ev.data || {};
    if (ev.kind === "agent.acted") return `${d.decision}: ${brief(d.action, 70)}`;
    if (ev.kind === "belief.updated") return `${d.about} ${d.key} = ${brief(d.value, 30)} (conf ${brief(d.confidence, 6)})`;
    if (ev.kind === "message.sent") return `${d.sender} → ${brief(d.audience, 40)}: ${brief(d.text, 80)}`;
    if (ev.kind === "agent.joined") return (d.persona && d.persona.name) || "";
    const parts = [];
    for (const [k, v] of Object.entries(d)) {
      if (v !== null && typeof v === "object") continue;
      parts.push(`${k}=${brief(v, 30)}`);
      if (parts.length >= 4) break;
    }
    return parts.join(" ");
  }

  class EventsView {
    constructor(root, app) {
      this.app = app;
      this.gen = 0;
      const kinds = Object.entries(app.meta.kinds).sort((a, b) => a[0].localeCompare(b[0]));
      this.kindSel = h("select", { id: "kind-filter", "aria-label": "filter by kind" },
        h("option", { value: "" }, "all kinds"),
        [...new Set(kinds.map(([k]) => k.split(".")[0]))].map((p) => h("option", { value: p + ".*" }, p + ".*")),
        kinds.map(([k, n]) => h("option", { value: k }, `${k} (${n})`)));
      this.agentSel = h("select", { id: "agent-filter", "aria-label": "filter by agent" },
        h("option", { value: "" }, "all agents"),
        app.meta.agents.map((a) => h("option", { value: a.id }, a.name && a.name !== a.id ? `${a.id} · ${a.name}` : a.id)));
      for (const sel of [this.kindSel, this.agentSel]) sel.addEventListener("change", () => app.filterChanged());
      this.count = h("span", { id: "event-count", class: "muted small" });
      this.list = h("ol", { id: "event-list", class: "event-list" });
      this.detail = h("div", { id: "event-detail" });
      clear(root).append(
        h("h2", null, "Events"),
        h("div", { class: "filters" }, this.kindSel, this.agentSel, this.count),
        this.list,
        this.detail
      );
    }

    /** The filter as query parameters (shared by the list, stepping and the density strip). */
    filter() {
      return { kind: this.kindSel.value, involves: this.agentSel.value };
    }

    async render(cursor) {
      const gen = ++this.gen;
      const f = this.filter();
      const api = this.app.api;
      const [before, after] = await Promise.all([
        api.events(Object.assign({ seq1: cursor.seq, order: "desc", limit: BEFORE }, f)),
        api.events(Object.assign({ seq0: cursor.seq + 1, order: "asc", limit: AFTER }, f)),
      ]);
      if (gen !== this.gen) return;
      this.count.textContent = `${before.total + after.total} matching · ${before.total} up to the cursor`;
      clear(this.list);
      const rows = before.events.slice().reverse();
      rows.forEach((ev, i) => this.list.appendChild(this.row(ev, i === rows.length - 1 ? "current" : "")));
      after.events.forEach((ev) => this.list.appendChild(this.row(ev, "future")));
      if (!rows.length && !after.events.length) this.list.appendChild(h("li", { class: "muted" }, "no events match"));
      const cur = this.list.querySelector(".current");
      if (cur) this.list.scrollTop = cur.offsetTop - this.list.offsetTop - this.list.clientHeight / 2;
    }

    row(ev, cls) {
      const selected = this.app.selectedEvent === ev.seq ? " selected" : "";
      return h("li", { class: `ev ${cls}${selected}`, dataset: { seq: String(ev.seq), kind: String(ev.kind) },
        onclick: () => this.app.selectEvent(ev.seq, true) },
        h("span", { class: "seq" }, "#" + ev.seq),
        h("span", { class: "t" }, fmtTime(ev.t)),
        h("span", { class: "kind" }, String(ev.kind)),
        h("span", { class: "agent" }, ev.agent == null ? "" : String(ev.agent)),
        h("span", { class: "sum" }, summary(this.app, ev)));
    }

    async showDetail(seq) {
      const res = await this.app.api.events({ seqs: String(seq), limit: 1 });
      const ev = res.events[0];
      clear(this.detail);
      if (!ev) return;
      const footer = h("div", { class: "ev-actions" },
        ev.causes && ev.causes.length
          ? h("button", { class: "show-causes", onclick: () => this.app.showCauses(ev) }, `why? (${ev.causes.length} causes)`)
          : h("span", { class: "muted small" }, "no recorded causes"));
      append(this.detail, [h("h3", null, "Selected event"), eventCard(ev, { footer })]);
    }
  }

  /** "Why did this happen": the event, then its causes, each expandable to its own causes. */
  class CausesView {
    constructor(root, app) {
      this.root = root;
      this.app = app;
    }

    async show(ev) {
      const root = clear(this.root);
      root.hidden = false;
      append(root, [
        h("div", { class: "causes-head" },
          h("h2", null, "Why: ", h("span", { class: "mono" }, `#${ev.seq} ${ev.kind}`), ev.agent ? ` by ${ev.agent}` : ""),
          h("button", { id: "close-causes", onclick: () => { root.hidden = true; } }, "close ✕")),
        eventCard(ev),
        h("h3", null, "Caused by"),
      ]);
      const box = h("div", { id: "cause-tree", class: "cause-tree" });
      root.appendChild(box);
      await this.expand(box, ev.causes || [], new Set([ev.seq]), 0);
      root.scrollIntoView({ block: "nearest" });
    }

    /** "Why does the agent believe this": the event the belief rests on (its card names who witnessed it;
     * its causes expand as above), and the event that made reality what it is at the cursor. ``info``:
     * chain, fact, belief, seq, false, reality, reality_seq (a knowledge answer's entry). */
    async showBelief(info) {
      const root = clear(this.root);
      root.hidden = false;
      const who = SW.beliefChainText(info.chain);
      append(root, [
        h("div", { class: "causes-head" },
          h("h2", null, "Why: ", h("span", { class: "mono" }, info.fact), ` = ${brief(info.belief, 60)}`),
          h("button", { id: "close-causes", onclick: () => { root.hidden = true; } }, "close ✕")),
        h("p", { id: "belief-summary", class: info.false ? "false-belief" : "true-belief" },
          `${who[0].toUpperCase()}${who.slice(1)} about ${info.fact}: ${brief(info.belief, 200)}`,
          info.false ? h("span", { class: "marker false-marker" }, " ✗ false") : null,
          ` · reality: ${info.reality === null ? "not stated yet" : brief(info.reality, 200)}`),
        h("h3", null, `The belief rests on event #${info.seq}`),
      ]);
      const box = h("div", { id: "belief-events", class: "cause-tree" });
      root.appendChild(box);
      await this.expand(box, [info.seq], new Set(), 0);
      if (info.reality_seq !== null && info.reality_seq !== undefined && info.reality_seq !== info.seq) {
        const real = h("div", { id: "belief-reality", class: "cause-tree" });
        const res = await this.app.api.events({ seqs: String(info.reality_seq), limit: 1 });
        const ev = res.events[0];
        const saw = ev && Array.isArray(ev.witnesses) && ev.witnesses.includes(info.chain[0]);
        append(root, [h("h3", null, `Reality since event #${info.reality_seq}`),
          ev ? h("p", { class: "muted small", id: "belief-reality-witnessed" },
            `${info.chain[0]} ${saw ? "was among its witnesses" : "was not among its witnesses"}`) : null, real]);
        await this.expand(real, [info.reality_seq], new Set(), 0);
      }
      root.scrollIntoView({ block: "nearest" });
    }

    async expand(box, seqs, seen, depth) {
      if (!seqs.length) {
        box.appendChild(h("p", { class: "muted small" }, "no recorded causes"));
        return;
      }
      const res = await this.app.api.events({ seqs: seqs.join(","), limit: seqs.length });
      const found = new Set(res.events.map((e) => e.seq));
      for (const s of seqs) if (!found.has(s)) box.appendChild(h("p", { class: "warn" }, `event #${s} is not in the log`));
      for (const cause of res.events) {
        const sub = h("div", { class: "cause-children" });
        const more = cause.causes && cause.causes.length && !seen.has(cause.seq) && depth < 12;
        const footer = more
          ? h("button", { class: "expand-causes", onclick: (e) => {
              e.target.disabled = true;
              this.expand(sub, cause.causes, new Set([...seen, cause.seq]), depth + 1);
            } }, `its causes (${cause.causes.length})`)
          : null;
        box.appendChild(h("div", { class: "cause", dataset: { kind: String(cause.kind) } }, eventCard(cause, { footer }), sub));
      }
    }
  }

  SW.EventsView = EventsView;
  SW.CausesView = CausesView;
  SW.summary = summary;
})();
