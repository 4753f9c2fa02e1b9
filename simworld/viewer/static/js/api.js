/* Where the page gets its data: the replay server's JSON API, or (in an exported page) the same
 * queries answered in the browser from what the export computed in Python and inlined in the page (the
 * events the log reader accepted, each agent's missed perceptions, each agent's memory at every cursor,
 * the change points of every belief about a fact).
 * Both have one interface: meta(), events(q), histogram(q, bins), beliefs(agent, upto), memory(agent,
 * upto), knowledge(agent, upto, opts), metrics(). */
(function () {
  "use strict";
  const SW = window.simworld;

  function params(q) {
    const out = new URLSearchParams();
    for (const [k, v] of Object.entries(q || {})) {
      if (v === undefined || v === null || v === "") continue;
      out.set(k, Array.isArray(v) ? v.join(",") : String(v));
    }
    return out.toString();
  }

  class HttpApi {
    async get(path, q) {
      const qs = params(q);
      const res = await fetch("api/" + path + (qs ? "?" + qs : ""), { headers: { Accept: "application/json" } });
      let body;
      try {
        body = await res.json();
      } catch (err) {
        throw new Error(`${path}: the server sent something that is not JSON (HTTP ${res.status})`);
      }
      if (!res.ok) throw new Error(`${path}: ${body && body.error ? body.error : "HTTP " + res.status}`);
      return body;
    }
    meta() { return this.get("meta"); }
    events(q) { return this.get("events", q); }
    histogram(q, bins) { return this.get("histogram", Object.assign({ bins }, q)); }
    beliefs(agent, upto) { return this.get("beliefs", { agent, upto }); }
    memory(agent, upto) { return this.get("memory", { agent, upto }); }
    /** opts: offset, limit, about ("b,c"), second (0 for none), only (false|unknown|known), fact (a substring). */
    knowledge(agent, upto, opts) { return this.get("knowledge", Object.assign({ agent, upto }, opts || {})); }
    metrics() { return this.get("metrics"); }
    fileUrl(name) { return "files/" + encodeURIComponent(name); }
  }

  /** The same queries over the data an export inlined (events in log order, as the server reads them). */
  class LocalApi {
    constructor(data) {
      this.data = data;
      this.all = data.events;
      this.missed = new Map(Object.entries(data.missed || {}).map(([a, seqs]) => [a, new Set(seqs)]));
    }
    async meta() { return this.data.meta; }
    async metrics() { return this.data.metrics; }
    fileUrl() { return null; }

    kindTest(kinds) {
      const list = (Array.isArray(kinds) ? kinds : String(kinds || "").split(",")).filter(Boolean);
      if (!list.length) return null;
      const exact = new Set(list.filter((k) => !k.endsWith("*")));
      const prefixes = list.filter((k) => k.endsWith("*")).map((k) => k.slice(0, -1));
      return (k) => exact.has(k) || prefixes.some((p) => k.startsWith(p));
    }
    missedBy(agent) {
      return this.missed.get(agent) || new Set();
    }
    select(q) {
      q = q || {};
      const kind = this.kindTest(q.kind);
      const num = (x) => (x === undefined || x === null || x === "" ? null : Number(x));
      const [t0, t1, s0, s1] = [num(q.t0), num(q.t1), num(q.seq0), num(q.seq1)];
      const seqs = q.seqs ? new Set(String(q.seqs).split(",").filter(Boolean).map(Number)) : null;
      const missed = q.perceived ? this.missedBy(q.perceived) : null;
      const wit = (e, a) => Array.isArray(e.witnesses) && e.witnesses.includes(a);
      return this.all.filter(
        (e) =>
          (!seqs || seqs.has(e.seq)) &&
          (t0 === null || e.t >= t0) && (t1 === null || e.t <= t1) &&
          (s0 === null || e.seq >= s0) && (s1 === null || e.seq <= s1) &&
          (!kind || kind(e.kind)) &&
          (!q.agent || e.agent === q.agent) &&
          (!q.witness || wit(e, q.witness)) &&
          (!q.involves || e.agent === q.involves || wit(e, q.involves)) &&
          (!q.perceived || (wit(e, q.perceived) && !missed.has(e.seq)))
      );
    }
    async events(q) {
      q = q || {};
      let rows = this.select(q);
      const total = rows.length;
      if (q.order === "desc") rows = rows.slice().reverse();
      const offset = Number(q.offset || 0);
      const limit = q.limit === undefined ? 200 : Number(q.limit);
      return { total, offset, order: q.order || "asc", events: rows.slice(offset, offset + limit) };
    }
    async histogram(q, bins) {
      const m = this.data.meta;
      const [lo, hi] = [m.t_min, m.t_max > m.t_min ? m.t_max : m.t_min + 1];
      const counts = new Array(bins).fill(0);
      for (const e of this.select(q)) counts[Math.min(bins - 1, Math.floor(((e.t - lo) / (hi - lo)) * bins))]++;
      return { t_min: m.t_min, t_max: m.t_max, counts };
    }
    async beliefs(agent, upto) {
      const rows = this.select({ kind: "belief.updated", agent, seq1: upto });
      const latest = new Map();
      const updates = new Map();
      for (const e of rows) {
        const d = e.data || {};
        const extra = {};
        for (const [k, v] of Object.entries(d)) if (!["about", "key", "value", "confidence"].includes(k)) extra[k] = v;
        const key = JSON.stringify([d.about, d.key, extra]);
        latest.set(key, { about: d.about, key: d.key, value: d.value, confidence: d.confidence, extra, seq: e.seq, t: e.t });
        updates.set(key, (updates.get(key) || 0) + 1);
      }
      const beliefs = [...latest.entries()].map(([k, b]) => Object.assign(b, { updates: updates.get(k) }));
      beliefs.sort((a, b) => b.seq - a.seq);
      return { agent, updates: rows.length, held: beliefs.length, beliefs: beliefs.slice(0, 200) };
    }
    /** The row the server answers "at upto" from: the last event (in log order) with seq <= upto; -1: none. */
    rowAtOrBefore(upto) {
      const all = this.all;
      if (upto === undefined || upto === null || upto === "") return all.length - 1;
      const seq = Number(upto);
      if (this.data.seq_is_row) return Math.max(-1, Math.min(Math.floor(seq), all.length - 1));
      for (let i = all.length - 1; i >= 0; i--) if (all[i].seq <= seq) return i;
      return -1;
    }
    /** The log's view of an agent's memory (when a rebuild fails): its memory.written, else what it perceived. */
    memoryFromLog(agent, seq1, note) {
      let rows = this.select({ kind: "memory.written", agent, seq1 });
      let source = "memory.written";
      if (!rows.length) {
        rows = this.select({ perceived: agent, seq1 });
        source = "perceived";
      }
      return { source, note, total: rows.length, events: rows.slice(-200).reverse() };
    }
    /** The memory answer the server gives, looked up in what the export computed (see memory_view.py). */
    async memory(agent, upto) {
      const row = this.rowAtOrBefore(upto);
      const mem = this.data.memory || { records: [], agents: {} };
      const tl = mem.agents[agent];
      if (row < 0) return this.memoryFromLog(agent, -1, null);
      if (!tl) return this.memoryFromLog(agent, this.all[row].seq, "not an agent of this run");
      if (tl.rows) {
        const a = tl.rows[row];
        if (a.items) return { source: a.source, note: a.note, total: a.total, items: a.items };
        const bySeq = new Map(this.all.map((e) => [e.seq, e]));
        return { source: a.source, note: a.note, total: a.total, events: a.seqs.map((s) => bySeq.get(s)) };
      }
      const at = this.all[row].seq;
      const within = (from, until) => from <= at && (until === null || at < until);
      const span = tl.spans.find((s) => within(s[0], s[1]));
      if (span) return this.memoryFromLog(agent, at, span[2]);
      const held = tl.versions.filter((v) => within(v[1], v[2]));
      const items = held.slice(-200).reverse().map(([rec, , , importance, lastAccess]) =>
        Object.assign({}, mem.records[rec], { importance, last_access: lastAccess }));
      return { source: "rebuild_memory", note: null, total: held.length, items };
    }
  }

  /** The knowledge answer the server gives (simworld/viewer/knowledge_view.py), evaluated at the cursor from
   * the change points the export computed: each timeline is [row, value index or null, seq or null], sorted. */
  const KNOWLEDGE = { maxLimit: 1000, defaultLimit: 100, maxAbout: 8, maxScan: 5000 };

  function pointAt(points, row) {
    if (!points || !points.length || points[0][0] > row) return [null, null];
    let lo = 0, hi = points.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (points[mid][0] <= row) lo = mid; else hi = mid - 1;
    }
    return [points[lo][1], points[lo][2]];
  }

  LocalApi.prototype.knowledge = async function (agent, upto, opts) {
    opts = opts || {};
    const K = this.data.knowledge || { run_facts: 0, note: null, facts: [], first: [], values: [], reality: [],
      agents: [], beliefs: {}, about: {}, second: {}, second_note: null };
    const num = (x, dflt) => (x === undefined || x === null || x === "" ? dflt : Number(x));
    const offset = Math.max(0, num(opts.offset, 0));
    const limit = Math.min(KNOWLEDGE.maxLimit, Math.max(0, num(opts.limit, KNOWLEDGE.defaultLimit)));
    const only = opts.only || null;
    if (only !== null && !["false", "unknown", "known"].includes(only)) throw new Error("knowledge: only must be false, unknown or known");
    const row = this.rowAtOrBefore(upto);
    const out = { agent, seq: row >= 0 ? this.all[row].seq : null, run_facts: K.run_facts, stated: 0, scanned: 0,
      false: 0, unknown: 0, total: 0, offset, limit, about: [], others: 0, facts: [], note: K.note };
    if (!K.facts.length) return out;
    const value = (i) => (i === null ? null : K.values[i]);
    const known = K.agents.includes(agent);
    if (!known && out.note === null) out.note = `${agent} witnessed no event that states a fact: it believes nothing`;
    const beliefAt = (who, i) => (K.agents.includes(who) ? pointAt((K.beliefs[who] || {})[i], row) : [null, null]);
    let about = [];
    const second = !(opts.second === 0 || opts.second === "0" || opts.second === false);
    if (second) {
      const asked = opts.about && opts.about !== "*" ? [...new Set(String(opts.about).split(",").filter(Boolean))] : null;
      if (asked && asked.length > KNOWLEDGE.maxAbout) throw new Error(`knowledge: about names at most ${KNOWLEDGE.maxAbout} agents`);
      about = asked || K.agents.filter((a) => a !== agent).slice(0, KNOWLEDGE.maxAbout);
    }
    const needle = String(opts.fact || "").toLowerCase();
    const stated = [];
    K.facts.forEach((f, i) => { if (K.first[i] <= row && f.toLowerCase().includes(needle)) stated.push(i); });
    out.stated = stated.length;
    out.scanned = Math.min(stated.length, KNOWLEDGE.maxScan);
    out.about = about;
    out.others = K.agents.length - (known ? 1 : 0);
    const rows = [];
    for (const i of stated.slice(0, KNOWLEDGE.maxScan)) {
      const [r, rSeq] = pointAt(K.reality[i], row);
      const [b, bSeq] = known ? beliefAt(agent, i) : [null, null];
      const isFalse = b !== null && b !== r; // values are interned as JSON: equal values share an index
      out.false += isFalse ? 1 : 0;
      out.unknown += b === null ? 1 : 0;
      if ((only === "false" && !isFalse) || (only === "unknown" && b !== null) || (only === "known" && b === null)) continue;
      rows.push({ i, r, item: { fact: K.facts[i], reality: value(r), reality_seq: rSeq, belief: value(b), seq: bSeq, false: isFalse } });
    }
    out.total = rows.length;
    const page = rows.slice(offset, offset + limit);
    let missing = false;
    for (const { i, r, item } of page) {
      item.second = about.map((other) => {
        let [b, bSeq] = [null, null];
        if (other !== agent && known && K.agents.includes(other)) {
          const mine = (K.second[agent] || {})[other];
          if (mine) [b, bSeq] = pointAt(mine[i], row);
          else missing = true;
        }
        return { about: other, belief: value(b), seq: bSeq, false: b !== null && b !== r, theirs: value(beliefAt(other, i)[0]) };
      });
    }
    if (missing && out.note === null) out.note = K.second_note || "these second-order beliefs are not in this exported page; use simworld replay";
    out.facts = page.map((x) => x.item);
    return out;
  };

  SW.api = { HttpApi, LocalApi };
})();
