/* The tom_rooms scenario's panel: at the cursor, each room with who is in it, who watches it unseen and
 * where each of its objects is (reality, from the facts the events state); the story so far as text (the
 * sentences of simworld.scenarios.tom_rooms.story); and, for a chosen agent, what it believes about each
 * object next to reality with its false beliefs marked (from api.knowledge, the knowledge engine's answer).
 * Strings from the log go in as text only (ctx.h). */
(function () {
  "use strict";
  const LIMIT = 50000; // events of each kind loaded
  const ROOMS = 40; // rooms drawn
  const STORY = 300; // latest story lines shown
  const HALLWAY = "hallway";

  const state = { scene: null, factEvents: [], watchEvents: [], story: [], capped: false, picked: null, gen: 0,
    memo: { seq: null, reality: null } };

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

  const the = (thing) => "the " + String(thing).split("_").join(" ");
  function listing(items) {
    const words = items.map(the);
    return words.length === 1 ? words[0] : words.slice(0, -1).join(", ") + " and " + words[words.length - 1];
  }
  const subject = (fact) => String(fact).slice(0, String(fact).lastIndexOf("."));

  /** The story's sentences for one event (story.py's render, line for line); ``told``: seqs told so far. */
  function sentences(ev, name, told) {
    const d = ev.data || {};
    const who = () => name(d.who);
    switch (ev.kind) {
      case "tom.scene": return Object.entries(d.rooms || {}).map(([room, cs]) => `The ${room} has ${listing(cs || [])}.`);
      case "tom.entered": return [`${who()} entered the ${d.room}.`];
      case "tom.left": return [`${who()} left the ${d.room}.`];
      case "tom.noticed": return [`The ${d.object} is in ${the(d.container)}.`];
      case "tom.moved": return [`${who()} moved the ${d.object} to ${the(d.to)}.`];
      case "tom.looked": {
        const seen = Object.entries(d.seen || {}).map(([o, c]) => `the ${o} is in ${the(c)}`).join("; ") || "nothing there";
        return [`${who()} looked around the ${d.room}: ${seen}.`];
      }
      case "tom.watching": return [`Unseen by anyone, ${who()} watched the ${d.room} through its window.`];
      case "tom.stopped_watching": return [`${who()} stopped watching the ${d.room}.`];
      case "message.sent": {
        if (!d.claims || !Object.keys(d.claims).length) return [];
        const said = Object.entries(d.claims).map(([f, v]) => `the ${subject(f)} is in ${the(v)}`).join(" and ");
        if (d.private) return [`${name(d.sender)} privately told ${name((d.audience || [])[0])} that ${said}.`];
        return [`${name(d.sender)} told everyone in the ${d.place} that ${said}.`];
      }
      case "agent.perceived":
        return (d.missed || []).some((s) => told.has(s)) ? [`${name(ev.agent)} did not notice that.`] : [];
      default: return [];
    }
  }

  /** Every fact's value at the cursor (reality), from the facts the events state. */
  function realityAt(seq) {
    if (state.memo.seq === seq) return state.memo.reality;
    const reality = new Map();
    for (const ev of state.factEvents) {
      if (ev.seq > seq) break;
      for (const [fact, value] of Object.entries(ev.data.facts)) reality.set(fact, value);
    }
    state.memo = { seq, reality };
    return reality;
  }

  /** Who watches which room at the cursor. */
  function watchersAt(seq) {
    const watching = new Map();
    for (const ev of state.watchEvents) {
      if (ev.seq > seq) break;
      const d = ev.data || {};
      if (ev.kind === "tom.watching") watching.set(d.who, d.room);
      else watching.delete(d.who);
    }
    return watching;
  }

  function names(ctx) {
    const map = new Map(ctx.meta.agents.map((a) => [a.id, a.name]));
    return (id) => (map.has(id) ? String(map.get(id)) : String(id));
  }

  /** A belief of the chosen agent as a cell: the value (a button to the events behind it), "✗ false", or "unknown". */
  function beliefCell(ctx, agent, k) {
    const { h } = ctx;
    if (!k) return h("td", { class: "muted" }, "–");
    if (k.belief === null) return h("td", { class: "unknown-belief" }, h("span", { class: "unknown" }, "unknown"));
    return h("td", { class: k.false ? "false-belief" : "true-belief" },
      h("button", { class: "link", onclick: () => ctx.showBelief(Object.assign({ chain: [agent] }, k)) }, ctx.brief(k.belief, 30)),
      k.false ? h("span", { class: "marker false-marker" }, " ✗ false") : null);
  }

  function roomCard(ctx, room, people, watchers, reality, agent, known, name) {
    const { h } = ctx;
    const scene = state.scene;
    const objects = Object.entries(scene.objects || {}).filter(([, r]) => r === room).map(([o]) => o);
    return h("div", { class: "tom-room", id: "tom-room-" + room, dataset: { room } },
      h("h4", null, `the ${room}`),
      h("div", { class: "who" }, people.length ? "here: " + people.map(name).join(", ") : "nobody here"),
      watchers.length ? h("div", { class: "watchers" }, "watched unseen by " + watchers.map(name).join(", ")) : null,
      h("div", { class: "muted small" }, "containers: " + listing(scene.rooms[room] || [])),
      objects.length ? h("table", { class: "records tom-objects" },
        h("thead", null, h("tr", null, h("th", null, "object"), h("th", null, "is in"), agent ? h("th", null, `${name(agent)} thinks`) : null)),
        h("tbody", null, objects.map((o) => h("tr", { dataset: { object: o } },
          h("td", null, o),
          h("td", { class: "reality" }, reality.has(o + ".container") ? the(reality.get(o + ".container")) : "–"),
          agent ? beliefCell(ctx, agent, known.get(o + ".container")) : null)))) : null);
  }

  /** The chosen agent's false beliefs at the cursor, in words. */
  function falseList(ctx, agent, answer, name) {
    const { h } = ctx;
    const wrong = answer.facts.filter((f) => f.false);
    if (!wrong.length) return h("p", { class: "muted small", id: "tom-false" }, `${name(agent)} holds no false belief at the cursor.`);
    const where = (fact, v) => (fact.endsWith(".room") ? (v === HALLWAY ? "the hallway" : `the ${v}`)
      : fact.endsWith(".container") ? the(v) : ctx.brief(v, 40));
    const what = (fact) => (fact.endsWith(".room") ? name(subject(fact)) : fact.endsWith(".container") ? `the ${subject(fact)}` : fact);
    const verb = (fact) => (fact.endsWith(".room") || fact.endsWith(".container") ? "is in" : "=");
    return h("ul", { class: "tom-false", id: "tom-false" }, wrong.map((f) => h("li", { class: "false-belief", dataset: { fact: f.fact } },
      h("span", { class: "marker false-marker" }, "✗ false: "),
      `${name(agent)} thinks ${what(f.fact)} ${verb(f.fact)} ${where(f.fact, f.belief)}`,
      h("span", { class: "muted" }, ` (really: ${f.reality === null ? "unknown" : where(f.fact, f.reality)}) `),
      h("button", { class: "link", onclick: () => ctx.showBelief(Object.assign({ chain: [agent] }, f)) }, `why? #${f.seq}`))));
  }

  simworld.registerPanel("tom_rooms", {
    title: "Rooms",

    async init(ctx) {
      const [tom, said, perceived] = await Promise.all([load(ctx, "tom.*"), load(ctx, "message.sent"),
        load(ctx, "agent.perceived")]);
      const all = [...tom, ...said.filter((e) => e.data && e.data.claims),
        ...perceived.filter((e) => e.data && Array.isArray(e.data.missed) && e.data.missed.length)];
      all.sort((a, b) => a.seq - b.seq);
      const scene = tom.find((e) => e.kind === "tom.scene");
      state.scene = scene ? scene.data : null;
      state.factEvents = tom.filter((e) => e.data && e.data.facts && typeof e.data.facts === "object");
      state.watchEvents = tom.filter((e) => e.kind === "tom.watching" || e.kind === "tom.stopped_watching");
      const name = names(ctx);
      const told = new Set();
      state.story = [];
      for (const ev of all) {
        for (const text of sentences(ev, name, told)) {
          state.story.push({ seq: ev.seq, text });
          told.add(ev.seq);
        }
      }
    },

    async render(ctx, root) {
      const { h, clear } = ctx;
      const gen = ++state.gen;
      const cursor = ctx.cursor;
      if (!state.scene) {
        clear(root).appendChild(h("p", { class: "muted" }, "this log has no tom.scene event: no rooms to show"));
        return;
      }
      const name = names(ctx);
      const agents = ctx.meta.agents.map((a) => a.id);
      const agent = state.picked || ctx.agent || agents[0] || null;
      let [answer, wrong] = [{ facts: [] }, { facts: [], total: 0 }];
      if (agent) {
        [answer, wrong] = await Promise.all([ctx.api.knowledge(agent, cursor.seq, { limit: 1000, second: 0 }),
          ctx.api.knowledge(agent, cursor.seq, { only: "false", limit: 200, second: 0 })]);
      }
      if (gen !== state.gen) return; // a later render has started
      const known = new Map(answer.facts.map((f) => [f.fact, f]));
      const reality = realityAt(cursor.seq);
      const watching = watchersAt(cursor.seq);
      const rooms = Object.keys(state.scene.rooms || {});
      const placeOf = (id) => (reality.has(id + ".room") ? reality.get(id + ".room") : HALLWAY);
      const cards = rooms.slice(0, ROOMS).map((room) => roomCard(ctx, room, agents.filter((a) => placeOf(a) === room),
        agents.filter((a) => watching.get(a) === room), reality, agent, known, name));
      const hallway = agents.filter((a) => placeOf(a) === HALLWAY);
      const pick = h("select", { id: "tom-agent-pick", "aria-label": "whose beliefs to show" },
        agents.map((a) => h("option", { value: a }, a === name(a) ? a : `${name(a)} (${a})`)));
      pick.value = agent || "";
      pick.addEventListener("change", () => {
        state.picked = pick.value;
        this.render(ctx, root);
      });
      const story = state.story.filter((s) => s.seq <= cursor.seq);
      const shown = story.slice(-STORY);
      const lines = h("ol", { class: "tom-story", id: "tom-story", start: String(story.length - shown.length + 1) },
        shown.map((s, i) => h("li", { class: i === shown.length - 1 ? "latest" : "", dataset: { seq: String(s.seq) } }, s.text)));
      clear(root);
      ctx.append(root, [
        h("div", { class: "tom-layout" },
          h("div", null,
            h("div", { class: "filters" }, h("span", { class: "small" }, "beliefs of"), pick),
            h("div", { class: "tom-rooms", id: "tom-rooms" }, cards,
              h("div", { class: "tom-room", id: "tom-hallway" }, h("h4", null, "the hallway"),
                h("div", { class: "who" }, hallway.length ? hallway.map(name).join(", ") : "nobody"),
                watching.size ? h("div", { class: "watchers" }, [...watching.entries()].map(([w, r]) => `${name(w)} watches the ${r}`).join("; ")) : null)),
            rooms.length > ROOMS ? h("p", { class: "muted small" }, `showing ${ROOMS} of ${rooms.length} rooms`) : null,
            agent ? h("h3", { id: "tom-false-head" }, `False beliefs of ${name(agent)} (${wrong.total})`) : null,
            agent ? falseList(ctx, agent, wrong, name) : null),
          h("div", null,
            h("h3", null, `The story so far (${story.length} lines)`),
            story.length > shown.length ? h("p", { class: "muted small" }, `… ${story.length - shown.length} earlier lines`) : null,
            lines,
            state.capped ? h("p", { class: "muted small" }, `showing the first ${LIMIT} events of each kind`) : null)),
      ]);
      const latest = lines.querySelector("li.latest");
      if (latest) lines.scrollTop = latest.offsetTop - lines.offsetTop - lines.clientHeight / 2;
    },

    /** The truth for a logged belief about where an object is (key "container"): reality at the cursor. */
    truth(b, ctx) {
      if (b.key !== "container") return undefined;
      const reality = realityAt(ctx.cursor.seq);
      const fact = `${b.about}.container`;
      return reality.has(fact) ? reality.get(fact) : undefined;
    },

    summary(ev, ctx) {
      if (!ev.kind.startsWith("tom.") && ev.kind !== "message.sent") return undefined;
      const text = sentences(ev, names(ctx), new Set());
      return text.length ? text.join(" ") : undefined;
    },
  });
})();
