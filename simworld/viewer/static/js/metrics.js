/* The summary of metrics.json: scalars (nested objects flattened to dotted keys) and lists of records
 * as tables. */
(function () {
  "use strict";
  const SW = window.simworld;
  const { h, clear, brief, renderValue } = SW.dom;

  function isRecordList(v) {
    return Array.isArray(v) && v.length > 0 && v.every((x) => x && typeof x === "object" && !Array.isArray(x));
  }

  function flatten(obj, prefix, scalars, tables) {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix ? prefix + "." + k : k;
      if (isRecordList(v)) tables.push([key, v]);
      else if (v && typeof v === "object" && !Array.isArray(v)) flatten(v, key, scalars, tables);
      else scalars.push([key, v]);
    }
  }

  function table(records) {
    const cols = [...new Set(records.flatMap((r) => Object.keys(r)))];
    return h("table", { class: "records" },
      h("thead", null, h("tr", null, cols.map((c) => h("th", null, c)))),
      h("tbody", null, records.map((r) => h("tr", null, cols.map((c) => {
        const v = r[c];
        return h("td", { class: typeof v === "number" ? "num" : "" }, v && typeof v === "object" ? brief(v, 60) : brief(v, 60));
      })))));
  }

  function renderMetrics(root, res) {
    clear(root).appendChild(h("h2", null, "Metrics"));
    if (res.error) root.appendChild(h("p", { class: "warn" }, res.error));
    if (!res.metrics) return;
    if (typeof res.metrics !== "object" || Array.isArray(res.metrics)) {
      root.appendChild(renderValue(res.metrics));
      return;
    }
    const scalars = [];
    const tables = [];
    flatten(res.metrics, "", scalars, tables);
    root.appendChild(h("table", { class: "metrics", id: "metrics-table" }, h("tbody", null, scalars.map(([k, v]) =>
      h("tr", null, h("th", null, k), h("td", { class: typeof v === "number" ? "num" : "" }, brief(v, 100)))))));
    for (const [k, recs] of tables) root.append(h("h3", null, k), h("div", { class: "scroll-x" }, table(recs)));
  }

  SW.renderMetrics = renderMetrics;
})();
