"use strict";
// The status page: everything it shows comes from the admin JSON API,
// read again every few seconds with the token kept in sessionStorage.
// What the server sends is set as text, never parsed as HTML.
(function () {
  const refreshMs = 3000;
  const tokenKey = "switchyard.token";
  const svgNS = "http://www.w3.org/2000/svg";
  let timer = null, run = 0;

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else e.setAttribute(k, v);
    }
    for (const k of kids) {
      if (k === null || k === undefined) continue;
      e.append(typeof k === "string" || typeof k === "number" ? String(k) : k);
    }
    return e;
  }

  function svg(tag, attrs) {
    const e = document.createElementNS(svgNS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
  }

  class Unauthorized extends Error {}

  async function get(path) {
    const headers = { Accept: "application/json" };
    const tok = sessionStorage.getItem(tokenKey);
    if (tok) headers.Authorization = "Bearer " + tok;
    const r = await fetch(path, { headers });
    if (r.status === 401 || r.status === 403) throw new Unauthorized(path + ": " + r.status);
    if (!r.ok) throw new Error(path + ": HTTP " + r.status);
    return r.json();
  }

  // optional reads a path whose absence (404, or 503 when the server runs
  // without that monitor) is no error: it gives null.
  async function optional(path) {
    try { return await get(path); } catch (e) { if (e instanceof Unauthorized) throw e; return null; }
  }

  function pct(bp) { return (bp / 100).toFixed(bp % 100 ? 2 : 0) + "%"; }
  function num(x) {
    if (typeof x !== "number") return x === undefined || x === null ? "" : String(x);
    if (!Number.isFinite(x)) return String(x);
    return Math.abs(x) >= 100 || Number.isInteger(x) ? String(Math.round(x * 100) / 100) : x.toPrecision(3);
  }
  function ms(s) { return typeof s === "number" && s > 0 ? num(s * 1000) + " ms" : "–"; }
  function share(x) { return typeof x === "number" ? num(x * 100) + "%" : "–"; }

  function splitBar(versions) {
    const bar = el("div", { class: "split", title: "traffic split" });
    let i = 0;
    for (const v of versions) {
      if (!v.traffic_bp) continue;
      const s = el("span", { class: "arm" + (i++ % 4) }, "v" + v.version + " " + pct(v.traffic_bp));
      s.style.width = (v.traffic_bp / 100) + "%";
      bar.append(s);
    }
    return bar;
  }

  // chart draws one measure of a version's history as a line over the
  // history's window, ending at hist.end (the newest sample's time). A
  // point without the measure (the latency of an interval without
  // requests) is left out, and the line joins its neighbours.
  function chart(label, hist, points, value, fmt) {
    const w = 200, h = 44, pad = 2;
    const box = svg("svg", { width: w, height: h, viewBox: "0 0 " + w + " " + h, role: "img", "aria-label": label });
    const drawn = [];
    for (const p of points) {
      const y = value(p), t = Date.parse(p.at);
      if (Number.isFinite(y) && Number.isFinite(t) && hist.end - t <= hist.window) drawn.push({ t, y });
    }
    const ys = drawn.map((d) => d.y);
    const max = Math.max(...ys, 0) || 1;
    const xy = drawn.map((q) => [w - pad - (hist.end - q.t) / hist.window * (w - 2 * pad), h - pad - q.y / max * (h - 2 * pad)]);
    if (xy.length === 1) box.append(svg("circle", { cx: xy[0][0].toFixed(1), cy: xy[0][1].toFixed(1), r: 1.5 }));
    if (xy.length > 1) box.append(svg("path", { d: xy.map((p, i) => (i ? "L" : "M") + p[0].toFixed(1) + " " + p[1].toFixed(1)).join(" ") }));
    box.dataset.points = String(ys.length);
    const last = ys.length ? fmt(ys[ys.length - 1]) : "–";
    return el("figure", { class: "chart" }, box,
      el("figcaption", {}, label + " ", el("strong", {}, last), ys.length ? el("span", { class: "muted" }, " max " + fmt(Math.max(...ys))) : null));
  }

  function charts(hist, points) {
    return el("div", { class: "charts" },
      chart("req/s", hist, points, (p) => p.rps, num),
      chart("errors", hist, points, (p) => (p.rps > 0 ? p.error_rate : undefined), share),
      chart("p50", hist, points, (p) => p.p50_seconds, ms),
      chart("p99", hist, points, (p) => p.p99_seconds, ms));
  }

  function metricText(m) {
    return m.name + (m.slice ? "[" + m.slice + "]" : "") + " " + num(m.candidate) +
      (m.stable !== undefined && m.stable !== null ? " vs " + num(m.stable) : "");
  }

  function thresholdText(th) {
    if (!th) return "";
    const parts = [];
    if (th.min !== undefined) parts.push("min " + num(th.min));
    if (th.max !== undefined) parts.push("max " + num(th.max));
    if (th.max_regression !== undefined) parts.push("max regression " + num(th.max_regression));
    if (th.max_regression_pct !== undefined) parts.push("max regression " + num(th.max_regression_pct) + "%");
    return parts.length ? " (" + parts.join(", ") + ")" : "";
  }

  // gateCell shows a verdict: pass or fail, the metrics held to a
  // threshold (or that broke one) with their numbers, the reasons of a
  // failure, and every metric behind a disclosure.
  function gateCell(g) {
    if (!g) return "";
    const d = el("div", {}, el("strong", { class: g.pass ? "good" : "bad" }, g.pass ? "pass" : "fail"),
      " (" + g.rows + " rows" + (g.stable ? ", vs " + g.stable : "") + ")");
    const metrics = g.metrics || [];
    for (const m of metrics.filter((m) => m.threshold || !m.pass)) {
      d.append(el("div", { class: m.pass ? "" : "bad" }, metricText(m) + thresholdText(m.threshold)));
    }
    if (!g.pass) for (const r of g.reasons || []) d.append(el("div", { class: "bad" }, r));
    if (metrics.length) {
      const all = el("details", {}, el("summary", { class: "muted" }, "all " + metrics.length + " metrics"));
      for (const m of metrics) all.append(el("div", { class: m.pass ? "" : "bad" }, metricText(m)));
      d.append(all);
    }
    return d;
  }

  // metricsText lists the metrics of a quality.Metrics object that are set.
  function metricsText(m) {
    return ["accuracy", "auc", "log_loss", "rmse", "mae"].filter((k) => m && typeof m[k] === "number")
      .map((k) => k + " " + num(m[k])).join(", ");
  }

  function liveCell(v) {
    const d = el("div", {});
    const s = v.stats;
    if (s) d.append(el("div", {}, s.requests + " req, " + share(s.error_rate) + " errors, p99 " + ms(s.p99_seconds)));
    const q = v.quality;
    if (q) {
      const box = el("div", { class: "quality" }, el("strong", {}, "live quality "), q.status);
      if (q.reason) box.append(el("div", { class: "muted" }, q.reason));
      const live = metricsText(q.live), offline = metricsText(q.offline);
      if (live) box.append(el("div", {}, live + " (" + q.labelled + " labelled)"));
      if (offline) box.append(el("div", { class: "muted" }, "gate: " + offline));
      if (q.estimated) box.append(el("div", { class: "muted" }, "estimated accuracy " + num(q.estimated.accuracy) + " (" + q.estimated.rows + " rows)"));
      for (const a of q.alarms || []) box.append(el("div", { class: "bad" }, "alarm: " + a));
      d.append(box);
    }
    return d;
  }

  function costCell(c) {
    if (!c) return "";
    const d = el("div", {});
    if (typeof c.dollars_per_1k === "number") d.append(el("strong", {}, "$" + num(c.dollars_per_1k) + " / 1k"));
    else if (typeof c.seconds_per_prediction === "number") d.append(el("strong", {}, ms(c.seconds_per_prediction) + " / prediction"));
    d.append(el("div", { class: "muted" }, (c.predictions || 0) + " predictions, " + num(c.compute_seconds || 0) + " s compute"));
    return d;
  }

  function rolloutBlock(m) {
    const r = m.rollout;
    if (!r) return null;
    const d = el("div", { class: "rollout" });
    d.append(el("div", {}, el("strong", {}, "Rollout "), r.strategy + ": v" + r.stable +
      (r.candidate ? " → v" + r.candidate + ", step " + r.step + ", candidate at " + pct(r.weight) : " serves") +
      (r.shadow ? ", shadow v" + r.shadow : "") + (r.paused ? " (paused)" : "")));
    if (r.candidate) d.append(el("progress", { max: "10000", value: String(r.weight), title: pct(r.weight) + " of traffic on the candidate" }));
    if (r.reason) d.append(el("div", { class: "muted" }, (r.actor ? r.actor + ": " : "") + r.reason));
    const a = m.analysis;
    if (a) {
      const box = el("div", { class: "analysis" }, el("strong", {}, "Last analysis "), a.action + " at " +
        new Date(a.at).toLocaleTimeString() + (a.reasons && a.reasons.length ? ": " + a.reasons.join("; ") : ""));
      for (const x of a.measures || []) {
        box.append(el("div", { class: x.verdict === "fail" ? "bad" : "" },
          x.name + ": " + x.verdict + " (n " + x.n_candidate + "/" + x.n_baseline + ")" + (x.text ? " " + x.text : "")));
      }
      d.append(box);
    }
    return d;
  }

  // driftBlock shows, per version, the drift monitor's newest judgment:
  // the full window's when there is one, else the window being filled.
  function driftBlock(report) {
    if (!report || !(report.versions || []).length) return null;
    const box = el("div", { class: "drift" }, el("h3", {}, "Drift"));
    for (const v of report.versions) {
      const w = v.window || v.current;
      const head = el("div", {}, el("strong", {}, "v" + v.version + " "), v.status);
      if (v.reason) head.append(el("span", { class: "muted" }, " — " + v.reason));
      box.append(head);
      if (!w) continue;
      head.append(" — " + (v.window ? "last full window" : "window so far") + ", " + w.rows + " rows: ",
        el("span", { class: w.dataset_drift ? "bad" : "good" }, (w.dataset_drift ? "dataset drift" : "no dataset drift") +
          " (" + share(w.dataset_drift_share) + " of features)"));
      const t = el("table", { class: "drift-table" }, el("thead", {}, el("tr", {},
        ...["column", "test", "statistic", "p-value", "threshold", "drifted"].map((x) => el("th", {}, x)))));
      const body = el("tbody");
      for (const r of (w.features || []).concat(w.prediction ? [w.prediction] : [])) {
        body.append(el("tr", { class: r.drifted ? "bad" : "" }, el("td", {}, r.column), el("td", {}, r.test),
          el("td", {}, num(r.statistic)), el("td", {}, r.p_value === undefined ? "" : num(r.p_value)),
          el("td", {}, num(r.threshold)), el("td", {}, r.drifted ? "yes" : "no")));
      }
      t.append(body);
      box.append(t);
      for (const p of w.problems || []) box.append(el("div", { class: "bad" }, p));
    }
    return box;
  }

  function modelCard(m, hist, drift) {
    const card = el("section", { class: "model", "data-model": m.name });
    card.append(el("h2", {}, m.name, m.serving_version ? el("span", { class: "muted" }, " serving v" + m.serving_version) : null));
    card.append(splitBar(m.versions || []));
    const rb = rolloutBlock(m); if (rb) card.append(rb);
    if (m.persist_error) card.append(el("p", { class: "bad" }, m.persist_error));
    const cols = ["version", "state", "traffic", "gate", "live", "cost"];
    const t = el("table", { class: "versions" }, el("thead", {}, el("tr", {}, ...cols.map((h) => el("th", {}, h)))));
    const body = el("tbody");
    const series = hist.byModel[m.name] || {};
    for (const v of m.versions || []) {
      const tr = el("tr", { "data-version": v.version });
      tr.append(el("td", {}, el("a", { href: "/v1/models/" + encodeURIComponent(m.name) + "/versions/" + v.version + "/card", title: "model card" }, "v" + v.version),
        v.description ? el("div", { class: "muted" }, v.description) : null));
      tr.append(el("td", { class: "state state-" + String(v.state).toLowerCase() }, v.state, v.reason ? el("div", { class: "muted" }, v.reason) : null));
      tr.append(el("td", { class: "traffic" }, pct(v.traffic_bp || 0)));
      tr.append(el("td", { class: "gate" }, gateCell(v.gate)));
      tr.append(el("td", { class: "live" }, liveCell(v)));
      tr.append(el("td", { class: "cost" }, costCell(v.cost)));
      body.append(tr);
      const pts = series[String(v.version)];
      if (pts && pts.length) {
        body.append(el("tr", { class: "history", "data-history": v.version }, el("td", {}), el("td", { colspan: String(cols.length - 1) }, charts(hist, pts))));
      }
    }
    t.append(body);
    card.append(t);
    const dd = driftBlock(drift); if (dd) card.append(dd);
    return card;
  }

  // historyOf indexes GET /admin/history's series by model and version,
  // with the window the charts span and its end, the newest sample.
  function historyOf(h) {
    const out = { byModel: {}, window: ((h && h.window_seconds) || 300) * 1000, end: 0 };
    for (const s of (h && h.series) || []) {
      const pts = s.points || [];
      (out.byModel[s.model] = out.byModel[s.model] || {})[s.version] = pts;
      if (pts.length) out.end = Math.max(out.end, Date.parse(pts[pts.length - 1].at) || 0);
    }
    return out;
  }

  // refresh reads the API and redraws the page; it answers false when
  // the server wants a token it lacks, and the page then asks for one.
  async function refresh() {
    const errBox = document.getElementById("error");
    try {
      const list = await get("/admin/models");
      const models = list.models || [];
      const [hist, audit, ...drifts] = await Promise.all([optional("/admin/history"), optional("/admin/audit?limit=20"),
        ...models.map((m) => optional("/admin/models/" + encodeURIComponent(m.name) + "/drift"))]);
      const h = historyOf(hist);
      const main = document.getElementById("models");
      main.replaceChildren(...models.map((m, i) => modelCard(m, h, drifts[i])));
      if (!models.length) main.append(el("p", { class: "muted" }, "No models."));
      const tb = document.querySelector("#audit tbody");
      tb.replaceChildren(...((audit && audit.entries) || []).map((e) => el("tr", {},
        el("td", {}, new Date(e.time).toLocaleTimeString()), el("td", {}, e.actor), el("td", {}, e.action),
        el("td", {}, e.model), el("td", {}, (e.versions || []).join(", ")), el("td", {}, e.reason || ""))));
      document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
      document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
      errBox.hidden = true;
      document.getElementById("login").hidden = true;
    } catch (e) {
      if (e instanceof Unauthorized) {
        document.getElementById("login").hidden = false;
        document.getElementById("login-error").textContent = sessionStorage.getItem(tokenKey) ? "The token was refused." : "";
        document.getElementById("token").focus();
        return false;
      }
      errBox.textContent = String(e.message || e);
      errBox.hidden = false;
    }
    return true;
  }

  // start refreshes now and then refreshMs after each refresh ends, so
  // that a slow server never has two refreshes of the page at once.
  function start() {
    stop();
    const mine = run;
    const loop = async () => { if (await refresh() && mine === run) timer = setTimeout(loop, refreshMs); };
    loop();
  }
  function stop() {
    run++;
    if (timer !== null) { clearTimeout(timer); timer = null; }
  }

  document.getElementById("login").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(tokenKey, document.getElementById("token").value.trim());
    start();
  });
  start();
})();
