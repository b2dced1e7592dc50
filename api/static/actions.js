// The operator's buttons on a machine card (for a key of the operate or admin scope, or
// an API without keys): "book scrap" (quantity, reject reason, product, note: POST
// /api/v1/machines/{id}/scrap) and the shift's hand-over notes (GET and PUT
// /api/v1/shifts/{date}/{name}/notes?line=). Both open the page's one dialog; what the
// API refuses is shown in it, word for word.
"use strict";

import { el, field, showDialog } from "./dom.js";
import { clockTime, dayTime, t } from "./i18n.js";
import { productText } from "./output.js";

const enc = encodeURIComponent;
const CLOSE_AFTER_MS = 1200;

/**
 * hooks: api(path, init) -> answer, machine(id), calendar(id) -> its calendar answer,
 * refresh(id) (re-read after a change), now() -> ms.
 */
export class Actions {
  constructor(dialog, hooks) {
    this.dialog = dialog;
    this.hooks = hooks;
  }

  /** The card's buttons for machine `m`. */
  buttons(m) {
    const scrap = el("button", "act scrap", t("bookScrap"));
    scrap.type = "button";
    scrap.dataset.action = "scrap";
    scrap.addEventListener("click", () => this.openScrap(m.id));
    const notes = el("button", "act notes", t("shiftNotes"));
    notes.type = "button";
    notes.dataset.action = "notes";
    notes.addEventListener("click", () => this.openNotes(m.id));
    return [scrap, notes];
  }

  // ---------------------------------------------------------------- scrap
  async openScrap(id) {
    const m = this.hooks.machine(id);
    const status = statusLine();
    const form = el("form", "act-form");
    showDialog(this.dialog, t("scrapTitle", m.name), [form, status], t("close"), "input");
    const base = "api/v1/machines/" + enc(id);
    let reasons, detail;
    try {
      [reasons, detail] = await Promise.all([this.hooks.api(base + "/scrap-reasons"), this.hooks.api(base)]);
    } catch (err) {
      status.textContent = t("failed", err.message);
      return;
    }
    const qty = el("input");
    Object.assign(qty, { name: "quantity", type: "number", min: 1, max: 1000000, step: 1,
      required: true, value: 1, inputMode: "numeric" });
    const reason = select("reason_code", reasons.map((r) =>
      [String(r.reason_code), r.reason_code + " · " + r.text + (r.category ? " (" + r.category + ")" : "")]));
    const product = select("product", productChoices(detail));
    if (detail.products.some((p) => p.code === detail.product)) product.value = detail.product;
    const note = el("input");
    Object.assign(note, { name: "note", type: "text", maxLength: 500 });
    const save = el("button", "choice primary", t("bookScrapSave"));
    save.type = "submit";
    save.disabled = !reasons.length;
    if (!reasons.length) status.textContent = t("noScrapReasons");
    form.append(field(t("scrapQty"), qty), field(t("scrapReason"), reason),
      field(t("scrapProduct"), product), field(t("scrapNote"), note), save);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const body = { quantity: Number(qty.value), reason_code: Number(reason.value) };
      if (product.value) body.product = product.value;
      if (note.value.trim()) body.note = note.value.trim();
      this._send(id, "POST", base + "/scrap", body, status, save,
        (a) => t("scrapBooked", a.quantity, a.reason));
    });
    qty.focus();
    qty.select();
  }

  // ---------------------------------------------------------------- notes
  async openNotes(id) {
    const m = this.hooks.machine(id);
    const shift = (this.hooks.calendar(id) || {}).shift;
    const status = statusLine();
    if (!shift) {
      showDialog(this.dialog, t("notesTitle", m.line), [el("p", "muted", t("noShift"))], t("close"));
      return;
    }
    const path = "api/v1/shifts/" + shift.id.split("/").map(enc).join("/") + "/notes?line=" + enc(m.line);
    const who = el("p", "notes-who muted");
    const text = el("textarea");
    Object.assign(text, { name: "text", rows: 7, maxLength: 4000 });
    const save = el("button", "choice primary", t("notesSave"));
    save.type = "submit";
    const form = el("form", "act-form");
    form.append(el("p", "notes-shift", t("notesShift", shift.name, clockTime(Date.parse(shift.start)),
      clockTime(Date.parse(shift.end)))), who, field(t("notesText"), text), save);
    showDialog(this.dialog, t("notesTitle", m.line), [form, status], t("close"), "textarea");
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this._send(id, "PUT", path, { text: text.value }, status, save, (a) => {
        who.textContent = this._who(a);
        return t("notesSaved");
      });
    });
    try {
      const note = await this.hooks.api(path);
      text.value = note.text;
      who.textContent = this._who(note);
    } catch (err) {
      status.textContent = t("failed", err.message);
    }
  }

  _who(note) {
    if (!note.by) return t("notesNone");
    const ms = Date.parse(note.ts);
    const when = this.hooks.now() - ms < 12 * 3600 * 1000 ? clockTime(ms) : dayTime(ms);
    return t("notesBy", note.by, when);
  }

  // One change: the answer's words on success (the dialog closes after a scrap), the
  // API's `detail` on a refusal (the dialog stays, with what was typed).
  async _send(id, method, path, body, status, button, said) {
    button.disabled = true;
    status.className = "status-line";
    try {
      const answer = await this.hooks.api(path, {
        method, body: JSON.stringify(body), headers: { "Content-Type": "application/json" },
      });
      status.textContent = said(answer);
      this.hooks.refresh(id);
      if (method === "POST") setTimeout(() => this.dialog.open && this.dialog.close(), CLOSE_AFTER_MS);
    } catch (err) {
      status.className = "status-line error";
      status.textContent = t("failed", err.message);
    } finally {
      button.disabled = false;
    }
  }
}

function statusLine() {
  const status = el("p", "status-line");
  status.setAttribute("role", "status");
  return status;
}

function select(name, options) {
  const s = el("select");
  s.name = name;
  for (const [value, text] of options) {
    const o = el("option", "", text);
    o.value = value;
    s.append(o);
  }
  return s;
}

// The configured products (the current one chosen); without any, the current product
// (sent as none: the API books against the current one).
function productChoices(detail) {
  const list = detail.products.map((p) => [p.code, p.name ? p.name + " (" + p.code + ")" : p.code]);
  return list.length ? list : [["", detail.product ? productText(detail) : t("productNone")]];
}
