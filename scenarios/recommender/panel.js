/* The recommender scenario's panel, up to the cursor: sessions started over time in each arm, pages per
 * session and why sessions ended, the watch funnel (shown -> noticed -> watched -> rated) per arm, and for
 * one viewer (the agent selected in the agent view, or one picked here) every page they were shown with
 * what they noticed, watched and rated. Strings from the log go in as text only (ctx.h / ctx.svg). */
(function () {
  "use strict";
  const LIMIT = 200000;
  const PALETTE = ["#2f6db5", "#d1762b", "#3a9d5d", "#b03a6f", "#7a5cc2", "#8c6d1f", "#1f8f9a", "#c23b3b"];

  const state = { events: [], arms: [], sessions: new Map(), users: [], titles: new Map(), picked: null, capped: false };

  function colorOf(arm) {
    const i = state.arms.indexOf(arm);
    return PALETTE[(i < 0 ? 0 : i) % PALETTE.length];
  }

  function build(events) {
    const arms = new Set();
    const users = new Set();
    for (const ev of events) {
      const d = ev.data || {};
      if (ev.kind === "recommender.catalogue") {
        (d.ids || []).forEach((id, i) => state.titles.set(String(id), String((d.titles || [])[i] || id)));
        continue;
      }
      if (d.arm !== undefined) arms.add(String(d.arm));
      if (ev.kind === "recommender.session_started") {
        const user = String(d.user !== undefined ? d.user : ev.agent);
        users.add(user);
        state.sessions.set(String(d.session), { id: String(d.session), user, arm: String(d.arm), start: ev, pages: [],
          watched: [], rated: [], end: null });
        continue;
      }
      const s = state.sessions.get(String(d.session));
      if (!s) continue;
      if (ev.kind === "recommender.page_shown") s.pages.push(ev);
      else if (ev.kind === "recommender.watched") s.watched.push(ev);
      else if (ev.kind === "recommender.rated") s.rated.push(ev);
      else if (ev.kind === "recommender.session_ended") s.end = ev;
    }
    state.arms = [...arms].sort();
    state.users = [...users].sort();
  }

  function sessionsChart(ctx, cursor) {
    const { svg } = ctx;
    const W = 560, H = 190, L = 40, R = 90, T = 10, B = 24;
    const starts = [...state.sessions.values()].map((s) => s.start);
    const t0 = ctx.meta.t_min;
    const t1 = ctx.meta.t_max > t0 ? ctx.meta.t_max : t0 + 1;
    const counts = new Map(state.arms.map((a) => [a, 0]));
    const series = new Map(state.arms.map((a) => [a, [[t0, 0]]]));
    for (const ev of starts.sort((a, b) => a.seq - b.seq)) {
      if (ev.seq > cursor.seq) break;
      const arm = String(ev.data.arm);
      counts.set(arm, counts.get(arm) + 1);
      series.get(arm).push([ev.t, counts.get(arm)]);
    }
    const top = Math.max(1, ...counts.values());
    const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
    const y = (n) => T + (1 - n / top) * (H - T - B);
    const g = svg("svg", { class: "chart", id: "rec-sessions", viewBox: `0 0 ${W} ${H}`, role: "img",
      "aria-label": "sessions started per arm over time" });
    g.append(svg("line", { x1: L, x2: W - R, y1: y(0), y2: y(0), class: "axis" }),
      svg("line", { x1: L, x2: L, y1: T, y2: H - B, class: "axis" }),
      svg("text", { x: L - 4, y: y(top) + 3, "text-anchor": "end", class: "tick", text: String(top) }),
      svg("text", { x: L - 4, y: y(0) + 3, "text-anchor": "end", class: "tick", text: "0" }),
      svg("text", { x: L, y: H - 8, class: "tick", text: "t=" + ctx.fmtTime(t0) }),
      svg("text", { x: W - R, y: H - 8, "text-anchor": "end", class: "tick", text: "t=" + ctx.fmtTime(t1) }));
    for (const arm of state.arms) {
      const pts = series.get(arm);
      pts.push([Math.min(cursor.t, t1), counts.get(arm)]);
      const d = pts.map(([t, n], i) => (i ? `L${x(t)},${y(pts[i - 1][1])} L` : "M") + `${x(t)},${y(n)}`).join(" ");
      g.append(svg("path", { d, stroke: colorOf(arm), class: "line strong", dataset: { arm } }),
        svg("text", { x: W - R + 4, y: y(counts.get(arm)) + 3, class: "lbl", text: `${arm} ${counts.get(arm)}` }));
    }
    g.append(svg("line", { x1: x(cursor.t), x2: x(cursor.t), y1: T, y2: H - B, class: "now" }));
    return g;
  }

  /** Per arm, up to the cursor: sessions, pages per ended session, exit reasons, and the watch funnel. */
  function armFigures(cursor) {
    const out = new Map(state.arms.map((a) => [a, { started: 0, ended: 0, pages: 0, reasons: {}, shown: 0, noticed: 0,
      watched: 0, rated: 0 }]));
    for (const s of state.sessions.values()) {
      if (s.start.seq > cursor.seq) continue;
      const f = out.get(s.arm);
      f.started += 1;
      for (const p of s.pages) {
        if (p.seq > cursor.seq) continue;
        f.shown += (p.data.items || []).length;
        f.noticed += (p.data.noticed || []).length;
      }
      f.watched += s.watched.filter((e) => e.seq <= cursor.seq).length;
      f.rated += s.rated.filter((e) => e.seq <= cursor.seq).length;
      if (s.end && s.end.seq <= cursor.seq) {
        f.ended += 1;
        f.pages += Number(s.end.data.pages) || 0;
        const reason = String(s.end.data.reason);
        f.reasons[reason] = (f.reasons[reason] || 0) + 1;
      }
    }
    return out;
  }

  function armsTable(ctx, figures) {
    const { h } = ctx;
    return h("table", { class: "records", id: "rec-arms" },
      h("thead", null, h("tr", null, ["arm", "sessions", "ended", "pages / session", "exit reasons"].map((c) => h("th", null, c)))),
      h("tbody", null, state.arms.map((arm) => {
        const f = figures.get(arm);
        const sw = h("span", { class: "sw" });
        sw.style.background = colorOf(arm);
        const reasons = Object.entries(f.reasons).sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`).join(", ");
        return h("tr", { dataset: { arm } }, h("td", null, sw, arm), h("td", { class: "num" }, String(f.started)),
          h("td", { class: "num" }, String(f.ended)),
          h("td", { class: "num" }, f.ended ? ctx.fmtNum(Math.round((f.pages / f.ended) * 100) / 100) : "–"),
          h("td", null, reasons || "–"));
      })));
  }

  function funnel(ctx, figures) {
    const { h } = ctx;
    const steps = ["shown", "noticed", "watched", "rated"];
    return h("table", { class: "records funnel", id: "rec-funnel" },
      h("thead", null, h("tr", null, h("th", null, "arm"), steps.map((s) => h("th", null, s)))),
      h("tbody", null, state.arms.map((arm) => {
        const f = figures.get(arm);
        return h("tr", { dataset: { arm } }, h("td", null, arm), steps.map((step) => {
          const bar = h("span", { class: "bar" });
          bar.style.width = (f.shown ? Math.round((f[step] / f.shown) * 80) : 0) + "px";
          bar.style.background = colorOf(arm);
          const pct = f.shown ? ` (${Math.round((f[step] / f.shown) * 1000) / 10}%)` : "";
          return h("td", { class: "num", dataset: { step } }, bar, " ", `${f[step]}${step === "shown" ? "" : pct}`);
        }));
      })));
  }

  function viewerPages(ctx, user, cursor) {
    const { h } = ctx;
    const sessions = [...state.sessions.values()].filter((s) => s.user === user && s.start.seq <= cursor.seq);
    if (!sessions.length) return h("p", { class: "muted small", id: "rec-viewer" }, `${user} has no session yet`);
    const rows = [];
    for (const s of sessions) {
      const watched = new Map(s.watched.filter((e) => e.seq <= cursor.seq).map((e) => [`${e.data.page}:${e.data.item}`, e]));
      const rated = new Map(s.rated.filter((e) => e.seq <= cursor.seq).map((e) => [String(e.data.item), e.data.rating]));
      for (const p of s.pages.filter((e) => e.seq <= cursor.seq)) {
        const noticed = new Set(p.data.noticed || []);
        const chips = (p.data.items || []).map((item, pos) => {
          const id = String(item);
          const w = watched.has(`${p.data.page}:${id}`);
          const cls = ["chip", noticed.has(pos) ? "noticed" : "unnoticed", w ? "watched" : "", w && rated.has(id) ? "rated" : ""];
          const mark = w ? (rated.has(id) ? ` ▶ ★${rated.get(id)}` : " ▶") : noticed.has(pos) ? " ·" : "";
          return h("span", { class: cls.filter(Boolean).join(" "), title: state.titles.get(id) || id, dataset: { item: id } }, id + mark);
        });
        rows.push(h("tr", { dataset: { seq: String(p.seq), session: s.id } },
          h("td", null, h("button", { class: "link", onclick: () => ctx.setCursor(p.seq) }, s.id)),
          h("td", null, s.arm), h("td", { class: "num" }, String(p.data.page)), h("td", null, h("span", { class: "chips" }, chips))));
      }
      if (s.end && s.end.seq <= cursor.seq) {
        rows.push(h("tr", { class: "muted", dataset: { session: s.id } }, h("td", null, s.id), h("td", null, s.arm), h("td", null, ""),
          h("td", { class: "small" }, `left: ${s.end.data.reason} after ${s.end.data.pages} pages, ${s.end.data.watched} watched`)));
      }
    }
    return h("table", { class: "records", id: "rec-viewer" },
      h("thead", null, h("tr", null, ["session", "arm", "page", "items (· noticed, ▶ watched, ★ rating)"].map((c) => h("th", null, c)))),
      h("tbody", null, rows.slice(-60)));
  }

  const panel = {
    title: "Recommender",

    async init(ctx) {
      const events = [];
      for (let offset = 0; offset < LIMIT; ) {
        const res = await ctx.api.events({ kind: "recommender.*", offset, limit: 5000 });
        events.push(...res.events);
        offset += res.events.length;
        if (!res.events.length || offset >= res.total) break;
        if (offset >= LIMIT) state.capped = true;
      }
      build(events);
    },

    render(ctx, root) {
      const { h, clear } = ctx;
      const cursor = ctx.cursor;
      clear(root);
      if (!state.sessions.size) {
        root.appendChild(h("p", { class: "muted" }, "no recommender session in this run"));
        return;
      }
      const figures = armFigures(cursor);
      const user = state.picked || (state.users.includes(ctx.agent) ? ctx.agent : state.users[0]);
      const pick = h("select", { id: "rec-viewer-pick", "aria-label": "viewer" },
        state.users.slice(0, 2000).map((u) => h("option", { value: u, selected: u === user }, u)));
      pick.addEventListener("change", () => { state.picked = pick.value; panel.render(ctx, root); });
      ctx.append(root, [h("div", { class: "auction-layout" },
        h("div", null, h("h3", null, "Sessions started, by arm"), sessionsChart(ctx, cursor)),
        h("div", null, h("h3", null, "Arms"), armsTable(ctx, figures), h("h3", null, "Watch funnel"), funnel(ctx, figures))),
      h("h3", null, "A viewer's pages: ", pick),
      h("div", { class: "scroll-x" }, viewerPages(ctx, user, cursor)),
      state.capped ? h("p", { class: "muted small" }, `showing the first ${LIMIT} recommender events`) : null]);
    },

    summary(ev) {
      const d = ev.data || {};
      const items = (list) => (list || []).slice(0, 6).join(", ") + ((list || []).length > 6 ? ", …" : "");
      switch (ev.kind) {
        case "recommender.catalogue": return `${(d.ids || []).length} items in the catalogue`;
        case "recommender.session_started": return `${d.user} starts session ${d.n} (${d.arm})`;
        case "recommender.page_shown": return `${d.session} page ${d.page} (${d.arm}): ${items(d.items)}; noticed ${(d.noticed || []).length}`;
        case "recommender.watched": return `${ev.agent} watches ${d.title || d.item} (page ${d.page}, position ${d.position})`;
        case "recommender.rated": return `${ev.agent} rates ${d.item} ${d.rating}`;
        case "recommender.skipped": return `${ev.agent} skips ${items(d.items)}`;
        case "recommender.session_ended": return `${d.session} ended: ${d.reason} after ${d.pages} pages, ${d.watched} watched`;
        default: return undefined;
      }
    },
  };
  simworld.registerPanel("recommender", panel);
})();
