/* The viewer application: holds the cursor (an event seq and its simulated time), the selected agent
 * and event, and keeps the timeline, event list, agent view and scenario panel in step. */
(function () {
  "use strict";
  const SW = window.simworld;
  const D = SW.dom;
  const { h, clear } = D;

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = src; // a fixed same-origin path, never from the log
      s.onload = resolve;
      s.onerror = () => reject(new Error("could not load " + src));
      document.head.appendChild(s);
    });
  }

  /** Count the API calls in flight in body[data-pending] (tests and scripts wait for "0"). */
  let pending = 0;
  function mark(d) {
    pending += d;
    document.body.dataset.pending = String(pending);
  }

  function tracked(api) {
    for (const name of ["meta", "events", "histogram", "beliefs", "memory", "knowledge", "metrics"]) {
      const fn = api[name].bind(api);
      api[name] = (...args) => {
        mark(1);
        return Promise.resolve().then(() => fn(...args)).finally(() => mark(-1));
      };
    }
    return api;
  }

  class App {
    constructor(api) {
      this.api = tracked(api);
      this.cursor = null;
      this.moves = 0; // cursor moves asked for so far
      this.target = undefined; // the seq the latest move asked for
      this.agent = null;
      this.selectedEvent = null;
      this.panel = null;
      this.$ = (id) => document.getElementById(id);
    }

    /** Run ``fn`` after ``ms`` unless called again with the same key first (counted as pending). */
    debounce(key, ms, fn) {
      this.timers = this.timers || {};
      if (this.timers[key]) {
        clearTimeout(this.timers[key]);
        mark(-1);
      }
      mark(1);
      this.timers[key] = setTimeout(() => {
        this.timers[key] = null;
        Promise.resolve().then(fn).finally(() => mark(-1));
      }, ms);
    }

    ctx() {
      return Object.assign({}, D, {
        api: this.api, meta: this.meta, cursor: this.cursor, agent: this.agent, panel: this.panel,
        selectAgent: (id) => this.selectAgent(id), selectEvent: (seq) => this.selectEvent(seq, true),
        setCursor: (seq) => this.setCursor(seq), showCauses: (ev) => this.showCauses(ev),
        showBelief: (info) => this.showBelief(info),
      });
    }

    status(msg, isError) {
      const el = this.$("status");
      el.textContent = msg || "";
      el.className = isError ? "error" : "muted";
    }

    warn(msg) {
      const box = this.$("warnings");
      box.hidden = false;
      box.appendChild(h("p", { class: "warning" }, msg));
    }

    async start() {
      try {
        this.meta = await this.api.meta();
      } catch (err) {
        this.warn("Cannot read this run: " + err.message);
        return;
      }
      const m = this.meta;
      document.title = `simworld replay · ${m.run_id}`;
      this.header();
      for (const w of m.warnings || []) this.warn(w);
      await this.loadPanel();
      this.timeline = new SW.Timeline(this.$("timeline"), this);
      this.events = new SW.EventsView(this.$("events-pane"), this);
      this.agents = new SW.AgentsView(this.$("agents-pane"), this);
      this.causes = new SW.CausesView(this.$("causes"), this);
      this.api.metrics().then((res) => SW.renderMetrics(this.$("metrics"), res),
        (err) => SW.renderMetrics(this.$("metrics"), { metrics: null, error: err.message }));
      if (!m.n_events) {
        this.status("This run has no events to show.", true);
        document.body.dataset.ready = "1";
        return;
      }
      this.timeline.drawDensity({}).catch((err) => this.status(err.message, true));
      const want = new URLSearchParams(location.hash.slice(1));
      if (want.get("agent")) await this.selectAgent(want.get("agent"), true);
      await this.setCursor(want.has("seq") ? Number(want.get("seq")) : 0);
      document.body.dataset.ready = "1";
    }

    header() {
      const m = this.meta;
      const facts = [m.scenario ? `scenario ${m.scenario}` : null, m.status ? `status ${m.status}` : null,
        m.seed !== undefined && m.seed !== null ? `seed ${m.seed}` : null, `${m.n_events.toLocaleString("en-US")} events`,
        m.panel ? `panel ${m.panel}` : "generic views"].filter(Boolean);
      const links = h("span", { class: "files" });
      for (const name of m.files || []) {
        const url = this.api.fileUrl(name);
        if (!url) continue;
        const a = document.createElement("a");
        a.href = url; // "files/" + encodeURIComponent(name): same origin, no scheme
        a.target = "_blank";
        a.rel = "noopener";
        a.textContent = name;
        links.append(a, " ");
      }
      clear(this.$("run-header")).append(h("h1", null, "simworld replay: ", h("span", { id: "run-id" }, String(m.run_id))),
        h("div", { class: "muted" }, facts.join(" · ")), links);
    }

    async loadPanel() {
      const m = this.meta;
      if (m.panel_script && this.api instanceof SW.api.HttpApi) {
        try {
          await loadScript("panel.js");
        } catch (err) {
          this.warn(`The ${m.panel} panel could not be loaded (${err.message}); showing the generic views.`);
        }
      }
      this.panel = (m.panel && SW.panels[m.panel]) || (m.panel_script && SW.lastPanel ? SW.panels[SW.lastPanel] : null);
      const root = this.$("panel");
      if (!this.panel) {
        root.hidden = true;
        return;
      }
      root.hidden = false;
      clear(root).append(h("h2", null, this.panel.title || m.panel), h("div", { id: "panel-body" }));
      if (typeof this.panel.init === "function") {
        try {
          await this.panel.init(this.ctx());
        } catch (err) {
          this.warn(`The ${m.panel} panel failed to start: ${err.message}`);
          this.panel = null;
          root.hidden = true;
        }
      }
    }

    /** Move the cursor to the event with this seq (or the last one before it). Moves overlap (a click
     * while the scrubber's move is still loading): the one asked for last wins, whatever answers last. */
    async setCursor(seq) {
      const move = ++this.moves;
      this.target = seq;
      const res = await this.api.events({ seq1: seq, order: "desc", limit: 1 });
      const ev = res.events[0] || (await this.api.events({ limit: 1 })).events[0];
      if (!ev || move !== this.moves) return;
      this.cursor = { seq: ev.seq, t: ev.t };
      history.replaceState(null, "", "#" + new URLSearchParams(
        Object.assign({ seq: String(ev.seq) }, this.agent ? { agent: this.agent } : {})).toString());
      await this.renderAll();
    }

    async seekTime(t) {
      const move = ++this.moves;
      const res = await this.api.events({ t1: t, order: "desc", limit: 1 });
      if (move !== this.moves) return;
      const ev = res.events[0];
      await this.setCursor(ev ? ev.seq : 0);
    }

    /** The next (+1) or previous (-1) event that the filter shows; false when there is none. */
    async step(dir) {
      if (!this.cursor) return false;
      const f = this.events.filter();
      const q = dir > 0 ? { seq0: this.cursor.seq + 1, order: "asc" } : { seq1: this.cursor.seq - 1, order: "desc" };
      const res = await this.api.events(Object.assign(q, f, { limit: 1 }));
      if (!res.events.length) return false;
      await this.setCursor(res.events[0].seq);
      return true;
    }

    async renderAll() {
      const c = this.cursor;
      this.timeline.show(c);
      const jobs = [
        this.events.render(c),
        this.agents.render(c),
        this.renderPanel(),
      ];
      const results = await Promise.allSettled(jobs);
      if (c !== this.cursor) return; // a later move has drawn (or is drawing) over this one
      const failed = results.find((r) => r.status === "rejected");
      this.status(failed ? String(failed.reason && failed.reason.message ? failed.reason.message : failed.reason) : "", !!failed);
      document.body.dataset.cursor = String(c.seq);
    }

    async renderPanel() {
      if (!this.panel) return;
      const body = this.$("panel-body");
      try {
        await this.panel.render(this.ctx(), body);
      } catch (err) {
        clear(body).appendChild(h("p", { class: "warn" }, "The panel failed: " + err.message));
      }
    }

    async filterChanged() {
      this.timeline.drawDensity(this.events.filter()).catch((err) => this.status(err.message, true));
      await this.events.render(this.cursor);
    }

    async selectEvent(seq, moveCursor) {
      this.selectedEvent = seq;
      await this.events.showDetail(seq);
      if (moveCursor) await this.setCursor(seq);
    }

    async selectAgent(id, quiet) {
      this.agent = id;
      await this.agents.select(id);
      // Redraw at the cursor asked for last (a move may have started since the click), not a stale one.
      if (!quiet && this.cursor) await this.setCursor(this.target !== undefined ? this.target : this.cursor.seq);
    }

    async showCauses(ev) {
      await this.causes.show(ev);
    }

    /** Open the events behind a belief (an entry of a knowledge answer, with its chain of agents). */
    async showBelief(info) {
      await this.causes.showBelief(info);
    }
  }

  SW.App = App;
  SW.start = function () {
    const inline = document.getElementById("simworld-data");
    const api = inline ? new SW.api.LocalApi(JSON.parse(inline.textContent)) : new SW.api.HttpApi();
    const app = new App(api);
    SW.app = app;
    window.addEventListener("unhandledrejection", (e) => app.status(String(e.reason && e.reason.message || e.reason), true));
    return app.start();
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", SW.start);
  else SW.start();
})();
