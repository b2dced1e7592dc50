// The small panel a tapped stop opens (a modal <dialog>: Escape closes it, focus stays
// inside): its state, start, duration and reason, and, for a key that may operate, the
// reasons of the machine's tree for that state. A pick calls
// PUT /api/v1/machines/{id}/stops/{start}/reason with the interval's exact start.
"use strict";

import { el, showDialog } from "./dom.js";
import { clockSeconds, duration, t } from "./i18n.js";
import { plannedSection } from "./planned.js";

/**
 * hooks: canOperate(), reasons(machineId) -> Promise<[{code, text, states}]>,
 * exactStart(stop) -> Promise<string> (RFC 3339), put(path, body) -> Promise<answer>,
 * saved(stop, answer), now() -> ms; send(method, path, body) and planned(stop, answer)
 * for planned time (planned.js).
 */
export class StopPanel {
  constructor(dialog, hooks) {
    this.dialog = dialog;
    this.hooks = hooks;
    dialog.addEventListener("click", (ev) => {
      if (ev.target === dialog) dialog.close();  // a tap outside the panel
    });
  }

  /** The stops of one Pareto row (machine, state, reason), latest first, to pick one. */
  openList(title, stops) {
    const list = el("div", "choices");
    for (const s of stops.slice(0, 20)) {
      const b = el("button", "choice", clockSeconds(s.start) + " · " + this._length(s));
      b.type = "button";
      b.addEventListener("click", () => this.open(s));
      list.append(b);
    }
    if (!stops.length) list.append(el("p", "muted", t("noStops")));
    this._show(t("stopsOf", title), [list]);
  }

  /** One stop: {machine, machineName, state, start, end, reason, reason_code}. */
  open(stop) {
    const facts = el("dl", "facts");
    const fact = (k, v) => facts.append(el("dt", "", t(k)), el("dd", "", v));
    fact("stopState", t("state", stop.state));
    fact("stopStart", clockSeconds(stop.start));
    fact("stopDuration", this._length(stop));
    fact("stopReason", stop.reason || t("noReason"));
    if (stop.planned_kind) {
      fact("plannedFact", t("plannedNow", t("kind", stop.planned_kind), stop.planned_reason || ""));
    }
    const status = el("p", "status-line");
    status.setAttribute("role", "status");
    const body = [facts, status];
    if (this.hooks.canOperate()) {
      const picker = el("div", "choices");
      picker.setAttribute("aria-label", t("pickReason"));
      body.splice(1, 0, el("h3", "", t("pickReason")), picker, this._planned(stop, status));
      this._fill(picker, stop, status);
    } else {
      status.textContent = t("readOnly");
    }
    this._show(t("stopTitle", stop.machineName), body);
  }

  // "make planned" (kind and reason) or its undo; the panel shows the stop again after.
  _planned(stop, status) {
    return plannedSection(stop, {
      exactStart: this.hooks.exactStart,
      send: this.hooks.send,
      planned: (s, answer, text) => {
        this.hooks.planned(s, answer);
        this.open(s);
        this.dialog.querySelector(".status-line").textContent = text;
      },
      status: (text) => { status.textContent = text; },
    });
  }

  _length(stop) {
    const end = stop.end === null ? this.hooks.now() : stop.end;
    const d = duration(end - stop.start);
    return stop.end === null ? t("stopOngoing", d) : d;
  }

  async _fill(picker, stop, status) {
    let tree;
    try {
      tree = await this.hooks.reasons(stop.machine);
    } catch (err) {
      status.textContent = t("failed", err.message);
      return;
    }
    const fits = tree.filter((r) => r.states.includes(stop.state));
    for (const r of fits) {
      const b = el("button", "choice", r.text);
      b.type = "button";
      b.dataset.code = r.code;
      b.setAttribute("aria-pressed", String(r.code === stop.reason_code));
      b.addEventListener("click", () => this._pick(stop, r.code, r.text, status));
      picker.append(b);
    }
    if (!fits.length) picker.append(el("p", "muted", t("noReasons")));
    if (stop.reason_code !== null && stop.reason_code !== undefined) {
      const clear = el("button", "choice clear", t("clearReason"));
      clear.type = "button";
      clear.addEventListener("click", () => this._pick(stop, null, null, status));
      picker.append(clear);
    }
  }

  async _pick(stop, code, text, status) {
    try {
      const start = await this.hooks.exactStart(stop);
      const path = "api/v1/machines/" + encodeURIComponent(stop.machine) + "/stops/" +
        encodeURIComponent(start) + "/reason";
      const answer = await this.hooks.put(path, { reason_code: code });
      this.hooks.saved(stop, answer);
      status.textContent = code === null ? t("cleared") : t("saved", text);
      setTimeout(() => this.dialog.open && this.dialog.close(), 900);
    } catch (err) {
      status.textContent = t("failed", err.message);
    }
  }

  _show(title, body) {
    showDialog(this.dialog, title, body, t("close"));
  }
}
