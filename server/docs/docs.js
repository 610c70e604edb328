// The docs page of switchyard. It lists the endpoints of /openapi.json and,
// for each ready model, the fields of /v1/models/{model}/openapi.json with
// a form that sends a records request and shows the answer. What comes
// from the server is put in the page as text (textContent and attribute
// values), never parsed as HTML.
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

  async function main() {
    const [server, index] = await Promise.all([
      call("/openapi.json"),
      call("/v2/repository/index", { method: "POST", headers: { "Content-Type": JSON_TYPE }, body: '{"ready":true}' }),
    ]);
    renderEndpoints(server);
    if (!index.ok || !Array.isArray(index.body)) {
      setStatus("Cannot list the models: POST /v2/repository/index answered " + errorText(index));
      return;
    }
    const names = [...new Set(index.body.map((e) => String(e.name)))].sort();
    const models = document.getElementById("models");
    if (names.length === 0) models.append(el("p", { text: "No model is ready." }));
    await Promise.all(
      names.map(async (name) => {
        const section = el("section", { class: "model", id: "model-" + name, "data-model": name });
        models.append(section); // before the await: the sections keep the names' order
        const docPath = `/v1/models/${encodeURIComponent(name)}/openapi.json`;
        renderModel(section, name, docPath, await call(docPath));
      }),
    );
    setStatus(`${names.length} model${names.length === 1 ? "" : "s"} ready.`);
  }

  // renderEndpoints lists the server document's operations by tag.
  function renderEndpoints(res) {
    const section = document.getElementById("endpoints");
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
              ),
            ),
          ),
        ),
      );
    }
  }

  // renderModel fills a model's section from its document, res.
  function renderModel(section, name, docPath, res) {
    const title = el("h3", {}, el("code", { text: name }));
    section.append(title);
    if (res.status === 404) {
      section.append(
        el("p", { class: "muted", text: `No feature schema: this model takes V2 requests, POST /v2/models/${name}/infer.` }),
      );
      return;
    }
    if (!res.ok || !res.body || typeof res.body.paths !== "object") {
      section.append(el("p", { class: "error", text: `GET ${docPath} answered ${errorText(res)}` }));
      return;
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
      return;
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

  // tryForm returns the form that sends records to predictPath: one input
  // per field, the JSON it makes (which may be edited before sending) and
  // the answer.
  function tryForm(model, predictPath, fields, example) {
    const form = el("form", { class: "try", "data-model": model, novalidate: true });
    const inputs = fields.map((f, i) => {
      const id = `input-${model}-${i}`;
      const c = control(f, id, f.required ? example[f.name] : undefined);
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
