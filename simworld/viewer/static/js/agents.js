/* Agents: the list, a persona card, and at the cursor what the agent perceived, its memory, its beliefs
 * (next to the truth where the scenario's panel can tell it), what it knows of the facts the run states
 * (knowledge.js) and its decisions. */
(function () {
  "use strict";
  const SW = window.simworld;
  const { h, svg, clear, append, brief, fmtNum, fmtTime, renderValue } = SW.dom;
  const RECENT = 30;

  function bigFive(b5) {
    const traits = ["openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"];
    const g = svg("svg", { class: "big-five", viewBox: "0 0 250 80", role: "img", "aria-label": "Big Five traits" });
    traits.forEach((k, i) => {
      const known = typeof b5[k] === "number";
      const v = known ? Math.max(0, Math.min(1, b5[k])) : 0;
      const y = i * 16;
      g.append(svg("text", { x: 0, y: y + 11, class: "lbl", text: k.slice(0, 1).toUpperCase() + " " + k }),
        svg("rect", { x: 110, y: y + 3, width: 100, height: 10, class: "track" }),
        svg("rect", { x: 110, y: y + 3, width: 100 * v, height: 10, class: "fill" }),
        svg("text", { x: 214, y: y + 11, class: "val", text: known ? fmtNum(v) : "–" }));
    });
    return g;
  }

  function personaCard(agent, joined) {
    const data = (joined && joined.data) || {};
    const p = data.persona || {};
    const d = p.demographics || {};
    const facts = [d.age, d.gender, d.occupation, d.education, d.location].filter((x) => x !== null && x !== undefined);
    const card = h("div", { class: "persona-card", id: "persona-card" },
      h("h3", { class: "persona-name" }, String(p.name || agent.name || agent.id)),
      h("div", { class: "muted small" }, `${agent.id} · brain ${data.brain || "?"}${data.policy ? " · " + data.policy : ""}`),
      facts.length ? h("div", { class: "facts" }, facts.map(String).join(" · ")) : null,
      typeof d.income === "number" ? h("div", { class: "small" }, "income " + fmtNum(d.income)) : null,
      p.big_five ? bigFive(p.big_five) : null,
      p.description ? h("p", { class: "persona-description" }, String(p.description)) : null);
    const rest = {};
    for (const k of ["values", "interests", "goals", "speaking_style", "roles", "attention"]) {
      const v = p[k];
      if (v !== undefined && v !== null && v !== "" && !(Array.isArray(v) && !v.length)) rest[k] = v;
    }
    for (const [k, v] of Object.entries(p)) {
      if (!["id", "name", "demographics", "big_five", "description"].includes(k) && !(k in rest)) rest[k] = v;
    }
    if (Object.keys(rest).length) card.appendChild(h("details", null, h("summary", null, "more"), renderValue(rest)));
    if (!joined) card.appendChild(h("p", { class: "muted small" }, "no agent.joined event: persona unknown"));
    return card;
  }

  class AgentsView {
    constructor(root, app) {
      this.app = app;
      this.gen = 0;
      this.search = h("input", { id: "agent-search", type: "search", placeholder: "find an agent", "aria-label": "find an agent" });
      this.search.addEventListener("input", () => this.renderList());
      this.listEl = h("ul", { id: "agent-list", class: "agent-list" });
      this.card = h("div", { id: "agent-card" });
      this.state = h("div", { id: "agent-state" });
      this.knowledgeView = new SW.KnowledgeView(app);
      this.knowledgeBox = null;
      this.noFacts = false; // the run states no facts: the knowledge section is left out
      clear(root).append(h("h2", null, "Agents"), this.search, this.listEl, this.card, this.state);
      this.renderList();
    }

    renderList() {
      const needle = this.search.value.toLowerCase();
      const all = this.app.meta.agents.filter((a) => !needle || (a.id + " " + a.name).toLowerCase().includes(needle));
      clear(this.listEl);
      for (const a of all.slice(0, 300)) {
        const sel = this.app.agent === a.id ? " selected" : "";
        this.listEl.appendChild(h("li", null, h("button", { class: "agent-btn" + sel, dataset: { agent: a.id },
          onclick: () => this.app.selectAgent(a.id) },
          h("span", { class: "agent-name" }, String(a.name)), " ",
          h("span", { class: "muted small" }, a.name !== a.id ? a.id : "", a.policy ? " · " + a.policy : ""))));
      }
      if (all.length > 300) this.listEl.appendChild(h("li", { class: "muted small" }, `… ${all.length - 300} more: refine the search`));
    }

    async select(id) {
      this.knowledgeView.offset = 0;
      this.renderList();
      const agent = this.app.meta.agents.find((a) => a.id === id) || { id, name: id };
      const res = await this.app.api.events({ kind: "agent.joined", agent: id, limit: 1 });
      clear(this.card).appendChild(personaCard(agent, res.events[0]));
    }

    async render(cursor) {
      const id = this.app.agent;
      if (!id) {
        clear(this.state).appendChild(h("p", { class: "muted" }, "Select an agent to see what it perceived, remembered, believed and did."));
        return;
      }
      const gen = ++this.gen;
      const api = this.app.api;
      const upto = cursor.seq;
      const [perceived, beliefs, decisions] = await Promise.all([
        api.events({ perceived: id, seq1: upto, order: "desc", limit: RECENT }),
        api.beliefs(id, upto),
        api.events({ agent: id, kind: "agent.acted,decision.requested", seq1: upto, order: "desc", limit: RECENT }),
      ]);
      if (gen !== this.gen) return;
      const memory = this.section("memory", "Memory", h("p", { class: "muted small" }, "rebuilding…"));
      this.knowledgeBox = this.noFacts ? null : this.section("knowledge", "Knowledge", h("p", { class: "muted small" }, "…"));
      clear(this.state).append(
        h("div", { class: "at-cursor muted small" }, `${id} at t=${fmtTime(cursor.t)} (event #${cursor.seq})`),
        this.section("decisions", `Decisions (${decisions.total})`, this.decisions(decisions.events)),
        this.knowledgeBox,
        this.section("beliefs", `Beliefs (${beliefs.held} held, ${beliefs.updates} updates)`, this.beliefs(beliefs)),
        this.section("perceived", `Perceived (${perceived.total})`, this.eventList(perceived.events)),
        memory
      );
      this.renderKnowledge(cursor);
      // Rebuilding a memory reads all the agent's events so far: wait until the cursor rests.
      this.app.debounce("memory", 150, async () => {
        const res = await api.memory(id, upto);
        if (gen !== this.gen) return;
        clear(memory).append(h("h3", null, `Memory (${res.total})`), this.memory(res));
      });
    }

    /** The knowledge section at the cursor (once the cursor rests: a first answer builds the run's engine). */
    renderKnowledge(cursor) {
      const box = this.knowledgeBox;
      const id = this.app.agent;
      if (!box || !id) return;
      const gen = this.gen;
      this.app.debounce("knowledge", 60, async () => {
        const res = await this.app.api.knowledge(id, cursor.seq, this.knowledgeView.options());
        if (gen !== this.gen || box !== this.knowledgeBox) return;
        if (!res.run_facts && !res.note) {
          this.noFacts = true;
          box.remove();
          return;
        }
        if (!res.facts.length && res.total && this.knowledgeView.offset) {
          this.knowledgeView.offset = 0; // the page asked for is past the end (the cursor moved): start over
          this.renderKnowledge(cursor);
          return;
        }
        this.knowledgeView.fill(box, res);
      });
    }

    section(id, title, body) {
      return h("section", { class: "agent-section", id: "agent-" + id }, h("h3", null, title), body);
    }

    eventList(events) {
      if (!events.length) return h("p", { class: "muted small" }, "nothing yet");
      return h("ol", { class: "mini-list" }, events.map((ev) => h("li", { dataset: { seq: String(ev.seq) } },
        h("button", { class: "link", onclick: () => this.app.selectEvent(ev.seq, true) }, "#" + ev.seq),
        ` t=${fmtTime(ev.t)} `, h("span", { class: "kind" }, String(ev.kind)), " ",
        h("span", { class: "sum" }, SW.summary(this.app, ev)))));
    }

    decisions(events) {
      if (!events.length) return h("p", { class: "muted small" }, "no decisions yet");
      return h("ol", { class: "mini-list decisions" }, events.map((ev) => {
        const d = ev.data || {};
        return h("li", { class: "decision", dataset: { seq: String(ev.seq) } },
          h("button", { class: "action", title: "show why", onclick: () => this.app.showCauses(ev) },
            `#${ev.seq} t=${fmtTime(ev.t)} ${d.decision || ev.kind}`),
          " ", h("span", { class: "sum" }, ev.kind === "agent.acted" ? brief(d.action, 90) : "requested"));
      }));
    }

    beliefs(res) {
      const list = res.beliefs;
      if (!list.length) return h("p", { class: "muted small" }, "no beliefs logged");
      const panel = this.app.panel;
      const ctx = this.app.ctx();
      const rows = list.map((b) => {
        let truth;
        if (panel && typeof panel.truth === "function") {
          try { truth = panel.truth(b, ctx); } catch (err) { truth = undefined; }
        }
        const err = typeof truth === "number" && typeof b.value === "number" ? b.value - truth : undefined;
        const quals = Object.entries(b.extra || {}).map(([k, v]) => `${k}=${brief(v, 20)}`).join(" ");
        return h("tr", { dataset: { about: String(b.about) } },
          h("td", null, String(b.about)), h("td", null, String(b.key)), h("td", { class: "small" }, quals),
          h("td", { class: "num belief-value", title: brief(b.value, 2000) }, brief(b.value, 40)),
          h("td", { class: "num" }, brief(b.confidence, 8)),
          h("td", { class: "num belief-truth" }, truth === undefined ? "–" : brief(truth, 40)),
          h("td", { class: "num" }, err === undefined ? "" : (err >= 0 ? "+" : "") + fmtNum(err)),
          h("td", { class: "num muted" }, String(b.updates)));
      });
      return h("div", { class: "scroll-x" }, h("table", { class: "beliefs" },
        h("thead", null, h("tr", null, ["about", "key", "for", "believed", "conf.", "truth", "error", "upd."].map((x) => h("th", null, x)))),
        h("tbody", null, rows)),
        res.held > list.length ? h("p", { class: "muted small" }, `the ${list.length} most recently updated of ${res.held}`) : null);
    }

    memory(res) {
      const box = h("div", { class: "memory" }, h("div", { class: "muted small" },
        res.source === "rebuild_memory" ? "rebuilt by simworld.memory.rebuild_memory"
          : res.source === "memory.written" ? "from the agent's memory.written events (latest first)"
          : "every observation it perceived (latest first); no memory store was logged"));
      if (res.note) box.appendChild(h("p", { class: "warn small" }, res.note));
      if (res.source === "rebuild_memory") box.appendChild(this.memoryRecords(res.items || [], res.total));
      else box.appendChild(this.eventList(res.events || []));
      return box;
    }

    memoryRecords(items, total) {
      if (!items.length) return h("p", { class: "muted small" }, "no memories yet");
      return h("ol", { class: "mini-list memories" }, items.map((m) => h("li", { class: "memory-item", dataset: { id: String(m.id) } },
        typeof m.seq === "number"
          ? h("button", { class: "link", onclick: () => this.app.selectEvent(m.seq, true) }, String(m.id))
          : h("span", { class: "mono" }, String(m.id)),
        ` ${m.kind} t=${fmtTime(m.t)} imp=${brief(m.importance, 6)}${m.forgotten ? " (forgotten)" : ""} `,
        h("span", { class: "sum", title: String(m.text) }, brief(m.text, 160)))),
        total > items.length ? h("li", { class: "muted small" }, `… ${total - items.length} older`) : null);
    }
  }

  SW.AgentsView = AgentsView;
})();
