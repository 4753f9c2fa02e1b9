/* The emotional-support scenario's panel: every session at a glance, and for the session at the cursor (or
 * the one picked) the seeker's intensity over the supporter's turns with the strategy used at each turn,
 * what the seeker disclosed, and how the session ended. It also tells the agent view the truth behind a
 * supporter's beliefs about its seeker (problem, emotion, intensity at the time). Strings from the log go
 * in as text only (ctx.h / ctx.svg). */
(function () {
  "use strict";
  const LIMIT = 50000;
  const STRATEGY_COLORS = ["#2f6db5", "#d1762b", "#3a9d5d", "#b03a6f", "#7a5cc2", "#8c6d1f", "#1f8f9a", "#c23b3b", "#5d6b7a"];

  const state = { sessions: [], byId: new Map(), bySeeker: new Map(), colors: new Map(), picked: null, capped: false };

  function colorOf(strategy) {
    const key = String(strategy);
    if (!state.colors.has(key)) state.colors.set(key, STRATEGY_COLORS[state.colors.size % STRATEGY_COLORS.length]);
    return state.colors.get(key);
  }

  function build(events) {
    const sessions = new Map();
    const get = (id) => {
      const key = String(id);
      if (!sessions.has(key)) {
        sessions.set(key, { id: key, start: null, strategies: [], intensity: [], disclosed: [], feedback: [], end: null });
      }
      return sessions.get(key);
    };
    for (const ev of events) {
      const d = ev.data || {};
      if (d.session === undefined) continue;
      const s = get(d.session);
      if (ev.kind === "support.session_started") s.start = ev;
      else if (ev.kind === "support.strategy") s.strategies.push(ev);
      else if (ev.kind === "support.intensity") s.intensity.push(ev);
      else if (ev.kind === "support.disclosed") s.disclosed.push(ev);
      else if (ev.kind === "support.feedback") s.feedback.push(ev);
      else if (ev.kind === "support.session_ended") s.end = ev;
    }
    const list = [...sessions.values()].filter((s) => s.start).sort((a, b) => a.start.seq - b.start.seq);
    for (const s of list) {
      const seeker = String(s.start.data.seeker);
      if (!state.bySeeker.has(seeker)) state.bySeeker.set(seeker, []);
      state.bySeeker.get(seeker).push(s);
      state.byId.set(s.id, s);
    }
    return list;
  }

  /** The session the cursor is in: the last one with an event at or before it. */
  function atCursor(cursor) {
    let best = null;
    let bestSeq = -1;
    for (const s of state.sessions) {
      for (const ev of [s.start, ...s.strategies, ...s.intensity, ...s.disclosed, ...s.feedback, s.end]) {
        if (ev && ev.seq <= cursor.seq && ev.seq > bestSeq) {
          best = s;
          bestSeq = ev.seq;
        }
      }
    }
    return best || state.sessions[0];
  }

  /** (turn, intensity, strategy, event) points, from the start of the session. */
  function points(s) {
    const d0 = s.start.data || {};
    const pts = [];
    const first = s.intensity.length ? s.intensity[0].data.previous : d0.intensity;
    if (typeof first === "number") pts.push({ turn: 0, value: first, strategy: null, ev: s.start });
    s.intensity.forEach((ev, i) => pts.push({ turn: i + 1, value: ev.data.intensity, strategy: ev.data.strategy, ev }));
    return pts;
  }

  function chart(ctx, s, cursor) {
    const { svg } = ctx;
    const W = 620, H = 230, L = 36, R = 14, T = 12, B = 30;
    const pts = points(s);
    const turns = Math.max(1, pts.length - 1, (s.end && s.end.data.turns) || 0);
    const x = (turn) => L + (turn / turns) * (W - L - R);
    const y = (v) => T + (1 - (Math.max(1, Math.min(5, v)) - 1) / 4) * (H - T - B);
    const g = svg("svg", { class: "chart", id: "support-chart", viewBox: `0 0 ${W} ${H}`, role: "img",
      "aria-label": `intensity over the turns of ${s.id}` });
    for (let v = 1; v <= 5; v++) {
      g.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }),
        svg("text", { x: L - 4, y: y(v) + 3, "text-anchor": "end", class: "tick", text: String(v) }));
    }
    g.append(svg("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis" }),
      svg("text", { x: L, y: H - 16, class: "tick", text: "start" }),
      svg("text", { x: W - R, y: H - 16, "text-anchor": "end", class: "tick", text: `turn ${turns}` }),
      svg("text", { x: (W + L) / 2, y: H - 4, "text-anchor": "middle", class: "tick", text: "supporter turns" }));
    const past = pts.filter((p) => p.ev.seq <= cursor.seq);
    const path = (list) => list.map((p, i) => `${i ? "L" : "M"}${x(p.turn)},${y(p.value)}`).join(" ");
    if (pts.length > past.length) g.append(svg("path", { d: path(pts), stroke: "#6b7075", class: "line future" }));
    if (past.length) g.append(svg("path", { d: path(past), stroke: "#6b7075", class: "line strong" }));
    for (const p of pts) {
      const fut = p.ev.seq > cursor.seq ? " future" : "";
      g.append(svg("circle", { cx: x(p.turn), cy: y(p.value), r: 4.5, fill: p.strategy ? colorOf(p.strategy) : "#1d1f21",
        class: "point" + fut, dataset: { seq: String(p.ev.seq) } },
      svg("title", { text: p.strategy ? `turn ${p.turn}: ${p.strategy}, intensity ${ctx.fmtNum(Math.round(p.value * 100) / 100)}`
        : `start: intensity ${ctx.fmtNum(p.value)}` })));
    }
    return g;
  }

  function turnsTable(ctx, s, cursor) {
    const { h } = ctx;
    const pts = points(s).filter((p) => p.strategy !== null && p.ev.seq <= cursor.seq);
    if (!pts.length) return h("p", { class: "muted small", id: "support-turns" }, "no supporter turn yet");
    return h("table", { class: "records", id: "support-turns" },
      h("thead", null, h("tr", null, ["turn", "strategy", "intensity", "change", "trust"].map((c) => h("th", null, c)))),
      h("tbody", null, pts.map((p) => {
        const d = p.ev.data || {};
        const sw = h("span", { class: "sw" });
        sw.style.background = colorOf(p.strategy);
        const change = typeof d.previous === "number" ? d.intensity - d.previous : undefined;
        return h("tr", { dataset: { seq: String(p.ev.seq) } },
          h("td", { class: "num" }, h("button", { class: "link", onclick: () => ctx.setCursor(p.ev.seq) }, String(p.turn))),
          h("td", null, sw, String(p.strategy)),
          h("td", { class: "num" }, ctx.fmtNum(Math.round(d.intensity * 100) / 100)),
          h("td", { class: "num" }, change === undefined ? "" : (change >= 0 ? "+" : "") + ctx.fmtNum(Math.round(change * 100) / 100)),
          h("td", { class: "num" }, ctx.brief(d.trust, 6)));
      })));
  }

  function disclosures(ctx, s, cursor) {
    const { h } = ctx;
    const seen = s.disclosed.filter((ev) => ev.seq <= cursor.seq);
    if (!seen.length) return h("p", { class: "muted small", id: "support-disclosed" }, "nothing disclosed yet");
    return h("ul", { class: "mini-list", id: "support-disclosed" }, seen.map((ev) =>
      h("li", { dataset: { seq: String(ev.seq) } }, h("strong", null, String(ev.data.part)), ": ", String(ev.data.value))));
  }

  function ending(ctx, s, cursor) {
    const { h } = ctx;
    if (!s.end || s.end.seq > cursor.seq) return h("p", { class: "muted small", id: "support-end" }, "the session goes on");
    const d = s.end.data || {};
    const fb = s.feedback.filter((ev) => ev.seq <= cursor.seq).map((ev) => ev.data.score);
    return h("p", { id: "support-end" }, `ended: ${d.reason} after ${d.turns} turns`,
      typeof d.resolved_turn === "number" ? ` (resolved at turn ${d.resolved_turn})` : "",
      typeof d.initial_intensity === "number" && typeof d.final_intensity === "number"
        ? ` · intensity ${ctx.fmtNum(Math.round(d.initial_intensity * 100) / 100)} → ${ctx.fmtNum(Math.round(d.final_intensity * 100) / 100)}` : "",
      fb.length ? ` · feedback ${fb.join(", ")}` : "");
  }

  function sessionsTable(ctx, current, cursor, redraw) {
    const { h } = ctx;
    return h("table", { class: "records", id: "support-sessions" },
      h("thead", null, h("tr", null, ["session", "seeker → supporter", "arm", "problem", "status", "intensity"].map((c) => h("th", null, c)))),
      h("tbody", null, state.sessions.map((s) => {
        const d = s.start.data || {};
        const seen = s.intensity.filter((ev) => ev.seq <= cursor.seq);
        const status = s.start.seq > cursor.seq ? "later" : s.end && s.end.seq <= cursor.seq ? String(s.end.data.reason)
          : `turn ${seen.length}`;
        const now = seen.length ? seen[seen.length - 1].data.intensity : d.intensity;
        return h("tr", { class: s === current ? "current" : "", dataset: { session: s.id } },
          h("td", null, h("button", { class: "link", onclick: () => { state.picked = s.id; redraw(); } }, s.id)),
          h("td", null, `${d.seeker} → ${d.supporter}`), h("td", null, String(d.arm)),
          h("td", null, `${d.problem_type}, ${d.emotion_type}`), h("td", null, status),
          h("td", { class: "num" }, typeof now === "number" ? ctx.fmtNum(Math.round(now * 100) / 100) : "–"));
      })));
  }

  const panel = {
    title: "Support sessions",

    async init(ctx) {
      const events = [];
      for (let offset = 0; offset < LIMIT; ) {
        const res = await ctx.api.events({ kind: "support.*", offset, limit: 5000 });
        events.push(...res.events);
        offset += res.events.length;
        if (!res.events.length || offset >= res.total) break;
        if (offset >= LIMIT) state.capped = true;
      }
      state.sessions = build(events);
    },

    render(ctx, root) {
      const { h, clear } = ctx;
      const cursor = ctx.cursor;
      clear(root);
      if (!state.sessions.length) {
        root.appendChild(h("p", { class: "muted" }, "no support session in this run"));
        return;
      }
      const current = (state.picked && state.byId.get(state.picked)) || atCursor(cursor);
      const d = current.start.data || {};
      const legend = h("div", { class: "legend" }, [...new Set(current.intensity.map((ev) => String(ev.data.strategy)))].map((st) => {
        const sw = h("span", { class: "sw" });
        sw.style.background = colorOf(st);
        return h("span", null, sw, st);
      }));
      ctx.append(root, [
        h("div", { class: "lot-head", id: "support-head" }, h("strong", null, current.id),
          ` · ${d.seeker} with ${d.supporter} (${d.arm}) · ${d.problem_type}, ${d.emotion_type}`,
          state.picked ? " · " : "", state.picked ? h("button", { class: "link", onclick: () => { state.picked = null; panel.render(ctx, root); } },
            "follow the cursor") : ""),
        h("div", { class: "auction-layout" },
          h("div", null, chart(ctx, current, cursor), legend, h("p", { class: "small" }, String(d.situation || "")),
            ending(ctx, current, cursor)),
          h("div", null,
            h("h3", null, "Turns"), h("div", { class: "scroll-x" }, turnsTable(ctx, current, cursor)),
            h("h3", null, "Disclosed"), disclosures(ctx, current, cursor))),
        h("h3", null, "Sessions"), h("div", { class: "scroll-x" }, sessionsTable(ctx, current, cursor, () => panel.render(ctx, root))),
        state.capped ? h("p", { class: "muted small" }, `showing the first ${LIMIT} support events`) : null,
      ]);
    },

    /** The truth behind a supporter's belief about its seeker: problem, emotion, or intensity at the time. */
    truth(belief) {
      const sessions = state.bySeeker.get(String(belief.about));
      if (!sessions) return undefined;
      const s = sessions.filter((x) => x.start.seq <= belief.seq).pop() || sessions[0];
      const d = s.start.data || {};
      if (belief.key === "problem_type" || belief.key === "emotion_type") return d[belief.key];
      if (belief.key !== "intensity") return undefined;
      const before = s.intensity.filter((ev) => ev.seq <= belief.seq);
      return before.length ? before[before.length - 1].data.intensity : d.intensity;
    },

    summary(ev) {
      const d = ev.data || {};
      switch (ev.kind) {
        case "support.assigned": return `${Object.keys(d.pairs || {}).length} seekers paired (${d.matching})`;
        case "support.session_started": return `${d.seeker} with ${d.supporter} (${d.arm}): ${d.problem_type}, ${d.emotion_type}`;
        case "support.strategy": return `${d.supporter}, turn ${d.turn}: ${d.strategy}`;
        case "support.intensity": return `${d.seeker}: intensity ${Math.round(d.previous * 100) / 100} → ${Math.round(d.intensity * 100) / 100} (${d.strategy})`;
        case "support.disclosed": return `${d.seeker} discloses ${d.part}: ${d.value}`;
        case "support.feedback": return `${d.seeker} rates ${d.supporter} ${d.score}`;
        case "support.session_ended": return `${d.session} ended: ${d.reason} after ${d.turns} turns`;
        default: return undefined;
      }
    },
  };
  simworld.registerPanel("support", panel);
})();
