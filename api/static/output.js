// Output against target on each machine card and in each line's box (docs/OEE.md
// "Targets and rate"): the product, good/reject/total in the shift against its target,
// the target due by now, the current rate, the expected end and whether it reaches the
// target. The figures are the API's `output` (GET /machines, GET /lines/{line}/output)
// kept current by SSE `output` and `line_output`.
"use strict";

import { el } from "./dom.js";
import { parts, t } from "./i18n.js";

/** The card's output block; `refs` holds the parts that change. */
export function createOutput() {
  const box = el("section", "output");
  box.setAttribute("aria-label", t("outputTitle"));
  const product = el("div", "product");
  const main = el("div", "out-main");
  const bar = el("div", "out-bar");
  const fill = el("div", "fill");
  const due = el("div", "due");
  bar.append(fill, due);
  const detail = el("div", "out-detail");
  const pace = el("div", "out-pace");
  box.append(product, main, bar, detail, pace);
  box.refs = { product, main, bar, fill, due, detail, pace };
  return box;
}

/** The product's configured name with its code ("Bracket A (A-100)"), or the code. */
export function productText(m) {
  if (!m.product) return "";
  return m.product_name ? m.product_name + " (" + m.product + ")" : m.product;
}

/** m: the machine as /api/v1/machines answers (`output` may be null). */
export function updateOutput(box, m) {
  const r = box.refs;
  const o = m.output;
  r.product.textContent = m.product ? t("productIs", productText(m)) : "";
  box.dataset.track = o ? trackOf(o) : "none";
  if (!o) {
    r.main.textContent = t("noOutput");
    for (const x of [r.detail, r.pace]) x.textContent = "";
    r.bar.hidden = true;
    return;
  }
  r.main.textContent = mainText(o);
  r.detail.textContent = t("outDetail", parts(o.reject), parts(o.total), parts(o.due));
  r.pace.replaceChildren(...paceItems(o));
  drawBar(r, o);
}

function mainText(o) {
  return o.target === null ? t("outGoodOnly", parts(o.good)) : t("outGood", parts(o.good), parts(o.target));
}

/** "on" (will reach the target at the current rate), "behind", or "unknown". */
function trackOf(o) {
  if (o.on_track === true) return "on";
  if (o.on_track === false) return "behind";
  return "unknown";
}

function paceItems(o) {
  const rate = el("span", "rate", t("outRate", parts(o.rate_per_h)));
  const expected = el("span", "expected", t("outExpected", parts(o.expected)));
  const mark = el("span", "track " + trackOf(o), t("track", trackOf(o), o.final));
  return [rate, expected, mark];
}

// The bar: good parts against the target, with a mark where the target due by now is.
function drawBar(r, o) {
  const ok = typeof o.target === "number" && o.target > 0;
  r.bar.hidden = !ok;
  if (!ok) return;
  r.fill.style.width = Math.min(100, (100 * o.good) / o.target) + "%";
  r.due.style.left = Math.min(100, (100 * (o.due || 0)) / o.target) + "%";
  r.due.title = t("outDue", parts(o.due));
}

/** A line's output in its box: "good 1,200 / target 2,500", "300 /h", "✓ on track". */
export function lineOutput(o) {
  const box = el("div", "line-output");
  if (!o) return box;
  box.dataset.track = trackOf(o);
  box.append(el("span", "", mainText(o)), el("span", "rate", t("outRate", parts(o.rate_per_h))),
    el("span", "track " + trackOf(o), t("track", trackOf(o), o.final)));
  return box;
}

/** The figures of an SSE `output`/`line_output` payload (the same as the API's). */
export function figuresOf(d) {
  const keys = ["ts", "final", "shift", "good", "reject", "total", "target", "target_source",
    "due", "planned_s", "elapsed_s", "remaining_s", "rate_per_h", "rate_window_s",
    "average_per_h", "expected", "on_track"];
  return Object.fromEntries(keys.map((k) => [k, d[k] ?? null]));
}
