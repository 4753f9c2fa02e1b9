/* The timeline: play / pause / step, a scrubber over simulated time, and a density strip of events. */
(function () {
  "use strict";
  const SW = window.simworld;
  const { h, svg, clear, fmtTime } = SW.dom;
  const STEPS = 1000; // scrubber resolution

  class Timeline {
    constructor(root, app) {
      this.app = app;
      this.timer = null;
      const m = app.meta;
      this.t0 = m.t_min;
      this.t1 = m.t_max > m.t_min ? m.t_max : m.t_min + 1;
      this.back = h("button", { id: "step-back", title: "Previous event (←)", onclick: () => app.step(-1) }, "◀ prev");
      this.play = h("button", { id: "play", title: "Play / pause (space)", onclick: () => this.toggle() }, "▶ play");
      this.fwd = h("button", { id: "step-forward", title: "Next event (→)", onclick: () => app.step(1) }, "next ▶");
      this.speed = h("select", { id: "speed", title: "Events per second while playing" },
        [1, 2, 5, 10, 25, 60].map((n) => h("option", { value: String(n), selected: n === 5 }, n + " ev/s")));
      this.speed.addEventListener("change", () => this.timer && (this.stop(), this.start()));
      this.scrub = h("input", { id: "scrubber", type: "range", min: "0", max: String(STEPS), step: "1", value: "0",
        "aria-label": "simulated time" });
      this.scrub.addEventListener("input", () => this.onScrub());
      this.label = h("span", { id: "cursor-label", class: "mono" });
      this.density = svg("svg", { id: "density", viewBox: `0 0 ${STEPS} 30`, preserveAspectRatio: "none" });
      clear(root);
      root.append(
        h("div", { class: "controls" }, this.back, this.play, this.fwd, this.speed, this.label),
        h("div", { class: "scrub-wrap" }, this.density, this.scrub),
        h("div", { class: "range-labels muted small" }, h("span", null, "t=" + fmtTime(m.t_min)),
          h("span", null, "t=" + fmtTime(m.t_max)))
      );
      document.addEventListener("keydown", (e) => {
        if (e.target.closest && e.target.closest("input, select, textarea")) return;
        if (e.key === "ArrowRight") { app.step(1); e.preventDefault(); }
        else if (e.key === "ArrowLeft") { app.step(-1); e.preventDefault(); }
        else if (e.key === " ") { this.toggle(); e.preventDefault(); }
      });
    }

    async drawDensity(q) {
      const res = await this.app.api.histogram(q, 200);
      const max = Math.max(1, ...res.counts);
      const w = STEPS / res.counts.length;
      clear(this.density);
      res.counts.forEach((c, i) => {
        if (!c) return;
        const ht = 2 + 28 * Math.sqrt(c / max);
        this.density.appendChild(svg("rect", { x: i * w, y: 30 - ht, width: Math.max(w - 0.5, 0.5), height: ht, class: "bar" }));
      });
      this.marker = svg("rect", { x: 0, y: 0, width: 3, height: 30, class: "marker" });
      this.density.appendChild(this.marker);
      this.show(this.app.cursor);
    }

    timeAt(pos) { return this.t0 + (pos / STEPS) * (this.t1 - this.t0); }
    posOf(t) { return Math.round(((t - this.t0) / (this.t1 - this.t0)) * STEPS); }

    onScrub() {
      this.stop();
      const t = this.timeAt(Number(this.scrub.value));
      clearTimeout(this.pending);
      this.pending = setTimeout(() => this.app.seekTime(t), 40);
    }

    show(cursor) {
      if (!cursor) return;
      const pos = this.posOf(cursor.t);
      if (document.activeElement !== this.scrub) this.scrub.value = String(pos);
      if (this.marker) this.marker.setAttribute("x", String(Math.max(0, pos - 1.5)));
      this.label.textContent = `t = ${fmtTime(cursor.t)} · event #${cursor.seq} of ${this.app.meta.n_events}`;
    }

    toggle() { this.timer ? this.stop() : this.start(); }
    start() {
      const every = 1000 / Number(this.speed.value);
      this.play.textContent = "❚❚ pause";
      this.play.classList.add("on");
      const tick = async () => {
        const moved = await this.app.step(1);
        if (!moved) this.stop();
        else if (this.timer) this.timer = setTimeout(tick, every);
      };
      this.timer = setTimeout(tick, every);
    }
    stop() {
      clearTimeout(this.timer);
      this.timer = null;
      this.play.textContent = "▶ play";
      this.play.classList.remove("on");
    }
  }

  SW.Timeline = Timeline;
})();
