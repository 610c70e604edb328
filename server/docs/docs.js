// The docs page of switchyard. It lists the endpoints of /openapi.json,
// each with a form that sends a request to it, and, for each ready model,
// which versions serve it at which share (the serving data the server puts
// in the page), the fields of /v1/models/{model}/openapi.json and a form
// that sends a records request and shows the answer. What comes from the
// server is put in the page as text (textContent and attribute values),
// never parsed as HTML.
"use strict";

(function () {
  const JSON_TYPE = "application/json";
  const METHODS = ["get", "put", "post", "delete", "patch"];

  // el returns a new element. attrs holds attributes, except "text" (its
  // text) and "on<event>" (a listener); null, undefined and false
  // attributes are left out. children are nodes or strings (as text).
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) {
      if (c !== undefined && c !== null) e.append(c);
    }
    return e;
  }

  // call fetches url and returns the status and the body, as text and,
  // when it is JSON, parsed.
  async function call(url, init) {
    init = init || {};
    const token = document.getElementById("token");
    if (token && token.value !== "") {
      init.headers = Object.assign({}, init.headers, { Authorization: "Bearer " + token.value });
    }
    const res = await fetch(url, init);
    const text = await res.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch (_) {
      body = undefined;
    }
    return { status: res.status, statusText: res.statusText, ok: res.ok, text, body };
  }

  // errorText says why a call failed.
  function errorText(res) {
    const what = res.body && typeof res.body.error === "string" ? res.body.error : res.text;
    return `${res.status} ${res.statusText}${what ? ": " + what : ""}`;
  }

  function setStatus(msg) {
    document.getElementById("status").textContent = msg;
  }

  // deref follows $ref pointers within doc.
  function deref(doc, s) {
    for (let i = 0; s && typeof s.$ref === "string" && i < 32; i++) {
      if (!s.$ref.startsWith("#/")) return undefined;
      s = s.$ref
        .slice(2)
        .split("/")
        .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
        .reduce((o, key) => (o === undefined || o === null ? undefined : o[key]), doc);
    }
    return s;
  }

  // servingData returns what the server wrote into the page: for each
  // model, the versions that share its requests (candidate first, stable
  // last) with their weights in basis points, and its shadow.
  function servingData() {
    try {
      const list = JSON.parse(document.getElementById("serving").textContent);
      return new Map(list.map((m) => [m.model, m]));
    } catch (_) {
      return new Map();
    }
  }

  // percent writes a weight in basis points as a percentage.
  function percent(weight) {
    return `${Math.round(weight) / 100}%`;
  }

  // servingText says which versions serve a model and at which share.
  function servingText(m) {
    if (!m || !Array.isArray(m.arms) || m.arms.length === 0) return "No version serves this model now.";
    let text;
    if (m.arms.length === 1) {
      text = `Version ${m.arms[0].version} serves ${percent(m.arms[0].weight)} of requests.`;
    } else {
      const parts = m.arms.map(
        (a, i) => `version ${a.version} (${i === m.arms.length - 1 ? "stable" : "canary"}) ${percent(a.weight)}`,
      );
      text = `Requests are split: ${parts.join(", ")}.`;
    }
    text += " A request that names a version goes to it.";
    if (m.shadow) text += ` Version ${m.shadow} shadows: it gets a copy of each request, and its answers are not returned.`;
    return text;
  }

  // cardLinks links the model card of each version that serves a model,
  // or its shadow, to GET /v1/models/{model}/versions/{version}/card.
  function cardLinks(name, m) {
    const versions = m && Array.isArray(m.arms) ? m.arms.map((a) => String(a.version)) : [];
    if (m && m.shadow) versions.push(String(m.shadow));
    if (versions.length === 0) return undefined;
    const links = [];
    for (const v of [...new Set(versions)]) {
      if (links.length > 0) links.push(", ");
      links.push(
        el("a", {
          class: "card",
          href: `/v1/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(v)}/card`,
          text: "version " + v,
        }),
      );
    }
    return el("p", { class: "cards muted" }, "Model card: ", ...links, ".");
  }

  async function main() {
    const serving = servingData();
    const [server, index] = await Promise.all([
      call("/openapi.json"),
      call("/v2/repository/index", { method: "POST", headers: { "Content-Type": JSON_TYPE }, body: '{"ready":true}' }),
    ]);
    const names =
      index.ok && Array.isArray(index.body) ? [...new Set(index.body.map((e) => String(e.name)))].sort() : [];
    const examples = new Map(); // model name -> its example records request, once its document is read
    if (!index.ok || !Array.isArray(index.body)) {
      renderEndpoints(server, names, serving, examples);
      setStatus("Cannot list the models: POST /v2/repository/index answered " + errorText(index));
      return;
    }
    const models = document.getElementById("models");
    if (names.length === 0) models.append(el("p", { text: "No model is ready." }));
    await Promise.all(
      names.map(async (name) => {
        const section = el("section", { class: "model", id: "model-" + name, "data-model": name });
        models.append(section); // before the await: the sections keep the names' order
        const docPath = `/v1/models/${encodeURIComponent(name)}/openapi.json`;
        const example = renderModel(section, name, docPath, await call(docPath), serving.get(name));
        if (example) examples.set(name, example);
      }),
    );
    renderEndpoints(server, names, serving, examples);
    setStatus(`${names.length} model${names.length === 1 ? "" : "s"} ready.`);
  }

  // renderEndpoints lists the server document's operations by tag, each
  // with a form to try it. names are the ready models, serving what serves
  // them and examples their example records requests, to fill the forms.
  function renderEndpoints(res, names, serving, examples) {
    const section = document.getElementById("endpoints");
    section.append(
      el(
        "p",
        { class: "muted" },
        el("label", { for: "token" }, "Token "),
        el("input", { type: "password", id: "token", autocomplete: "off", placeholder: "(none)" }),
        " sent as Authorization: Bearer by every request this page sends, for endpoints the server guards.",
      ),
    );
    if (!res.ok || !res.body || typeof res.body.paths !== "object") {
      section.append(el("p", { class: "error", text: "GET /openapi.json answered " + errorText(res) }));
      return;
    }
    const api = res.body;
    const groups = new Map((api.tags || []).map((t) => [t.name, { tag: t, ops: [] }]));
    for (const [path, item] of Object.entries(api.paths)) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const tag = (op.tags && op.tags[0]) || "Other";
        if (!groups.has(tag)) groups.set(tag, { tag: { name: tag }, ops: [] });
        groups.get(tag).ops.push({ path, method, op });
      }
    }
    for (const { tag, ops } of groups.values()) {
      if (ops.length === 0) continue;
      section.append(
        el(
          "details",
          { class: "tag" },
          el("summary", {}, el("strong", { text: tag.name }), " ", el("span", { class: "muted", text: tag.description || "" })),
          el(
            "ul",
            { class: "ops" },
            ...ops.map((o) =>
              el(
                "li",
                { "data-method": o.method.toUpperCase(), "data-path": o.path },
                el("span", { class: "method " + o.method, text: o.method.toUpperCase() }),
                " ",
                el("code", { text: o.path }),
                " ",
                el("span", { class: "muted", text: o.op.summary || "" }),
                tryEndpoint(api, o, names, serving, examples),
              ),
            ),
          ),
        ),
      );
    }
  }

  // renderModel fills a model's section from its document, res, and what
  // serves it, and returns its example records request, if any.
  function renderModel(section, name, docPath, res, serving) {
    const title = el("h3", {}, el("code", { text: name }));
    section.append(title, el("p", { class: "serving", text: servingText(serving) }));
    const cards = cardLinks(name, serving);
    if (cards) section.append(cards);
    if (res.status === 404) {
      section.append(
        el("p", { class: "muted", text: `No feature schema: this model takes V2 requests, POST /v2/models/${name}/infer.` }),
      );
      return undefined;
    }
    if (!res.ok || !res.body || typeof res.body.paths !== "object") {
      section.append(el("p", { class: "error", text: `GET ${docPath} answered ${errorText(res)}` }));
      return undefined;
    }
    const api = res.body;
    const predictPath = Object.keys(api.paths).find((p) => p.endsWith(":predict") && !p.includes("{"));
    const op = predictPath && api.paths[predictPath].post;
    const media = op && op.requestBody && op.requestBody.content && op.requestBody.content[JSON_TYPE];
    const request = deref(api, media && media.schema);
    const instances = deref(api, request && request.properties && request.properties.instances);
    const instance = deref(api, instances && instances.items);
    if (!instance || typeof instance.properties !== "object") {
      section.append(el("p", { class: "error", text: `${docPath} describes no records request.` }));
      return undefined;
    }
    title.append(" ", el("span", { class: "version", text: "version " + ((api.info && api.info.version) || "?") }));
    section.append(
      el("p", { class: "muted" }, (api.info && api.info.description) || "", " ", el("a", { href: docPath, text: "OpenAPI document" })),
    );
    const required = new Set(instance.required || []);
    const fields = Object.entries(instance.properties).map(([field, s]) => ({
      name: field,
      schema: deref(api, s) || {},
      required: required.has(field),
    }));
    section.append(fieldsTable(fields, instance));
    const example = (media.example && Array.isArray(media.example.instances) && media.example.instances[0]) || {};
    section.append(el("h4", { text: "Try it" }), tryForm(name, predictPath, fields, example));
    return media.example;
  }

  // kindOf names a field's type as a feature schema does.
  function kindOf(s) {
    if (s.type === "string" && Array.isArray(s.enum)) return "category";
    if (s.type === "boolean") return "bool";
    return s.type || "any";
  }

  // allowedText says which values a field allows.
  function allowedText(s) {
    if (Array.isArray(s.enum)) return s.enum.join(", ");
    if (s.type === "boolean") return "true, false";
    const min = typeof s.minimum === "number";
    const max = typeof s.maximum === "number";
    if (min && max) return `${s.minimum} to ${s.maximum}`;
    if (min) return `≥ ${s.minimum}`;
    if (max) return `≤ ${s.maximum}`;
    return "any";
  }

  function fieldsTable(fields, instance) {
    const rows = fields.map((f) =>
      el(
        "tr",
        { "data-field": f.name },
        el("td", {}, el("code", { text: f.name }), f.required ? el("span", { class: "badge", text: "required" }) : null),
        el("td", { class: "type", text: kindOf(f.schema) }),
        el("td", { class: "allowed", text: allowedText(f.schema) }),
        el("td", { class: "default", text: "default" in f.schema ? JSON.stringify(f.schema.default) : "" }),
        el("td", { class: "description", text: f.schema.description || "" }),
      ),
    );
    const note = instance.additionalProperties === false ? "Other fields are refused." : "Other fields are ignored.";
    return el(
      "table",
      { class: "fields" },
      el("caption", { text: `${fields.length} field${fields.length === 1 ? "" : "s"}. ${note}` }),
      el(
        "thead",
        {},
        el("tr", {}, ...["Field", "Type", "Allowed", "Default", "Description"].map((h) => el("th", { scope: "col", text: h }))),
      ),
      el("tbody", {}, ...rows),
    );
  }

  // control returns the input for field f, set to value (undefined for
  // none), and how to read it back.
  function control(f, id, value) {
    const s = f.schema;
    const kind = kindOf(s);
    const unset = f.required ? "(not sent)" : "default" in s ? `(not sent: ${JSON.stringify(s.default)})` : "(not sent)";
    if (kind === "number" || kind === "integer") {
      const input = el("input", {
        type: "number",
        id,
        name: f.name,
        step: kind === "integer" ? "1" : "any",
        min: s.minimum,
        max: s.maximum,
        placeholder: unset,
      });
      if (typeof value === "number") input.value = String(value);
      return { node: input, read: () => (input.value === "" ? undefined : Number(input.value)) };
    }
    if (kind === "category" || kind === "bool") {
      const values = kind === "bool" ? ["true", "false"] : s.enum.map(String);
      const select = el(
        "select",
        { id, name: f.name },
        el("option", { value: "", text: unset }),
        ...values.map((v) => el("option", { value: v, text: v })),
      );
      if (value !== undefined) select.value = String(value);
      const read = () => {
        if (select.value === "") return undefined;
        return kind === "bool" ? select.value === "true" : select.value;
      };
      return { node: select, read };
    }
    const input = el("input", { type: "text", id, name: f.name, placeholder: unset });
    if (value !== undefined) input.value = typeof value === "string" ? value : JSON.stringify(value);
    return { node: input, read: () => (input.value === "" ? undefined : input.value) };
  }

  // prefill is the value field f's input starts with: the example
  // record's, unless the field is optional and the example holds its
  // default (leaving it unsent says the same).
  function prefill(f, example) {
    if (!Object.prototype.hasOwnProperty.call(example, f.name)) return undefined;
    const v = example[f.name];
    if (!f.required && "default" in f.schema && JSON.stringify(f.schema.default) === JSON.stringify(v)) return undefined;
    return v;
  }

  // tryEndpoint returns the form that sends a request to the operation o
  // of the server's document api: an input per parameter (path, query or
  // header), the body when it takes one, and the answer. names, serving
  // and examples fill it with a ready model, a version that serves it and
  // its example records request.
  function tryEndpoint(api, o, names, serving, examples) {
    const params = (o.op.parameters || []).map((p) => deref(api, p)).filter((p) => p && p.name && p.in !== "cookie");
    const content = (o.op.requestBody && o.op.requestBody.content) || null;
    const contentType = content ? Object.keys(content)[0] : null;
    const form = el("form", { class: "try-endpoint", "data-method": o.method.toUpperCase(), "data-path": o.path, novalidate: true });
    const model = names[0];
    const stable = model && serving.get(model) && serving.get(model).arms.length > 0 ? serving.get(model).arms.slice(-1)[0].version : "";
    const inputs = params.map((p, i) => {
      let value = p.example !== undefined ? String(p.example) : "";
      if (p.in === "path" && p.name === "model" && model) value = model;
      if (p.in === "path" && p.name === "version" && stable) value = stable;
      const id = `try-${o.method}-${o.path}-${i}`;
      const input = el("input", { type: "text", id, name: p.name, "data-in": p.in, value, placeholder: p.required ? "(required)" : "(not sent)" });
      return { p, input, row: el("div", { class: "input" }, el("label", { for: id }, el("code", { text: p.name }), ` (${p.in})`), input) };
    });
    let body = null;
    if (content) {
      const media = content[contentType] || {};
      let text = "";
      if (media.example !== undefined) text = JSON.stringify(media.example, null, 2);
      else if (o.path.endsWith(":predict") && model && examples.has(model)) text = JSON.stringify(examples.get(model), null, 2);
      else if (contentType === JSON_TYPE) text = "{}";
      body = el("textarea", { name: "body", rows: 6, spellcheck: "false", "aria-label": `Request body for ${o.method.toUpperCase()} ${o.path}` });
      body.value = text;
    }
    const answer = el("div", { class: "answer", "aria-live": "polite" });
    const send = el("button", { type: "submit", text: `Send ${o.method.toUpperCase()}` });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      let path = o.path;
      const query = new URLSearchParams();
      const headers = {};
      for (const { p, input } of inputs) {
        if (input.value === "") continue;
        if (p.in === "path") path = path.split(`{${p.name}}`).join(encodeURIComponent(input.value));
        else if (p.in === "query") query.append(p.name, input.value);
        else if (p.in === "header") headers[p.name] = input.value;
      }
      const url = path + (query.toString() ? "?" + query.toString() : "");
      const init = { method: o.method.toUpperCase(), headers };
      if (body) {
        headers["Content-Type"] = contentType;
        init.body = body.value;
      }
      send.disabled = true;
      answer.dataset.status = "pending";
      try {
        const res = await call(url, init);
        const shown = res.body === undefined ? res.text || "(empty body)" : JSON.stringify(res.body, null, 2);
        answer.replaceChildren(
          el("p", { class: "status " + (res.ok ? "ok" : "bad") }, el("code", { text: `${init.method} ${url}` }), ` ${res.status} ${res.statusText}`.trimEnd()),
          el("pre", { text: shown }),
        );
        answer.dataset.status = String(res.status);
      } catch (err) {
        answer.replaceChildren(el("p", { class: "error", text: "The request failed: " + err }));
        answer.dataset.status = "failed";
      } finally {
        send.disabled = false;
      }
    });
    form.append(...inputs.map((x) => x.row), ...(body ? [body] : []), el("p", {}, send));
    return el("details", { class: "try" }, el("summary", { text: "Try it" }), form, answer);
  }

  // tryForm returns the form that sends records to predictPath: one input
  // per field, the JSON it makes (which may be edited before sending) and
  // the answer.
  function tryForm(model, predictPath, fields, example) {
    const form = el("form", { class: "try", "data-model": model, novalidate: true });
    const inputs = fields.map((f, i) => {
      const id = `input-${model}-${i}`;
      const c = control(f, id, prefill(f, example));
      const problem = el("span", { class: "problem", "aria-live": "polite" });
      const row = el(
        "div",
        { class: "input", "data-field": f.name },
        el("label", { for: id }, el("code", { text: f.name }), f.required ? " *" : ""),
        c.node,
        problem,
      );
      return { f, read: c.read, row, control: c.node, problem };
    });
    const body = el("textarea", { name: "body", rows: 8, spellcheck: "false", "aria-label": `Request body for ${model}` });
    const rebuild = () => {
      const instance = {};
      for (const inp of inputs) {
        const v = inp.read();
        if (v !== undefined) instance[inp.f.name] = v;
      }
      body.value = JSON.stringify({ instances: [instance] }, null, 2);
    };
    const onEdit = (e) => {
      if (e.target !== body) rebuild();
    };
    form.addEventListener("input", onEdit);
    form.addEventListener("change", onEdit);
    rebuild();
    const send = el("button", { type: "submit", text: `POST ${predictPath}` });
    const answer = el("div", { class: "answer", "data-model": model, "aria-live": "polite" });
    const clearProblems = () => {
      for (const inp of inputs) {
        inp.problem.textContent = "";
        inp.row.classList.remove("invalid");
        inp.control.removeAttribute("aria-invalid");
      }
    };
    const markProblem = (field, message) => {
      const inp = inputs.find((x) => x.f.name === field);
      if (!inp) return;
      inp.row.classList.add("invalid");
      inp.control.setAttribute("aria-invalid", "true");
      inp.problem.textContent = inp.problem.textContent ? inp.problem.textContent + "; " + message : message;
    };
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      send.disabled = true;
      clearProblems();
      answer.dataset.status = "pending";
      try {
        const res = await call(predictPath, { method: "POST", headers: { "Content-Type": JSON_TYPE }, body: body.value });
        renderAnswer(answer, res, markProblem);
      } catch (err) {
        answer.replaceChildren(el("p", { class: "error", text: "The request failed: " + err }));
        answer.dataset.status = "failed";
      } finally {
        send.disabled = false;
      }
    });
    form.append(
      el("div", { class: "inputs" }, ...inputs.map((x) => x.row)),
      el("p", { class: "muted", text: "The request, as the inputs make it; edit it to send anything, such as a bad record." }),
      body,
      el("p", {}, send),
    );
    return el("div", { class: "try-it" }, form, answer);
  }

  // renderAnswer shows a predict answer: the predictions, or the problems
  // of a 422 (also next to the inputs of the first instance), or the
  // error; and the raw body.
  function renderAnswer(box, res, markProblem) {
    const b = res.body;
    const parts = [el("p", { class: "status " + (res.ok ? "ok" : "bad"), text: `${res.status} ${res.statusText}`.trim() })];
    if (res.ok && b && Array.isArray(b.predictions)) {
      parts.push(predictionsTable(b));
    } else if (res.status === 422 && b && Array.isArray(b.problems)) {
      parts.push(el("p", { class: "error", text: String(b.error || "") }));
      parts.push(
        el(
          "ul",
          { class: "problems" },
          ...b.problems.map((p) =>
            el(
              "li",
              { "data-field": p.field || "", "data-problem": p.problem || "" },
              el("span", { class: "muted", text: `instance ${p.instance}${p.field ? " · " + p.field : ""}` }),
              " ",
              el("code", { text: String(p.problem || "") }),
              " ",
              String(p.message || ""),
            ),
          ),
        ),
      );
      for (const p of b.problems) {
        if (p.instance === 0 && p.field) markProblem(String(p.field), String(p.message || p.problem));
      }
    } else if (b && typeof b.error === "string") {
      parts.push(el("p", { class: "error", text: b.error }));
    }
    const shown = b === undefined ? res.text || "(empty body)" : JSON.stringify(b, null, 2);
    parts.push(el("details", {}, el("summary", { text: "Answer body" }), el("pre", { text: shown })));
    box.replaceChildren(...parts);
    box.dataset.status = String(res.status);
  }

  function predictionsTable(b) {
    const ids = Array.isArray(b.prediction_ids) ? b.prediction_ids : [];
    const rows = b.predictions.map((p, i) => {
      let cell;
      if (p && p.label !== undefined) {
        cell = el(
          "td",
          { class: "prediction" },
          el("strong", { class: "label", text: String(p.label) }),
          ...Object.entries(p.probabilities || {}).map(([c, v]) =>
            el(
              "div",
              { class: "prob", "data-class": c },
              el("span", { class: "class", text: c }),
              el("meter", { min: 0, max: 1, value: v }),
              el("span", { class: "p", text: typeof v === "number" ? v.toFixed(4) : String(v) }),
            ),
          ),
        );
      } else if (p && p.value !== undefined) {
        cell = el("td", { class: "prediction" }, el("span", { class: "value", text: String(p.value) }));
      } else {
        cell = el("td", { class: "prediction", text: JSON.stringify(p) });
      }
      return el("tr", {}, el("td", { text: String(i) }), cell, el("td", {}, el("code", { class: "id", text: String(ids[i] || "") })));
    });
    return el(
      "table",
      { class: "predictions" },
      el("caption", { text: `Model ${b.model_name}, version ${b.model_version}` }),
      el("thead", {}, el("tr", {}, ...["#", "Prediction", "Prediction id"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, ...rows),
    );
  }

  main()
    .catch((err) => setStatus("The page could not load: " + err))
    .finally(() => {
      document.body.dataset.loaded = "true";
    });
})();
