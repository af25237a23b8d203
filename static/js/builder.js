/* The new-sweep page's parameter builder: one row per parameter, written into the config
 * text's `parameters` block, and read back from it.
 *
 * Reading YAML is the server's: every as-you-type check (the #config-check region) brings
 * #builder-data, the rows of the text just checked (sweeps/forms.py builder_data), and the
 * check's problems are the builder's too. This file only writes YAML, and shows each
 * distribution's fields as #builder-setup lists them (the validator's own table).
 *
 * Which side leads: typing in the text makes the builder wait (disabled) for the answer to
 * that text; typing in the builder rewrites the text at once and ignores answers about its
 * own writes, so that a row never changes under the cursor.
 */
(function () {
  "use strict";

  // A parameter name the validator accepts (sweeps/config.py NAME_PATTERN).
  const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
  // Plain words YAML 1.1 (PyYAML) reads as booleans or null: quoted as names.
  const RESERVED = /^(y|n|yes|no|true|false|on|off|null|~)$/i;
  const PARAMETERS_LINE = /^parameters[ \t]*:/;
  const LIST_FIELDS = ["values", "probabilities"];
  const FIELD_ORDER = [
    "value", "values", "probabilities", "min", "max", "q", "mu", "sigma", "a", "b",
  ];
  const INT = /^[-+]?(0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|0o?[0-7_]+|0b[01_]+)$/;
  const FLOAT =
    /^([-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$/;

  let nextId = 1;
  let builder = null;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      node.setAttribute(name, value === true ? "" : value);
    }
    node.append(...children.filter((child) => child !== null && child !== undefined));
    return node;
  }

  function readJson(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  // Rows ---------------------------------------------------------------------------------

  function rowFromServer(data) {
    const row = {
      id: nextId++,
      name: data.name,
      key: data.key,
      group: null,
      distribution: data.distribution || "",
      explicit: Boolean(data.explicit),
      fields: Object.assign({}, data.fields || {}),
      typed: new Set(),
      extra: data.extra || [],
      written: data.written === undefined ? null : data.written,
    };
    if (data.group) row.group = data.group.map(rowFromServer);
    return row;
  }

  function newRow(siblings, group) {
    const base = group ? "group" : "new_param";
    const taken = new Set(siblings.map((row) => row.name));
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}_${n}`;
    const row = rowFromServer({ name: name, key: null, distribution: group ? "" : "uniform" });
    if (group) row.group = [newRow([], false)];
    return row;
  }

  // Writing YAML -------------------------------------------------------------------------

  function keyLiteral(name) {
    return NAME.test(name) && !RESERVED.test(name) ? name : JSON.stringify(name);
  }

  function scalarLiteral(text) {
    // Flow YAML or a quoted string, as typed.
    if (/^[[{"']/.test(text)) return text;
    const plain =
      !/^[-?:,[\]{}#&*!|>%@`]/.test(text) || /^[-+]?(\d|\.\d)/.test(text);
    return plain && !/: |\s#|:$|[\t\n\r]/.test(text) ? text : JSON.stringify(text);
  }

  function numberLiteral(text) {
    // YAML 1.1 reads 1e-5 as a string: a number typed in a number field is meant as one.
    const match = /^([-+]?)(\d+)(?:\.(\d*))?[eE]([-+]?)(\d+)$/.exec(text);
    if (match) return `${match[1]}${match[2]}.${match[3] || "0"}e${match[4] || "+"}${match[5]}`;
    return scalarLiteral(text);
  }

  function fieldLiteral(row, key) {
    const text = row.fields[key].trim();
    if (LIST_FIELDS.includes(key)) return `[${text}]`;
    // A value read from the text is written back exactly as the server spelled it.
    if (!row.typed.has(key)) return text;
    return key === "value" ? scalarLiteral(text) : numberLiteral(text);
  }

  function numberKind(literal) {
    if (INT.test(literal)) return "int";
    return FLOAT.test(literal) ? "float" : null;
  }

  // What the validator infers from these keys (sweeps/config.py _distribution).
  function inferred(entries) {
    const get = (key) => (entries.find((entry) => entry[0] === key) || [])[1];
    const has = (key) => get(key) !== undefined;
    if (has("value") && has("values")) return "";
    if (has("values")) return has("probabilities") ? "categorical_w_probabilities" : "categorical";
    if (has("value")) return "constant";
    if (!has("min") || !has("max")) return "";
    const kinds = [get("min"), get("max")].map(numberKind).filter(Boolean);
    if (kinds.length === 2 && kinds[0] !== kinds[1]) return "";
    if (kinds.length && kinds.every((kind) => kind === "int")) return "int_uniform";
    return has("q") ? "q_uniform" : "uniform";
  }

  function leafEntries(row, spec) {
    if (!row.distribution && row.written !== null) return null;
    const keys = row.distribution
      ? spec.distributions[row.distribution].fields
      : FIELD_ORDER.filter((key) => key in row.fields);
    const entries = keys
      .filter((key) => (row.fields[key] || "").trim() !== "")
      .map((key) => [key, fieldLiteral(row, key)]);
    // `distribution` only where the text had it or the keys alone would say otherwise.
    if (row.distribution && (row.explicit || inferred(entries) !== row.distribution)) {
      entries.unshift(["distribution", row.distribution]);
    }
    return entries.concat(row.extra);
  }

  function emit(rows, pad, spec) {
    const lines = [];
    for (const row of rows) {
      const key = row.key === null ? keyLiteral(row.name) : row.key;
      if (row.group) {
        lines.push(`${pad}${key}:`);
        lines.push(`${pad}  parameters:${row.group.length ? "" : " {}"}`);
        lines.push(...emit(row.group, `${pad}    `, spec));
        for (const [name, value] of row.extra) lines.push(`${pad}  ${name}: ${value}`);
        continue;
      }
      const entries = leafEntries(row, spec);
      if (entries === null) {
        lines.push(`${pad}${key}: ${row.written}`);
      } else if (!entries.length) {
        lines.push(`${pad}${key}: {}`);
      } else {
        lines.push(`${pad}${key}:`);
        for (const [name, value] of entries) lines.push(`${pad}  ${name}: ${value}`);
      }
    }
    return lines;
  }

  // The text with its top-level `parameters` block replaced; comments elsewhere are kept.
  function splice(text, block) {
    const lines = text.split("\n");
    const start = lines.findIndex((line) => PARAMETERS_LINE.test(line));
    if (start < 0) {
      const body = text.replace(/\s+$/, "");
      return `${body ? `${body}\n` : ""}${block}\n`;
    }
    let last = start;
    for (let i = start + 1; i < lines.length; i++) {
      if (/^[^\s#]/.test(lines[i])) break; // the next top-level key
      if (/^\s+\S/.test(lines[i])) last = i; // still indented under parameters
    }
    return [...lines.slice(0, start), block, ...lines.slice(last + 1)].join("\n");
  }

  // The builder ---------------------------------------------------------------------------

  class Builder {
    constructor(root) {
      this.root = root;
      this.form = root.closest("form");
      this.textarea = this.form.querySelector("textarea[name=config_text]");
      this.fieldset = root.querySelector("#builder-rows");
      this.list = root.querySelector("[data-builder-list]");
      this.status = root.querySelector("#builder-status");
      this.setup = readJson("builder-setup");
      this.rows = [];
      this.yamlBase = null;
      this.seq = 0; // changes of the text, by either side
      this.sentSeq = 0; // this.seq when the last check was sent
      this.lastWriter = "text";
      this.writing = false;
      this.dataNode = null;
      this.textarea.addEventListener("input", () => this.textEdited());
      root.addEventListener("click", (event) => this.clicked(event));
      root.addEventListener("keydown", (event) => {
        // Enter in a row's field would submit the form: the sweep is made with the button.
        if (event.key === "Enter" && event.target.matches("input")) event.preventDefault();
      });
      this.form.querySelector(".config-templates").addEventListener("click", (event) => {
        const link = event.target.closest("[data-template]");
        if (link) this.useTemplate(event, link);
      });
      root.hidden = false;
      this.answered(true);
    }

    textEdited() {
      if (this.writing) return;
      this.seq += 1;
      this.lastWriter = "text";
      this.setWaiting(true);
    }

    setWaiting(waiting) {
      this.fieldset.disabled = waiting || !this.readable;
      this.root.classList.toggle("is-waiting", waiting);
    }

    say(message) {
      this.status.textContent = message;
      this.status.hidden = !message;
    }

    // A check's answer arrived (or the page loaded) with #builder-data for its text.
    answered(first) {
      const node = document.getElementById("builder-data");
      if (!node || node === this.dataNode) return;
      this.dataNode = node;
      // An answer about an older text: the check of the newest one is on its way.
      if (!first && this.sentSeq !== this.seq) return;
      if (first || this.lastWriter === "text") this.apply(JSON.parse(node.textContent));
      this.setWaiting(false);
      this.markProblems();
    }

    failed() {
      this.say("The config could not be checked; the rows show it as it was last read.");
      this.setWaiting(false);
    }

    apply(data) {
      this.readable = data.readable;
      if (!data.readable) {
        this.say(`The rows come back once the config reads again: ${data.reason}`);
        return;
      }
      this.rows = data.rows.map(rowFromServer);
      this.yamlBase = data.yaml;
      this.say(data.mapping ? "" : "parameters is not a mapping: a new row replaces it.");
      this.render();
    }

    write() {
      const lines = emit(this.rows, "  ", this.setup);
      const block = lines.length ? `parameters:\n${lines.join("\n")}` : "parameters: {}";
      let text = this.textarea.value;
      // A JSON config is written back as the YAML the server read it as.
      if (text.trimStart().startsWith("{") && this.yamlBase) text = this.yamlBase;
      this.yamlBase = null;
      this.textarea.value = splice(text, block);
      this.seq += 1;
      this.lastWriter = "builder";
      this.writing = true;
      // htmx checks the config on input, as when the user types.
      this.textarea.dispatchEvent(new Event("input", { bubbles: true }));
      this.writing = false;
    }

    useTemplate(event, link) {
      event.preventDefault();
      const text = this.setup.templates[link.dataset.template];
      const note = this.form.querySelector("#template-note");
      const before = this.textarea.value;
      // The same text again would bring no check (htmx asks only on a change): nothing to do.
      if (text === before) return;
      this.textarea.value = text;
      this.textarea.dispatchEvent(new Event("input", { bubbles: true }));
      note.replaceChildren(
        `Started from the ${link.textContent} template. `,
        el("button", { type: "button", class: "link-button", "data-template-undo": true }, "Undo")
      );
      note.hidden = false;
      note.querySelector("button").addEventListener("click", () => {
        note.hidden = true;
        if (this.textarea.value === before) return;
        this.textarea.value = before;
        this.textarea.dispatchEvent(new Event("input", { bubbles: true }));
        this.textarea.focus();
      });
    }

    // Rendering ---------------------------------------------------------------------------

    render(focus) {
      this.list.replaceChildren(...this.rows.map((row) => this.rowNode(row, this.rows, 0)));
      if (focus) {
        const selector = `[data-row-id="${focus.id}"] [data-role="${focus.role}"]`;
        const target = this.list.querySelector(selector);
        if (target) {
          target.focus();
          if (focus.select && target.select) target.select();
        }
      }
    }

    rowNode(row, siblings, depth) {
      const node = el("div", {
        class: `builder-row${row.group ? " builder-group" : ""}`,
        "data-row-id": row.id,
      });
      const line = el("div", { class: "builder-line" });
      const name = el("input", {
        type: "text",
        class: "builder-name mono",
        value: row.name,
        "aria-label": row.group ? "Group name" : "Parameter name",
        autocomplete: "off",
        autocapitalize: "off",
        spellcheck: "false",
        "data-role": "name",
      });
      name.addEventListener("input", () => {
        row.name = name.value;
        row.key = null;
        this.write();
      });
      line.append(name);
      line.append(row.group ? el("span", { class: "builder-badge" }, "group") : this.chooser(row));
      const remove = el(
        "button",
        {
          type: "button",
          class: "builder-remove",
          "data-role": "remove",
          "aria-label": `Remove ${row.name || "this row"}`,
          title: "Remove",
        },
        "×"
      );
      remove.addEventListener("click", () => this.remove(row, siblings));
      line.append(remove);
      node.append(line);
      if (row.group) {
        const children = el("div", { class: "builder-children" });
        children.append(...row.group.map((child) => this.rowNode(child, row.group, depth + 1)));
        node.append(children, this.addButtons(row));
      } else {
        node.append(this.fieldsNode(row));
      }
      const kept = row.extra.map(([key, value]) => `${key}: ${value}`).join(", ");
      if (kept) {
        node.append(el("p", { class: "builder-kept small muted" }, `Kept as written: ${kept}`));
      }
      node.append(el("ul", { class: "builder-problems", hidden: true }));
      return node;
    }

    chooser(row) {
      const select = el("select", {
        class: "builder-distribution",
        "aria-label": `Distribution of ${row.name}`,
        "data-role": "distribution",
      });
      if (!row.distribution) select.append(el("option", { value: "" }, "choose a distribution"));
      for (const [label, kinds] of this.setup.groups) {
        const group = el("optgroup", { label: label });
        for (const kind of kinds) group.append(el("option", { value: kind }, kind));
        select.append(group);
      }
      select.value = row.distribution;
      select.addEventListener("change", () => this.choose(row, select.value));
      return select;
    }

    fieldsNode(row) {
      const wrap = el("div", { class: "builder-fields" });
      if (!row.distribution && row.written !== null) {
        const message = `Written as ${row.written}: choose a distribution to replace it.`;
        wrap.append(el("p", { class: "small muted" }, message));
        return wrap;
      }
      const spec = row.distribution ? this.setup.distributions[row.distribution] : null;
      const keys = spec ? spec.fields : FIELD_ORDER.filter((key) => key in row.fields);
      for (const key of keys) {
        const input = el("input", {
          type: "text",
          class: `mono${LIST_FIELDS.includes(key) ? " builder-list-field" : ""}`,
          value: row.fields[key] || "",
          placeholder: spec ? spec.placeholders[key] || "" : "",
          autocomplete: "off",
          autocapitalize: "off",
          spellcheck: "false",
          "data-role": `field-${key}`,
          "aria-label": `${key} of ${row.name}`,
        });
        input.addEventListener("input", () => {
          row.fields[key] = input.value;
          row.typed.add(key);
          this.write();
        });
        const label = el("label", { class: `builder-field builder-field-${key}` });
        label.append(el("span", {}, key), input);
        wrap.append(label);
      }
      if (spec) wrap.append(el("p", { class: "builder-hint small muted" }, spec.hint));
      return wrap;
    }

    addButtons(row) {
      const actions = el("div", { class: "builder-actions" });
      for (const [kind, text] of [["param", "Add parameter"], ["group", "Add group"]]) {
        const attrs = { type: "button", class: "button small", "data-builder-add": kind };
        attrs["data-group-id"] = row.id;
        actions.append(el("button", attrs, text));
      }
      return actions;
    }

    // Changes -----------------------------------------------------------------------------

    find(id, rows) {
      for (const row of rows) {
        if (row.id === id) return row;
        const inner = row.group ? this.find(id, row.group) : null;
        if (inner) return inner;
      }
      return null;
    }

    clicked(event) {
      const button = event.target.closest("[data-builder-add]");
      if (!button) return;
      const groupId = Number(button.dataset.groupId || 0);
      const siblings = groupId ? this.find(groupId, this.rows).group : this.rows;
      const row = newRow(siblings, button.dataset.builderAdd === "group");
      siblings.push(row);
      this.write();
      this.render({ id: row.id, role: "name", select: true });
    }

    remove(row, siblings) {
      const index = siblings.indexOf(row);
      siblings.splice(index, 1);
      this.write();
      const next = siblings[index] || siblings[index - 1];
      this.render(next ? { id: next.id, role: "name" } : null);
    }

    choose(row, kind) {
      row.distribution = kind;
      row.explicit = false;
      row.written = null;
      const fields = this.setup.distributions[kind].fields;
      // Keys kept as written that the new distribution takes become its fields.
      row.extra = row.extra.filter(([key, value]) => {
        if (key === "distribution") return false;
        if (!fields.includes(key) || (row.fields[key] || "") !== "") return true;
        row.fields[key] = LIST_FIELDS.includes(key) ? value.slice(1, -1) : value;
        return false;
      });
      this.write();
      this.render({ id: row.id, role: "distribution" });
    }

    // The check's problems, under the rows they name --------------------------------------

    markProblems() {
      for (const list of this.list.querySelectorAll(".builder-problems")) {
        list.replaceChildren();
        list.hidden = true;
      }
      for (const node of this.form.querySelectorAll("#config-problems li")) {
        const path = node.querySelector(".problem-path");
        if (!path || !path.textContent.startsWith("parameters.")) continue;
        const found = this.locate(this.rows, path.textContent.slice("parameters.".length));
        if (found) this.addProblem(found.row, node.textContent);
      }
      this.markDuplicates(this.rows);
    }

    // The row a problem's path names; names may hold dots, so the longest name wins.
    locate(rows, rest) {
      const byLength = rows.slice().sort((a, b) => b.name.length - a.name.length);
      for (const row of byLength) {
        if (rest === row.name) return { row: row };
        if (!rest.startsWith(`${row.name}.`) && !rest.startsWith(`${row.name}[`)) continue;
        const tail = rest.slice(row.name.length + 1);
        if (row.group && tail.startsWith("parameters.")) {
          return this.locate(row.group, tail.slice("parameters.".length)) || { row: row };
        }
        return { row: row };
      }
      return null;
    }

    markDuplicates(rows) {
      const seen = new Map();
      for (const row of rows) {
        if (seen.has(row.name)) {
          const message = "another parameter here has this name; the config keeps only the last";
          this.addProblem(row, `${row.name}: ${message}`);
        }
        seen.set(row.name, row);
        if (row.group) this.markDuplicates(row.group);
      }
    }

    addProblem(row, message) {
      const node = this.list.querySelector(`[data-row-id="${row.id}"] > .builder-problems`);
      if (!node) return;
      node.append(el("li", {}, message));
      node.hidden = false;
    }
  }

  function start() {
    const root = document.getElementById("parameter-builder");
    if (!root || root.dataset.started) return;
    root.dataset.started = "yes";
    builder = new Builder(root);
  }

  document.addEventListener("DOMContentLoaded", start);
  // A refused create swaps the whole form in again: a new builder for it.
  document.addEventListener("htmx:load", start);
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (builder && event.detail.elt.id === "config-check") builder.sentSeq = builder.seq;
  });
  document.addEventListener("htmx:afterSettle", () => {
    if (builder && document.body.contains(builder.root)) builder.answered(false);
  });
  for (const name of ["htmx:sendError", "htmx:responseError"]) {
    document.addEventListener(name, (event) => {
      if (builder && event.detail.elt.id === "config-check") builder.failed();
    });
  }
})();
