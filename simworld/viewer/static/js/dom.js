/* DOM helpers and generic renderers. Every string that comes from a run log is put into the page as a
 * text node (textContent / createTextNode), never as markup: that is the whole XSS defence, so nothing in
 * this viewer may use innerHTML, outerHTML, insertAdjacentHTML or document.write with log data. */
(function () {
  "use strict";
  const SW = (window.simworld = window.simworld || {});
  const SVG_NS = "http://www.w3.org/2000/svg";
  const UNSAFE_ATTR = /^on|^(href|src|srcdoc|action|formaction|xlink:href|style)$/i;

  function setAttrs(el, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") el.setAttribute("class", String(v));
      else if (k === "text") el.textContent = String(v);
      else if (k === "title") el.setAttribute("title", String(v));
      else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(el.dataset, v);
      else if (UNSAFE_ATTR.test(k)) throw new Error("refusing to set attribute " + k);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }

  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  /** h("div", {class: "x"}, "text", child): an HTML element; strings become text nodes. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    setAttrs(el, attrs);
    return append(el, children);
  }

  /** svg("rect", {x: 1}): an SVG element (attributes only; text through the "text" attribute). */
  function svg(tag, attrs, ...children) {
    const el = document.createElementNS(SVG_NS, tag);
    setAttrs(el, attrs);
    return append(el, children);
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  }

  function fmtNum(x) {
    if (typeof x !== "number" || !isFinite(x)) return String(x);
    if (Number.isInteger(x)) return x.toLocaleString("en-US");
    const a = Math.abs(x);
    if (a >= 1000) return x.toLocaleString("en-US", { maximumFractionDigits: 2 });
    if (a >= 1) return x.toLocaleString("en-US", { maximumFractionDigits: 4 });
    return x.toPrecision(4).replace(/\.?0+$/, "").replace(/\.?0+e/, "e");
  }

  function fmtTime(t) {
    return typeof t === "number" ? fmtNum(t) : "–";
  }

  /** A short one-line text for any JSON value. */
  function brief(v, max) {
    max = max || 80;
    let s;
    if (v === null || v === undefined) s = String(v);
    else if (typeof v === "number") s = fmtNum(v);
    else if (typeof v === "string") s = v;
    else s = JSON.stringify(v);
    return s.length > max ? s.slice(0, max - 1) + "…" : s;
  }

  /** Any JSON value as a tree of text (objects as definition lists, long strings preformatted). */
  function renderValue(v, depth) {
    depth = depth || 0;
    if (v === null || v === undefined) return h("span", { class: "v-null" }, String(v));
    if (typeof v === "number") return h("span", { class: "v-num" }, fmtNum(v));
    if (typeof v === "boolean") return h("span", { class: "v-bool" }, String(v));
    if (typeof v === "string") {
      return v.length > 80 || v.includes("\n") ? h("pre", { class: "v-text" }, v) : h("span", { class: "v-str" }, v);
    }
    if (Array.isArray(v)) {
      if (v.length === 0) return h("span", { class: "v-null" }, "[]");
      if (v.every((x) => x === null || typeof x !== "object") && JSON.stringify(v).length < 120) {
        return h("span", { class: "v-list" }, v.map((x) => brief(x, 60)).join(", "));
      }
      const items = v.slice(0, 500).map((x, i) => h("li", { dataset: { i: String(i) } }, renderValue(x, depth + 1)));
      const more = v.length > 500 ? h("li", { class: "muted" }, `… ${v.length - 500} more`) : null;
      return wrapDeep(h("ol", { class: "v-arr", start: "0" }, items, more), depth, `${v.length} items`);
    }
    const keys = Object.keys(v);
    if (keys.length === 0) return h("span", { class: "v-null" }, "{}");
    const dl = h("dl", { class: "v-obj" });
    for (const k of keys) append(dl, [h("dt", null, k), h("dd", null, renderValue(v[k], depth + 1))]);
    return wrapDeep(dl, depth, `${keys.length} fields`);
  }

  function wrapDeep(el, depth, label) {
    if (depth < 3) return el;
    return h("details", null, h("summary", null, label), el);
  }

  /** A model call: the full prompt as chat messages, the response, then the other fields. */
  function modelCall(d) {
    const rest = Object.assign({}, d);
    delete rest.messages;
    delete rest.response;
    const msgs = Array.isArray(d.messages) ? d.messages : [];
    return h("div", { class: "model-call" },
      h("div", { class: "muted small" }, "prompt"),
      msgs.map((m) => h("div", { class: "msg" }, h("span", { class: "role" }, String(m && m.role !== undefined ? m.role : "?")),
        h("pre", { class: "v-text" }, typeof (m && m.content) === "string" ? m.content : JSON.stringify(m && m.content)))),
      h("div", { class: "muted small" }, "response"),
      d.response === null || d.response === undefined ? h("span", { class: "v-null" }, "none")
        : h("pre", { class: "v-text response" }, String(d.response)),
      renderValue(rest, 1));
  }

  /** A memory retrieval: the query, then one row per memory with its score parts. */
  function retrieved(d) {
    const ids = Array.isArray(d.ids) ? d.ids : null;
    const parts = d.parts && typeof d.parts === "object" ? d.parts : null;
    const names = parts ? Object.keys(parts).filter((k) => Array.isArray(parts[k]) && ids && parts[k].length === ids.length) : [];
    if (!ids || !names.length) return renderValue(d);
    const rest = Object.assign({}, d);
    delete rest.ids;
    delete rest.parts;
    const table = h("table", { class: "retrieved" },
      h("thead", null, h("tr", null, h("th", null, "memory"), names.map((n) => h("th", { class: "num" }, n)))),
      h("tbody", null, ids.map((id, i) => h("tr", { dataset: { id: String(id) } }, h("td", { class: "mono" }, String(id)),
        names.map((n) => h("td", { class: "num" }, brief(parts[n][i], 12)))))));
    return h("div", { class: "memory-retrieved" }, renderValue(rest), h("div", { class: "muted small" }, "retrieved, with score parts"), table);
  }

  /** One event as a card: header line, and its data as a tree. */
  function eventCard(ev, opts) {
    opts = opts || {};
    const head = h(
      "div",
      { class: "ev-head" },
      h("span", { class: "seq" }, "#" + ev.seq),
      h("span", { class: "t" }, "t=" + fmtTime(ev.t)),
      h("span", { class: "kind", dataset: { kind: String(ev.kind) } }, String(ev.kind)),
      ev.agent != null ? h("span", { class: "agent" }, String(ev.agent)) : null
    );
    const body = h("div", { class: "ev-body" });
    if (ev.witnesses && ev.witnesses.length) {
      append(body, [h("div", { class: "muted small" }, "witnesses: " + brief(ev.witnesses.join(", "), 200))]);
    }
    const d = ev.data || {};
    append(body, [ev.kind === "model.call" ? modelCall(d) : ev.kind === "memory.retrieved" ? retrieved(d) : renderValue(d)]);
    return h("div", { class: "event-card", dataset: { seq: String(ev.seq) } }, head, body, opts.footer || null);
  }

  SW.dom = { h, svg, clear, append, fmtNum, fmtTime, brief, renderValue, eventCard };

  /* The panel registry: a scenario's script calls simworld.registerPanel(name, panel). */
  SW.panels = SW.panels || {};
  SW.registerPanel = function (name, panel) {
    if (typeof name !== "string" || !panel || typeof panel.render !== "function") {
      throw new Error("registerPanel(name, {render(ctx, root) {...}}) expects a name and a render function");
    }
    SW.panels[name] = Object.assign({ title: name }, panel);
    SW.lastPanel = name;
  };
})();
