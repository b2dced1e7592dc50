// Active alarms: a banner under the header (severity colour, machine, message, since
// when, acknowledged by whom, and an "acknowledge" button for a key that may operate) and
// a badge on each machine's card. Read from GET /api/v1/alarms?active=true and kept
// current by SSE `alarm` (raised, acknowledged, cleared); an acknowledgement is
// POST /api/v1/alarms/{id}/ack, shown from its answer.
"use strict";

import { el } from "./dom.js";
import { clockTime, dayTime, t } from "./i18n.js";

const ORDER = { critical: 0, warning: 1, info: 2 };
const FIELDS = ["id", "machine", "rule", "kind", "severity", "message", "value", "raised",
  "cleared", "active", "acked_by", "acked_at"];

/**
 * hooks: canOperate(), post(path) -> Promise<alarm>, machineName(id), now() -> ms,
 * changed() (the banner or a count changed: redraw the badges).
 */
export class Alarms {
  constructor(banner, hooks) {
    this.banner = banner;
    this.hooks = hooks;
    this.active = new Map();  // id -> the alarm as the API answers it
    this.errors = new Map();  // id -> why its acknowledgement failed
  }

  /** The answer of GET /api/v1/alarms?active=true replaces what is known. */
  load(list) {
    this.active = new Map(list.map((a) => [a.id, a]));
    this.render();
  }

  /** An SSE `alarm` (or an ack's answer): the alarm as it stands after the change. */
  apply(d) {
    const a = Object.fromEntries(FIELDS.map((k) => [k, d[k] ?? null]));
    if (a.active === false || d.change === "cleared") this.active.delete(a.id);
    else this.active.set(a.id, a);
    this.render();
  }

  /** The machine's active alarms, worst first. */
  of(machine) {
    return this.sorted().filter((a) => a.machine === machine);
  }

  sorted() {
    return [...this.active.values()].sort((a, b) =>
      (ORDER[a.severity] ?? 3) - (ORDER[b.severity] ?? 3) || Date.parse(a.raised) - Date.parse(b.raised));
  }

  render() {
    const rows = this.sorted().map((a) => this._row(a));
    const old = this.banner.querySelector(".alarms");
    const box = el("div", "alarms");
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", t("alarmsTitle"));
    box.append(...rows);
    if (!rows.length) old?.remove();  // an empty banner takes no room
    else if (old) old.replaceWith(box);
    else this.banner.prepend(box);
    this.hooks.changed();
  }

  _row(a) {
    const row = el("div", "alarm " + a.severity);
    row.dataset.alarm = a.id;
    row.dataset.machine = a.machine;
    const text = el("div", "alarm-text");
    text.append(el("strong", "sev", t("severity", a.severity)),
      el("span", "who", this.hooks.machineName(a.machine)),
      el("span", "msg", a.message),
      el("span", "since muted", t("alarmSince", this._when(a.raised))));
    row.append(text);
    if (a.acked_by) {
      row.append(el("span", "acked", t("ackedBy", a.acked_by, this._when(a.acked_at))));
    } else if (this.hooks.canOperate()) {
      const b = el("button", "ack", t("ack"));
      b.type = "button";
      b.addEventListener("click", () => this._ack(a, b));
      row.append(b);
    }
    if (this.errors.has(a.id)) row.append(el("span", "alarm-error", this.errors.get(a.id)));
    return row;
  }

  // Today's times as 14:05, an older one with its date.
  _when(text) {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) return "";
    return this.hooks.now() - ms < 12 * 3600 * 1000 ? clockTime(ms) : dayTime(ms);
  }

  async _ack(a, button) {
    button.disabled = true;
    try {
      const answer = await this.hooks.post("api/v1/alarms/" + encodeURIComponent(a.id) + "/ack");
      this.errors.delete(a.id);
      this.apply(answer);
    } catch (err) {
      this.errors.set(a.id, t("ackFailed", err.message));
      this.render();
    }
  }
}

/** The badge in a card's header: the number of the machine's active alarms, coloured by
 * the worst (hidden when none). */
export function drawBadge(card, alarms) {
  let badge = card.querySelector(".alarm-badge");
  if (!badge) {
    badge = el("span", "alarm-badge");
    badge.setAttribute("role", "status");
    const head = card.querySelector("header");
    head.insertBefore(badge, head.querySelector(".path"));  // beside the name
  }
  badge.hidden = !alarms.length;
  badge.className = "alarm-badge " + (alarms.length ? alarms[0].severity : "");
  badge.textContent = alarms.length ? t("alarmCount", alarms.length) : "";
  badge.title = alarms.map((a) => a.message).join("\n");
}
