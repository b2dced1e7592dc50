// The shift's quality on each machine card (docs/SPC.md "Quality figures"): first-pass
// yield, scrap rate and the three reject reasons booked most, from
// GET /api/v1/quality/machines/{id} (the current shift, else the plant day), read again
// with the Pareto (at most every 10 s while parts are counted).
"use strict";

import { el } from "./dom.js";
import { parts, pct, t } from "./i18n.js";

/** The card's quality block; `refs` holds the parts that change. */
export function createQuality() {
  const box = el("section", "quality");
  box.setAttribute("aria-label", t("qualityTitle"));
  const figs = el("div", "q-figs");
  const reasons = el("ol", "q-reasons");
  box.append(figs, reasons);
  box.refs = { figs, reasons };
  return box;
}

/** q: the API's answer (null: not read yet). */
export function updateQuality(box, q) {
  const r = box.refs;
  if (!q) {
    r.figs.textContent = "";
    r.reasons.replaceChildren();
    return;
  }
  box.dataset.fpy = q.fpy === null ? "" : String(q.fpy);
  const fpy = el("span", "q-fpy", t("fpy", pct(q.fpy)));
  const scrap = el("span", "q-scrap", t("scrapRate", pct(q.scrap_rate)));
  const span = el("span", "muted", q.shift ? t("qualityShift") : t("day"));
  r.figs.replaceChildren(fpy, scrap, span);
  // Where the card's Q (OEE) and this FPY differ, say why (docs/SPC.md "FPY and the OEE
  // quality factor Q"): the OEE Q of the same counts, with the reason on hover/tap.
  if (q.flags.some((f) => f.flag === "q_weighted_by_cycle")) {
    const oeeQ = el("span", "q-oee muted", t("oeeQuality", pct(q.oee_quality)));
    oeeQ.title = t("qWeighted");
    r.figs.append(oeeQ);
  }
  const booked = q.pareto.filter((row) => row.reason_code !== null).slice(0, 3);
  r.reasons.replaceChildren(...booked.map((row) => {
    const li = el("li", "", t("qualityReason", row.reason, parts(row.count), pct(row.share)));
    li.dataset.code = row.reason_code;
    return li;
  }));
  if (!booked.length) r.reasons.append(el("li", "muted", t("noReasons")));
}
