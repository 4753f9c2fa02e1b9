/* The auction scenario's panel: per lot, the price ladder (asks or clock, bids, drop-outs, private values,
 * hammer price and true value) as SVG, the bids table, and every lot at a glance. It also tells the
 * agent view the truth behind a profiler's beliefs: auction.valuations holds each bidder's private value,
 * agent.joined each bidder's budget and top priority.
 *
 * A template for a custom panel: simworld.registerPanel(name, {title, init(ctx), render(ctx, root),
 * truth(belief, ctx), summary(event, ctx)}); only render is required. Build DOM with ctx.h / ctx.svg,
 * which put strings in as text. */
(function () {
  "use strict";
  const KINDS = "auction.*";
  const LIMIT = 20000;
  const PALETTE = ["#2f6db5", "#d1762b", "#3a9d5d", "#b03a6f", "#7a5cc2", "#8c6d1f", "#1f8f9a", "#c23b3b", "#5d6b7a", "#9a9a1f"];

  const state = { lots: [], values: new Map(), roles: new Map(), colors: new Map(), capped: false };

  function compact(x) {
    const a = Math.abs(x);
    if (a >= 1e9) return (x / 1e9).toFixed(2) + "G";
    if (a >= 1e6) return (x / 1e6).toFixed(2) + "M";
    if (a >= 1e4) return (x / 1e3).toFixed(1) + "k";
    return a >= 10 ? x.toFixed(0) : x.toPrecision(3);
  }

  function money(ctx, x) { return typeof x === "number" ? ctx.fmtNum(Math.round(x * 100) / 100) : "–"; }

  function buildLots(events) {
    const lots = [];
    let cur = null;
    for (const ev of events) {
      const d = ev.data || {};
      if (ev.kind === "auction.opened") {
        cur = { lot: d.lot, item: (d.item && d.item.id) || "?", itemData: d.item || {}, format: d.format, reserve: d.reserve,
          open: ev, events: [], values: null, end: null, outcome: null };
        lots.push(cur);
        continue;
      }
      if (ev.kind === "auction.valuations") {
        state.values.set(String(d.item), d.values || {});
        if (cur && String(d.item) === cur.item) cur.values = d.values || {};
        continue;
      }
      if (!cur) continue;
      cur.events.push(ev);
      if (ev.kind === "auction.sold" || ev.kind === "auction.unsold") {
        cur.end = ev;
        cur.outcome = ev;
      }
    }
    return lots;
  }

  function colorOf(id) {
    if (!state.colors.has(id)) state.colors.set(id, PALETTE[state.colors.size % PALETTE.length]);
    return state.colors.get(id);
  }

  function ladder(ctx, lot, cursor) {
    const { svg } = ctx;
    const W = 640, H = 300, L = 50, R = 130, T = 14, B = 26;
    const evs = lot.events;
    const t0 = lot.open.t;
    const tEnd = Math.max(t0 + 1e-9, ...evs.map((e) => e.t));
    const prices = [lot.itemData.starting_price];
    for (const e of evs) {
      const d = e.data || {};
      for (const k of ["amount", "ask", "price"]) if (typeof d[k] === "number") prices.push(d[k]);
      if (typeof d.true_value === "number") prices.push(d.true_value);
    }
    for (const v of Object.values(lot.values || {})) if (typeof v === "number") prices.push(v);
    const ps = prices.filter((p) => typeof p === "number" && isFinite(p));
    let lo = Math.min(...ps), hi = Math.max(...ps);
    if (!(hi > lo)) { lo -= 1; hi += 1; }
    const pad = (hi - lo) * 0.06;
    lo -= pad; hi += pad;
    const x = (t) => L + ((t - t0) / (tEnd - t0 || 1)) * (W - L - R);
    const y = (p) => T + (1 - (p - lo) / (hi - lo)) * (H - T - B);
    const fut = (e) => (e.seq > cursor.seq ? "future" : "");
    const g = svg("svg", { class: "ladder", id: "auction-ladder", viewBox: `0 0 ${W} ${H}`, role: "img",
      "aria-label": `price ladder of lot ${lot.lot}` });
    for (let i = 0; i <= 4; i++) {
      const p = lo + ((hi - lo) * i) / 4;
      g.append(svg("line", { x1: L, x2: W - R, y1: y(p), y2: y(p), class: "grid" }),
        svg("text", { x: L - 4, y: y(p) + 3, "text-anchor": "end", class: "tick", text: compact(p) }));
    }
    g.append(svg("line", { x1: L, x2: L, y1: T, y2: H - B, class: "axis" }),
      svg("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis" }),
      svg("text", { x: L, y: H - 8, class: "tick", text: "t=" + ctx.fmtTime(t0) }),
      svg("text", { x: W - R, y: H - 8, "text-anchor": "end", class: "tick", text: "t=" + ctx.fmtTime(tEnd) }));
    // asks (English) or the clock (Dutch) as a dashed step line
    const steps = evs.filter((e) => e.kind === "auction.ask" || e.kind === "auction.clock");
    if (steps.length) {
      let dpath = "";
      steps.forEach((e, i) => {
        const p = e.kind === "auction.ask" ? e.data.ask : e.data.price;
        const next = i + 1 < steps.length ? steps[i + 1].t : tEnd;
        dpath += `${i ? "L" : "M"}${x(e.t)},${y(p)} L${x(next)},${y(p)} `;
      });
      g.append(svg("path", { d: dpath, class: "ask" }));
    }
    // private values (the truth) as coloured ticks on the right
    const labels = Object.entries(lot.values || {}).filter(([, v]) => typeof v === "number")
      .map(([bidder, v]) => ({ bidder, v, at: y(v) })).sort((a, b) => a.at - b.at);
    labels.forEach((l, i) => { if (i && l.at - labels[i - 1].at < 10) l.at = labels[i - 1].at + 10; });
    for (const { bidder, v, at } of labels) {
      const c = colorOf(bidder);
      g.append(svg("line", { x1: W - R + 2, x2: W - R + 18, y1: y(v), y2: y(v), stroke: c, class: "value" },
        svg("title", { text: `${bidder}'s private value ${money(ctx, v)}` })),
      svg("text", { x: W - R + 21, y: at + 3, class: "lbl", text: `${bidder} ${compact(v)}` }));
    }
    for (const e of evs) {
      const d = e.data || {};
      if (e.kind === "auction.bid") {
        g.append(svg("circle", { cx: x(e.t), cy: y(d.amount), r: 4.5, fill: colorOf(String(d.bidder)), class: "bid " + fut(e),
          dataset: { seq: String(e.seq) } }, svg("title", { text: `#${e.seq} ${d.bidder} bids ${money(ctx, d.amount)} at t=${ctx.fmtTime(e.t)}` })));
      } else if (e.kind === "auction.dropped") {
        const cx = x(e.t), cy = y(d.price);
        g.append(svg("path", { d: `M${cx - 3},${cy - 3} L${cx + 3},${cy + 3} M${cx - 3},${cy + 3} L${cx + 3},${cy - 3}`,
          stroke: "#6b7075", class: fut(e) }, svg("title", { text: `${(d.bidders || []).join(", ")} drop out at ${money(ctx, d.price)}` })));
      } else if (e.kind === "auction.sold") {
        const cx = x(e.t), cy = y(d.price);
        g.append(svg("path", { d: `M${cx},${cy - 6} L${cx + 6},${cy} L${cx},${cy + 6} L${cx - 6},${cy} Z`, class: "sold " + fut(e) },
          svg("title", { text: `sold to ${d.winner} at ${money(ctx, d.price)}` })));
        if (typeof d.true_value === "number") {
          g.append(svg("line", { x1: L, x2: W - R, y1: y(d.true_value), y2: y(d.true_value), class: "truth " + fut(e) }),
            svg("text", { x: L + 4, y: y(d.true_value) - 3, class: "lbl " + fut(e), text: "true value " + money(ctx, d.true_value) }));
        }
      }
    }
    if (cursor.t >= t0 && cursor.t <= tEnd && cursor.seq >= lot.open.seq) {
      g.append(svg("line", { x1: x(cursor.t), x2: x(cursor.t), y1: T, y2: H - B, class: "now" }));
    }
    return g;
  }

  function bidsTable(ctx, lot, cursor) {
    const { h } = ctx;
    const bids = lot.events.filter((e) => e.kind === "auction.bid" && e.seq <= cursor.seq);
    if (!bids.length) return h("p", { class: "muted small" }, "no bids yet");
    return h("table", { class: "bids", id: "auction-bids" },
      h("thead", null, h("tr", null, ["#", "t", "bidder", "bid", "value", "bid / value"].map((c) => h("th", null, c)))),
      h("tbody", null, bids.map((e) => {
        const d = e.data || {};
        const v = lot.values ? lot.values[d.bidder] : undefined;
        const sw = h("span", { class: "sw" });
        sw.style.background = colorOf(String(d.bidder));
        return h("tr", { dataset: { seq: String(e.seq) } }, h("td", { class: "seq" }, String(e.seq)), h("td", null, ctx.fmtTime(e.t)),
          h("td", null, sw, String(d.bidder)), h("td", { class: "num" }, money(ctx, d.amount)),
          h("td", { class: "num" }, money(ctx, v)),
          h("td", { class: "num" }, typeof v === "number" && v ? ctx.fmtNum(d.amount / v) : "–"));
      })));
  }

  function lotsTable(ctx, current, cursor) {
    const { h } = ctx;
    return h("table", { class: "lots", id: "auction-lots" },
      h("thead", null, h("tr", null, ["lot", "item", "outcome", "price", "true value"].map((c) => h("th", null, c)))),
      h("tbody", null, state.lots.map((lot) => {
        const out = lot.outcome && lot.outcome.seq <= cursor.seq ? lot.outcome : null;
        const d = out ? out.data : {};
        const what = !out ? (lot.open.seq <= cursor.seq ? "open" : "later")
          : out.kind === "auction.sold" ? "sold to " + d.winner : "unsold (" + d.reason + ")";
        return h("tr", { class: lot === current ? "current" : "", dataset: { lot: String(lot.lot) } },
          h("td", null, h("button", { class: "link", onclick: () => ctx.setCursor(lot.open.seq) }, String(lot.lot))),
          h("td", null, String(lot.item)), h("td", null, what),
          h("td", { class: "num" }, out && out.kind === "auction.sold" ? money(ctx, d.price) : "–"),
          h("td", { class: "num" }, out && typeof d.true_value === "number" ? money(ctx, d.true_value) : "–"));
      })));
  }

  simworld.registerPanel("auction", {
    title: "Auction",

    async init(ctx) {
      const events = [];
      for (let offset = 0; offset < LIMIT; ) {
        const res = await ctx.api.events({ kind: KINDS, offset, limit: 5000 });
        events.push(...res.events);
        offset += res.events.length;
        if (!res.events.length || offset >= res.total) break;
        state.capped = offset >= LIMIT;
      }
      state.lots = buildLots(events);
      // each bidder's role as it joined: the truth of budget and priority beliefs
      for (let offset = 0; ; ) {
        const res = await ctx.api.events({ kind: "agent.joined", offset, limit: 5000 });
        for (const ev of res.events) {
          const persona = (ev.data && ev.data.persona) || {};
          state.roles.set(String(ev.agent), (persona.roles && persona.roles.bidder) || {});
        }
        offset += res.events.length;
        if (!res.events.length || offset >= res.total) break;
      }
      ctx.meta.agents.forEach((a) => colorOf(a.id));
    },

    render(ctx, root) {
      const { h, clear } = ctx;
      const cursor = ctx.cursor;
      clear(root);
      if (!state.lots.length) {
        root.appendChild(h("p", { class: "muted" }, "no lots in this run"));
        return;
      }
      let current = state.lots[0];
      for (const lot of state.lots) if (lot.open.seq <= cursor.seq) current = lot;
      const it = current.itemData;
      ctx.append(root, [h("div", { class: "auction-layout" },
        h("div", null,
          h("div", { class: "lot-head" }, h("strong", null, `Lot ${current.lot}: ${current.item}`),
            ` · ${current.format} · starting price ${money(ctx, it.starting_price)}`,
            current.reserve ? ` · reserve ${money(ctx, current.reserve)}` : ""),
          ladder(ctx, current, cursor),
          h("div", { class: "legend" }, Object.keys(current.values || {}).map((b) => {
            const sw = h("span", { class: "sw" });
            sw.style.background = colorOf(b);
            return h("span", null, sw, b);
          }))),
        h("div", null,
          h("h3", null, "Bids"), bidsTable(ctx, current, cursor),
          h("h3", null, "Lots"), lotsTable(ctx, current, cursor),
          state.capped ? h("p", { class: "muted small" }, `showing the first ${LIMIT} auction events`) : null))]);
    },

    /** The truth behind a belief: a rival's private value of an item (profiler beliefs), or its budget or
     * top priority category as its bidder role states them in agent.joined. */
    truth(belief) {
      if (belief.key === "budget" || belief.key === "priority") {
        const role = state.roles.get(String(belief.about));
        const t = role ? role[belief.key] : undefined;
        return t === null ? undefined : t;
      }
      if (belief.key !== "value" || !belief.extra || belief.extra.item === undefined) return undefined;
      const values = state.values.get(String(belief.extra.item));
      return values ? values[belief.about] : undefined;
    },

    summary(ev, ctx) {
      const d = ev.data || {};
      const m = (x) => money(ctx, x);
      switch (ev.kind) {
        case "auction.opened": return `lot ${d.lot}: ${d.item && d.item.id} opens at ${m(d.item && d.item.starting_price)} (${d.format})`;
        case "auction.valuations": return `private values for ${d.item}`;
        case "auction.ask": return `ask ${m(d.ask)} on ${d.item}` + (d.leader ? ` (leader ${d.leader})` : "");
        case "auction.clock": return `clock at ${m(d.price)} on ${d.item}`;
        case "auction.bid": return `${d.bidder} bids ${m(d.amount)} on ${d.item}`;
        case "auction.dropped": return `${(d.bidders || []).join(", ")} drop out at ${m(d.price)}`;
        case "auction.rejected": return `${d.bidder}'s ${m(d.amount)} rejected (${d.reason})`;
        case "auction.bids_revealed": return `bids revealed for ${d.item}`;
        case "auction.sold": return `${d.item} sold to ${d.winner} at ${m(d.price)}`;
        case "auction.unsold": return `${d.item} unsold (${d.reason})`;
        default: return undefined;
      }
    },
  });
})();
