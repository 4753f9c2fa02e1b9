/* The debate scenario's panel: for the proposition under debate at the cursor, every participant's opinion
 * over time (belief.updated about the proposition, key "opinion", starting from debate.network's initial
 * opinions; the steps of the network dynamics marked on the time axis), the moves so far, and each
 * debater's share of the talk. Strings from the log go in as text only (ctx.h / ctx.svg). */
(function () {
  "use strict";
  const LIMIT = 50000;
  const FOR = "#2f6db5";
  const AGAINST = "#d1762b";
  const AUDIENCE = ["#5d6b7a", "#3a9d5d", "#7a5cc2", "#8c6d1f", "#1f8f9a", "#b03a6f", "#9a9a1f", "#6b7075"];

  const state = { props: [], network: null, capped: false };

  async function load(ctx, kind) {
    const out = [];
    for (let offset = 0; offset < LIMIT; ) {
      const res = await ctx.api.events({ kind, offset, limit: 5000 });
      out.push(...res.events);
      offset += res.events.length;
      if (!res.events.length || offset >= res.total) break;
      if (offset >= LIMIT) state.capped = true;
    }
    return out;
  }

  function sideName(side) { return side > 0 ? "for" : side < 0 ? "against" : "?"; }

  /** One record per proposition: its opening, moves, steps, verdict and opinion updates. */
  function build(debate, beliefs) {
    const props = new Map();
    const prop = (pid) => {
      const key = String(pid);
      if (!props.has(key)) {
        props.set(key, { id: key, text: "", open: null, debaters: {}, moves: [], steps: [], reactions: [],
          verdict: null, opinions: new Map() });
      }
      return props.get(key);
    };
    for (const ev of debate) {
      const d = ev.data || {};
      if (ev.kind === "debate.network") {
        state.network = d;
        for (const [pid, text] of Object.entries(d.propositions || {})) prop(pid).text = String(text);
        continue;
      }
      if (d.proposition === undefined) continue;
      const p = prop(d.proposition);
      if (ev.kind === "debate.opened") {
        p.open = ev;
        p.text = String(d.text || p.text);
        p.debaters = d.debaters || {};
      } else if (ev.kind === "debate.move") p.moves.push(ev);
      else if (ev.kind === "debate.step") p.steps.push(ev);
      else if (ev.kind === "debate.reaction") p.reactions.push(ev);
      else if (ev.kind === "debate.verdict") p.verdict = ev;
    }
    for (const ev of beliefs) {
      const d = ev.data || {};
      if (d.key !== "opinion" || !props.has(String(d.about)) || typeof d.value !== "number") continue;
      const series = props.get(String(d.about)).opinions;
      if (!series.has(ev.agent)) series.set(ev.agent, []);
      series.get(ev.agent).push({ seq: ev.seq, t: ev.t, value: d.value });
    }
    return [...props.values()].filter((p) => p.open).sort((a, b) => a.open.seq - b.open.seq);
  }

  function partOf(p, who) {
    if (p.debaters[who] !== undefined) return "debater";
    const parts = (state.network && state.network.parts) || {};
    return parts[who] ? String(parts[who]) : "audience";
  }

  function colorOf(p, who, i) {
    const side = p.debaters[who];
    if (side !== undefined) return side > 0 ? FOR : AGAINST;
    return AUDIENCE[i % AUDIENCE.length];
  }

  function initialOf(p, who) {
    const net = state.network;
    if (!net || !Array.isArray(net.nodes) || !net.initial || !Array.isArray(net.initial[p.id])) return undefined;
    const i = net.nodes.indexOf(who);
    return i >= 0 && typeof net.initial[p.id][i] === "number" ? net.initial[p.id][i] : undefined;
  }

  /** Each participant's opinion at the cursor (latest update at or before it), and at the start. */
  function opinionsAt(p, cursor) {
    const who = new Set([...p.opinions.keys(), ...Object.keys(p.debaters)]);
    return [...who].sort().map((id) => {
      const series = p.opinions.get(id) || [];
      const seen = series.filter((o) => o.seq <= cursor.seq);
      const start = initialOf(p, id) !== undefined ? initialOf(p, id) : (series[0] ? series[0].value : undefined);
      return { id, part: partOf(p, id), now: seen.length ? seen[seen.length - 1].value : start, start, updates: seen.length };
    });
  }

  function chart(ctx, p, cursor) {
    const { svg } = ctx;
    const W = 640, H = 260, L = 40, R = 110, T = 12, B = 26;
    const t0 = p.open.t;
    let tEnd = t0 + 1e-9;
    for (const s of p.opinions.values()) for (const o of s) tEnd = Math.max(tEnd, o.t);
    for (const m of p.moves) tEnd = Math.max(tEnd, m.t);
    if (p.verdict) tEnd = Math.max(tEnd, p.verdict.t);
    const x = (t) => L + ((Math.max(t, t0) - t0) / (tEnd - t0 || 1)) * (W - L - R);
    const y = (v) => T + (1 - (v + 1) / 2) * (H - T - B);
    const g = svg("svg", { class: "chart", id: "debate-chart", viewBox: `0 0 ${W} ${H}`, role: "img",
      "aria-label": `opinions on ${p.id} over time` });
    for (const v of [-1, -0.5, 0, 0.5, 1]) {
      g.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: v === 0 ? "axis" : "grid" }),
        svg("text", { x: L - 4, y: y(v) + 3, "text-anchor": "end", class: "tick", text: String(v) }));
    }
    g.append(svg("text", { x: L, y: H - 8, class: "tick", text: "t=" + ctx.fmtTime(t0) }),
      svg("text", { x: W - R, y: H - 8, "text-anchor": "end", class: "tick", text: "t=" + ctx.fmtTime(tEnd) }),
      svg("text", { x: W - R + 4, y: y(1) + 3, class: "tick", text: "for" }),
      svg("text", { x: W - R + 4, y: y(-1) + 3, class: "tick", text: "against" }));
    for (const s of p.steps) {
      g.append(svg("line", { x1: x(s.t), x2: x(s.t), y1: H - B, y2: H - B + 5, class: "step " + (s.seq > cursor.seq ? "future" : "") },
        svg("title", { text: `network step ${(s.data || {}).step} (${(s.data || {}).rule}) at t=${ctx.fmtTime(s.t)}` })));
    }
    const rows = opinionsAt(p, cursor);
    rows.forEach((r, i) => {
      const series = (p.opinions.get(r.id) || []).slice();
      const pts = [];
      if (r.start !== undefined && (!series.length || initialOf(p, r.id) !== undefined)) pts.push({ t: t0, value: r.start, seq: -1 });
      pts.push(...series);
      if (!pts.length) return;
      const color = colorOf(p, r.id, i);
      const past = pts.filter((o) => o.seq <= cursor.seq);
      // a step line: an opinion holds until its next update
      const step = (list) => list.map((o, j) => (j ? `L${x(o.t)},${y(list[j - 1].value)} L` : "M") + `${x(o.t)},${y(o.value)}`).join(" ");
      if (pts.length > past.length) g.append(svg("path", { d: step(pts), stroke: color, class: "line future" }));
      if (past.length) {
        const last = past[past.length - 1];
        const upToNow = step(past) + (cursor.t > last.t ? ` L${x(Math.min(cursor.t, tEnd))},${y(last.value)}` : "");
        g.append(svg("path", { d: upToNow, stroke: color, class: "line" + (r.part === "debater" ? " strong" : ""),
          dataset: { who: r.id } }, svg("title", { text: `${r.id}: ${ctx.fmtNum(r.now)}` })));
      }
    });
    if (cursor.seq >= p.open.seq && cursor.t <= tEnd) {
      g.append(svg("line", { x1: x(cursor.t), x2: x(cursor.t), y1: T, y2: H - B, class: "now" }));
    }
    return g;
  }

  function opinionTable(ctx, p, cursor) {
    const { h } = ctx;
    const rows = opinionsAt(p, cursor);
    return h("table", { class: "records", id: "debate-opinions" },
      h("thead", null, h("tr", null, ["participant", "part", "opinion", "at the start", "change", "updates"].map((c) => h("th", null, c)))),
      h("tbody", null, rows.map((r, i) => {
        const sw = h("span", { class: "sw" });
        sw.style.background = colorOf(p, r.id, i);
        const change = typeof r.now === "number" && typeof r.start === "number" ? r.now - r.start : undefined;
        return h("tr", { dataset: { who: r.id } },
          h("td", null, sw, h("button", { class: "link", onclick: () => ctx.selectAgent(r.id) }, r.id)),
          h("td", null, r.part + (p.debaters[r.id] !== undefined ? ` (${sideName(p.debaters[r.id])})` : "")),
          h("td", { class: "num" }, typeof r.now === "number" ? ctx.fmtNum(Math.round(r.now * 1000) / 1000) : "–"),
          h("td", { class: "num" }, typeof r.start === "number" ? ctx.fmtNum(Math.round(r.start * 1000) / 1000) : "–"),
          h("td", { class: "num" }, change === undefined ? "" : (change >= 0 ? "+" : "") + ctx.fmtNum(Math.round(change * 1000) / 1000)),
          h("td", { class: "num muted" }, String(r.updates)));
      })));
  }

  function movesTable(ctx, p, cursor) {
    const { h } = ctx;
    const moves = p.moves.filter((m) => m.seq <= cursor.seq);
    if (!moves.length) return h("p", { class: "muted small", id: "debate-moves" }, "no moves yet");
    return h("table", { class: "records", id: "debate-moves" },
      h("thead", null, h("tr", null, ["#", "round", "speaker", "side", "move", "strength", "seconds", ""].map((c) => h("th", null, c)))),
      h("tbody", null, moves.map((m) => {
        const d = m.data || {};
        const flags = [d.cut ? "cut off" : "", d.interrupted_by ? "interrupted by " + d.interrupted_by : "",
          d.interjection ? "interjection" : "", d.private ? "private" : ""].filter(Boolean).join(", ");
        return h("tr", { dataset: { seq: String(m.seq) } },
          h("td", null, h("button", { class: "link", onclick: () => ctx.setCursor(m.seq) }, String(m.seq))),
          h("td", { class: "num" }, String(d.round)), h("td", null, String(d.speaker)), h("td", null, sideName(d.side)),
          h("td", null, String(d.move)), h("td", { class: "num" }, ctx.brief(d.strength, 6)),
          h("td", { class: "num" }, ctx.brief(d.duration, 6)), h("td", { class: "small" }, flags));
      })));
  }

  function talkTable(ctx, p, cursor) {
    const { h } = ctx;
    const talk = new Map(Object.keys(p.debaters).map((id) => [id, { seconds: 0, moves: 0 }]));
    for (const m of p.moves) {
      const d = m.data || {};
      if (m.seq > cursor.seq || d.private) continue;
      const who = String(d.speaker);
      if (!talk.has(who)) talk.set(who, { seconds: 0, moves: 0 });
      talk.get(who).seconds += typeof d.duration === "number" ? d.duration : 0;
      talk.get(who).moves += 1;
    }
    const total = [...talk.values()].reduce((s, x) => s + x.seconds, 0);
    return h("table", { class: "records", id: "debate-talk" },
      h("thead", null, h("tr", null, ["speaker", "side", "moves", "seconds", "share of the talk"].map((c) => h("th", null, c)))),
      h("tbody", null, [...talk.entries()].map(([who, x]) => {
        const share = total > 0 ? x.seconds / total : 0;
        const bar = h("span", { class: "bar" });
        bar.style.width = Math.round(share * 120) + "px";
        bar.style.background = p.debaters[who] > 0 ? FOR : AGAINST;
        return h("tr", { dataset: { who } }, h("td", null, who), h("td", null, sideName(p.debaters[who])),
          h("td", { class: "num" }, String(x.moves)), h("td", { class: "num" }, ctx.fmtNum(Math.round(x.seconds * 10) / 10)),
          h("td", null, bar, " ", Math.round(share * 1000) / 10 + "%"));
      })));
  }

  function propsTable(ctx, current, cursor) {
    const { h } = ctx;
    return h("table", { class: "records", id: "debate-propositions" },
      h("thead", null, h("tr", null, ["proposition", "text", "moves", "verdict"].map((c) => h("th", null, c)))),
      h("tbody", null, state.props.map((p) => {
        const v = p.verdict && p.verdict.seq <= cursor.seq ? p.verdict.data || {} : null;
        const what = v ? `audience: ${v.audience_winner}, moderator: ${v.moderator_winner}`
          : p.open.seq <= cursor.seq ? "under debate" : "later";
        return h("tr", { class: p === current ? "current" : "", dataset: { proposition: p.id } },
          h("td", null, h("button", { class: "link", onclick: () => ctx.setCursor(p.open.seq) }, p.id)),
          h("td", null, ctx.brief(p.text, 80)),
          h("td", { class: "num" }, String(p.moves.filter((m) => m.seq <= cursor.seq).length)),
          h("td", null, what));
      })));
  }

  simworld.registerPanel("debate", {
    title: "Debate",

    async init(ctx) {
      const [debate, beliefs] = await Promise.all([load(ctx, "debate.*"), load(ctx, "belief.updated")]);
      state.props = build(debate, beliefs);
    },

    render(ctx, root) {
      const { h, clear } = ctx;
      const cursor = ctx.cursor;
      clear(root);
      if (!state.props.length) {
        root.appendChild(h("p", { class: "muted" }, "no proposition was debated in this run"));
        return;
      }
      let current = state.props[0];
      for (const p of state.props) if (p.open.seq <= cursor.seq) current = p;
      const v = current.verdict && current.verdict.seq <= cursor.seq ? current.verdict.data || {} : null;
      ctx.append(root, [
        h("div", { class: "lot-head", id: "debate-head" }, h("strong", null, `${current.id}: ${current.text}`),
          v ? ` · verdict: ${v.audience_winner} (for ${(v.tally || {}).for}, against ${(v.tally || {}).against}, ` +
            `undecided ${(v.tally || {}).undecided})` : ""),
        h("div", { class: "auction-layout" },
          h("div", null, chart(ctx, current, cursor),
            h("p", { class: "muted small" }, "opinions from -1 (against) to +1 (for); ticks under the axis: steps of the network dynamics"),
            h("h3", null, "Opinions at the cursor"), h("div", { class: "scroll-x" }, opinionTable(ctx, current, cursor))),
          h("div", null,
            h("h3", null, "Talk share"), talkTable(ctx, current, cursor),
            h("h3", null, "Moves so far"), h("div", { class: "scroll-x" }, movesTable(ctx, current, cursor)),
            h("h3", null, "Propositions"), propsTable(ctx, current, cursor),
            state.capped ? h("p", { class: "muted small" }, `showing the first ${LIMIT} events of each kind`) : null)),
      ]);
    },

    summary(ev) {
      const d = ev.data || {};
      switch (ev.kind) {
        case "debate.opened": return `${d.proposition} opens: ${d.text}`;
        case "debate.round": return `${d.proposition}: round ${d.round}`;
        case "debate.move": return `${d.speaker} (${sideName(d.side)}) ${d.move}, strength ${Math.round(d.strength * 100) / 100}` +
          (d.private ? " (private)" : "");
        case "debate.interrupted": return `${d.by} cuts into ${d.speaker}'s speech`;
        case "debate.reaction": return `${(d.applause || []).length} applaud, ${(d.boo || []).length} boo ${d.speaker}`;
        case "debate.step": return `${d.proposition}: network step ${d.step} (${d.rule})`;
        case "debate.left": return `${d.who} leaves`;
        case "debate.rejoined": return `${d.who} comes back`;
        case "debate.verdict": return `${d.proposition}: the audience says ${d.audience_winner}, the moderator ${d.moderator_winner}`;
        case "debate.round_closed": return `${d.proposition}: round ${d.round} closed`;
        default: return undefined;
      }
    },
  });
})();
