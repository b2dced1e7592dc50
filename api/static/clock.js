// The plant's clock on the page: the current shift's name, start–end (plant time) and
// progress in the header, and the line above each machine's timeline.
"use strict";

import * as i18n from "./i18n.js";

const { t } = i18n;
const $ = (id) => document.getElementById(id);

function span(s) {
  return t("shiftNow", s.name, i18n.clockTime(Date.parse(s.start)), i18n.clockTime(Date.parse(s.end)));
}

/** "early · 06:00–14:00 · 3 h 05 min left", or "no shift planned · next: late at 14:00"
 * for a calendar answer `c` at `at` (ms). */
export function shiftText(c, at) {
  if (c.shift) {
    return span(c.shift) + " · " + t("shiftLeft", i18n.duration(Math.max(0, Date.parse(c.shift.end) - at)));
  }
  const next = c.next_shift;
  return t("noShift") + (next ? " · " + t("nextShift", next.name, i18n.clockTime(Date.parse(next.start))) : "");
}

/** The header's shift: name, start–end, a progress bar and the time left. */
export function shiftHeader(c, at) {
  const s = c.shift;
  $("shift").dataset.shift = s ? s.id : "";
  const start = s ? Date.parse(s.start) : 0;
  const end = s ? Date.parse(s.end) : 0;
  const progress = s ? Math.min(1, Math.max(0, (at - start) / Math.max(1, end - start))) : 0;
  $("shift-name").textContent = s ? span(s) : t("noShift");
  const bar = $("shift-bar");
  bar.hidden = !s;
  bar.firstChild.style.width = (100 * progress) + "%";
  bar.setAttribute("role", "progressbar");
  bar.setAttribute("aria-valuenow", String(Math.round(100 * progress)));
  bar.setAttribute("aria-valuetext", i18n.pct(progress));
  $("shift-left").textContent = s ? t("shiftLeft", i18n.duration(Math.max(0, end - at))) : "";
}
