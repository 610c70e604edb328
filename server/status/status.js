"use strict";
// The status page: everything it shows comes from the admin JSON API,
// read again every few seconds with the token kept in sessionStorage.
(function () {
  const refreshMs = 3000;
  const tokenKey = "switchyard.token";
  let timer = null;

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

  // optional reads a path whose absence (404, an older server) is no error.
  async function optional(path) {
    try { return await get(path); } catch (e) { if (e instanceof Unauthorized) throw e; return null; }
  }

  function pct(bp) { return (bp / 100).toFixed(bp % 100 ? 2 : 0) + "%"; }
  function num(x) {
    if (typeof x !== "number") return x === undefined || x === null ? "" : String(x);
    return Math.abs(x) >= 100 || Number.isInteger(x) ? String(Math.round(x * 100) / 100) : x.toPrecision(3);
  }
  function ms(s) { return s ? num(s * 1000) + " ms" : "–"; }

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

  function chart(label, points, value, fmt) {
    const w = 160, h = 40, ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("width", w); svg.setAttribute("height", h);
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    const ys = points.map(value).map((y) => (Number.isFinite(y) ? y : 0));
    const max = Math.max(...ys, 1e-9);
    if (ys.length > 1) {
      const line = document.createElementNS(ns, "polyline");
      line.setAttribute("points", ys.map((y, i) =>
        (i * (w - 2) / (ys.length - 1) + 1).toFixed(1) + "," + (h - 2 - y / max * (h - 4)).toFixed(1)).join(" "));
      svg.append(line);
    }
    const last = ys.length ? fmt(ys[ys.length - 1]) : "–";
    return el("div", { class: "chart" }, svg, label + ": " + last);
  }

  function gateCell(g) {
    if (!g) return "";
    const d = el("div", {}, el("strong", { class: g.pass ? "good" : "bad" }, g.pass ? "pass" : "fail"),
      " (" + g.rows + " rows)");
    for (const m of g.metrics || []) {
      d.append(el("div", { class: m.pass ? "" : "bad" },
        m.name + (m.slice ? "[" + m.slice + "]" : "") + ": " + num(m.candidate) +
        (m.stable !== undefined && m.stable !== null ? " vs " + num(m.stable) : "")));
    }
    for (const r of g.reasons || []) d.append(el("div", { class: g.pass ? "muted" : "bad" }, r));
    return d;
  }

  function rolloutBlock(m) {
    const r = m.rollout;
    if (!r) return null;
    const d = el("p", { class: "rollout" }, "Rollout: " + r.strategy + " v" + r.stable +
      (r.candidate ? " → v" + r.candidate + ", step " + r.step + " at " + pct(r.weight) : "") +
      (r.paused ? " (paused)" : "") + (r.reason ? " — " + r.reason : ""));
    const a = m.analysis;
    if (a) {
      d.append(el("br"), "Analysis: " + a.action + " (" + (a.reasons || []).join("; ") + ")");
      for (const x of a.measures || []) d.append(el("br"), x.name + ": " + x.verdict + " (n " + x.n_candidate + "/" + x.n_baseline + ")");
    }
    return d;
  }

  function driftBlock(d) {
    if (!d) return null;
    const text = JSON.stringify(d);
    return el("details", {}, el("summary", {}, "Drift"), el("pre", {}, text.length > 2000 ? text.slice(0, 2000) + "…" : text));
  }

  function modelCard(m, history, drift) {
    const card = el("section", { class: "model", "data-model": m.name });
    card.append(el("h2", {}, m.name, m.serving_version ? el("span", { class: "muted" }, " serving v" + m.serving_version) : null));
    card.append(splitBar(m.versions || []));
    const rb = rolloutBlock(m); if (rb) card.append(rb);
    if (m.persist_error) card.append(el("p", { class: "bad" }, m.persist_error));
    const t = el("table", {}, el("thead", {}, el("tr", {},
      ...["version", "state", "traffic", "gate", "stats", "cost", "history"].map((h) => el("th", {}, h)))));
    const body = el("tbody");
    for (const v of m.versions || []) {
      const tr = el("tr", { "data-version": v.version });
      tr.append(el("td", {}, el("a", { href: "/v1/models/" + encodeURIComponent(m.name) + "/versions/" + v.version + "/card" }, "v" + v.version),
        v.description ? el("div", { class: "muted" }, v.description) : null));
      tr.append(el("td", { class: "state" }, v.state, v.reason ? el("div", { class: "muted" }, v.reason) : null));
      tr.append(el("td", { class: "traffic" }, pct(v.traffic_bp || 0)));
      tr.append(el("td", { class: "gate" }, gateCell(v.gate)));
      const s = v.stats, q = v.quality;
      tr.append(el("td", {}, s ? s.requests + " req, " + num(s.error_rate * 100) + "% err, p99 " + ms(s.p99_seconds) : "",
        q ? el("div", {}, "live quality: " + JSON.stringify(q)) : null));
      const c = v.cost;
      tr.append(el("td", { class: "cost" }, c ? c.predictions + " pred, " + num(c.compute_seconds) + " s" +
        (c.usd_per_1000 !== undefined ? ", $" + num(c.usd_per_1000) + "/1000" : "") : ""));
      const pts = history && history[v.version] ? history[v.version] : [];
      tr.append(el("td", {}, el("div", { class: "charts" },
        chart("req/s", pts, (p) => p.rps, num),
        chart("errors", pts, (p) => p.error_rate * 100, (x) => num(x) + "%"),
        chart("p50", pts, (p) => p.p50_seconds, ms),
        chart("p99", pts, (p) => p.p99_seconds, ms))));
      body.append(tr);
    }
    t.append(body);
    card.append(t);
    const dd = driftBlock(drift); if (dd) card.append(dd);
    return card;
  }

  function historyByModel(h) {
    const out = {};
    for (const s of (h && h.series) || []) {
      (out[s.model] = out[s.model] || {})[s.version] = s.points || [];
    }
    return out;
  }

  async function refresh() {
    const errBox = document.getElementById("error");
    try {
      const list = await get("/admin/models");
      const [hist, audit] = await Promise.all([optional("/admin/history"), optional("/admin/audit?limit=20")]);
      const drifts = await Promise.all((list.models || []).map((m) => optional("/admin/models/" + encodeURIComponent(m.name) + "/drift")));
      const byModel = historyByModel(hist);
      const main = document.getElementById("models");
      main.replaceChildren(...(list.models || []).map((m, i) => modelCard(m, byModel[m.name], drifts[i])));
      if (!(list.models || []).length) main.append(el("p", { class: "muted" }, "No models."));
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
        stop();
        document.getElementById("login").hidden = false;
        document.getElementById("login-error").textContent = sessionStorage.getItem(tokenKey) ? "The token was refused." : "";
        document.getElementById("token").focus();
        return;
      }
      errBox.textContent = String(e.message || e);
      errBox.hidden = false;
    }
  }

  function stop() { if (timer !== null) { clearInterval(timer); timer = null; } }
  function start() { stop(); refresh(); timer = setInterval(refresh, refreshMs); }

  document.getElementById("login").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(tokenKey, document.getElementById("token").value.trim());
    start();
  });
  start();
})();
