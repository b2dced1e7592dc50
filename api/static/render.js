// Building and updating the page's elements: the machine cards, the line boxes and the
// Pareto rows. Every text comes from i18n.js; every figure says how far to trust it
// (its coverage, a performance above 100 %, held counts, production off the plan).
"use strict";

import { el } from "./dom.js";
import { createOutput, updateOutput } from "./output.js";
import { createQuality } from "./quality.js";
import { createTimeline } from "./timeline.js";
import { pct, t, wholePct } from "./i18n.js";

export { el };

/** Below this share of its window with data a figure is greyed and says its coverage. */
export const LOW_COVERAGE = 0.5;

// Traffic-light class of a ratio: OEE against 85 % (world class) and 60 %; A, P and Q
// against 90 % and 75 %.
function grade(x, good, fair) {
  if (x === null || x === undefined) return "";
  return x >= good ? "good" : x >= fair ? "fair" : "poor";
}

// P above 100 % (a P of null, e.g. no planned time off the plan, is not marked).
const pFlagged = (o) => typeof o.performance === "number" &&
  (o.performance > 1 || o.performance_flagged === true);
const isLow = (o) => typeof o.coverage === "number" && o.coverage < LOW_COVERAGE;

/** One machine's card; `refs` holds the parts that change. `actions` is the place for
 * an operator's buttons (scrap, notes, …) under the figures. */
export function createCard(m, onWindow, onStop) {
  const card = el("article", "card");
  card.dataset.machine = m.id;
  const head = el("header");
  head.append(el("h2", "", m.name), el("div", "path", m.path));
  const status = el("div", "status");
  const state = el("span", "state");
  const dur = el("span", "dur");
  status.append(state, dur);
  const reason = el("div", "reason");
  const ring = el("div", "ring");
  const ringVal = el("span", "val", "–");
  const ringInner = el("div");
  ringInner.append(ringVal, el("span", "lbl", "OEE"));
  ring.append(ringInner);
  const gauges = el("div", "gauges");
  gauges.append(ring);
  const bars = {};
  for (const [k, label] of [["availability", "A"], ["performance", "P"], ["quality", "Q"]]) {
    const bar = el("div", "bar");
    bar.dataset.k = k;
    const track = el("div", "track");
    track.append(el("div", "fill"));
    bar.append(el("span", "muted", t(label)), track, el("span", "val", "–"));
    gauges.append(bar);
    bars[k] = bar;
  }
  const coverage = el("div", "coverage");
  const wins = el("div", "wins");
  wins.addEventListener("click", (ev) => {
    const b = ev.target.closest("button");
    if (b) onWindow(b.dataset.window);
  });
  const shift = el("div", "shiftline");
  const timeline = createTimeline(onStop);
  const output = createOutput();
  const order = el("div", "order-box");  // its current order (orders.js)
  order.hidden = true;
  const quality = createQuality();
  const counts = el("div", "counts");
  const flags = el("ul", "flags");
  const actions = el("div", "actions");
  card.append(head, status, reason, flags, output, order, gauges, coverage, wins, shift, timeline.box,
    counts, quality, actions);
  card.refs = { state, dur, reason, flags, output, order, gauges, ring, ringVal, bars, coverage, wins,
    shift, timeline, counts, quality, actions };
  return card;
}

/** m: the machine as /api/v1/machines answers; cal: its calendar (null: not known yet). */
export function updateCard(card, m, windows, selected, cal) {
  const r = card.refs;
  const state = m.state || "offline";
  card.dataset.state = state;
  r.state.dataset.state = state;
  r.state.className = "state " + state;
  r.state.textContent = t("state", m.state || "unknown");
  r.dur.dataset.since = m.since || "";
  r.reason.textContent = m.reason ? t("reason", m.reason) : "";
  r.flags.setAttribute("aria-label", t("dataFlag"));
  r.flags.replaceChildren(...flagItems(m, selected, cal));
  r.counts.textContent = t("parts", m.counts);
  updateOutput(r.output, m);
  const noShift = selected === "shift" && cal && cal.shift === null;
  const o = noShift ? {} : m.oee[selected] || {};
  r.gauges.dataset.window = selected;
  r.gauges.classList.toggle("low", isLow(o));
  r.coverage.textContent = noShift ? t("noShift") : isLow(o) ? t("lowCoverage", wholePct(o.coverage)) : "";
  r.ring.className = "ring " + grade(o.oee, 0.85, 0.6);
  r.ring.style.setProperty("--v", Math.min(1, Math.max(0, o.oee || 0)));
  r.ringVal.textContent = pct(o.oee);
  for (const [k, bar] of Object.entries(r.bars)) {
    const flagged = k === "performance" && pFlagged(o);
    bar.className = "bar " + grade(o[k], 0.9, 0.75) + (flagged ? " flagged" : "");
    bar.style.setProperty("--v", Math.min(1, Math.max(0, o[k] || 0)));
    bar.lastChild.textContent = pct(o[k]) + (flagged ? " ⚠" : "");
  }
  r.wins.replaceChildren(...windows.map((w) => windowTile(m, w, selected, cal)));
}

function windowTile(m, w, selected, cal) {
  const o = m.oee[w] || {};
  const b = el("button");
  b.type = "button";
  b.dataset.window = w;
  b.setAttribute("aria-pressed", String(w === selected));
  b.append(el("span", "", t("window", w)));
  if (w === "shift" && cal && cal.shift === null) {
    b.classList.add("noshift");
    b.append(el("span", "note", t("noShift")));
    return b;
  }
  b.append(el("span", "fig", pct(o.oee)));
  if (isLow(o)) {
    b.classList.add("low");
    b.append(el("span", "note", t("lowShort", wholePct(o.coverage))));
    b.title = t("lowCoverage", wholePct(o.coverage));
  }
  return b;
}

/** What is wrong with a machine's data or figures now: a figure is never shown without
 * saying what it leaves out or why it cannot be right. */
export function flagItems(m, selected, cal) {
  const items = (m.issues || []).map((i) => {
    const li = el("li", "flag " + i.kind, "⚠ " + i.detail);
    if (i.count > 1) li.append(el("span", "muted", " (" + i.count + "×)"));
    return li;
  });
  if (m.suspects) items.push(el("li", "flag suspect", t("held", m.suspects)));
  const o = m.oee[selected] || {};
  if (pFlagged(o)) items.push(el("li", "flag perf", t("pFlagged")));
  // Off the plan: the calendar says no shift, yet the machine runs (or, where the
  // figures count them, made parts off the plan).
  const offPlan = m.state === "running" || (m.off_plan && m.off_plan.total > 0);
  if (cal && cal.shift === null && cal.shifts.length && offPlan) {
    items.push(el("li", "flag offplan", t("offPlan")));
  }
  return items;
}

export function lineBox(line, figures, window) {
  const box = el("div", "line");
  box.dataset.line = line;
  const ring = el("div", "ring small " + grade(figures && figures.oee, 0.85, 0.6));
  ring.style.setProperty("--v", Math.min(1, Math.max(0, (figures && figures.oee) || 0)));
  ring.append(el("span", "val", pct(figures && figures.oee)));
  const text = el("div", "figs");
  text.append(el("h2", "", line), el("div", "muted", t("lineOee") + " · " + t("window", window)));
  if (figures) {
    text.append(el("div", "", t("A") + " " + pct(figures.availability) + " · " + t("P") + " " +
      pct(figures.performance) + " · " + t("Q") + " " + pct(figures.quality)));
  }
  box.classList.toggle("low", Boolean(figures) && isLow(figures));
  box.append(ring, text);
  return box;
}

/** Pareto rows {machine, state, reason, count, seconds}, biggest first; a tap on one
 * calls `onRow(row)` (its stops, to give them a reason). */
export function paretoRows(rows, lostTime, onRow) {
  if (!rows.length) return [el("p", "muted", t("paretoNone"))];
  const total = rows.reduce((sum, r) => sum + r.seconds, 0);
  const top = rows[0].seconds || 1;
  return rows.map((r) => {
    const row = el("button", "prow " + r.state);
    row.type = "button";
    row.dataset.state = r.state;
    const what = el("div", "what");
    what.append(el("strong", "", r.machine + " "),
      el("span", "", t("state", r.state) + " · " + (r.reason || t("noReason"))));
    const track = el("div", "track");
    const fill = el("div", "fill");
    fill.style.width = (100 * r.seconds / top) + "%";
    track.append(fill);
    const num = el("div", "num", lostTime(r.seconds) + " · " + r.count + "× · " +
      Math.round(100 * r.seconds / (total || 1)) + " %");
    row.append(what, track, num);
    row.addEventListener("click", () => onRow(r));
    return row;
  });
}
