// The parts of the SPC panel (spc.js) that depend only on the chart's answer: the
// phase and spec lines, the legend, the list of violations, the capability figures, and
// the limits of a live point.
"use strict";

import { el } from "./dom.js";
import { clockTime, dayTime, t } from "./i18n.js";
import { num, zoneLegend } from "./spcchart.js";

/** The picker's line of a chart: machine, name, kind, the rules its latest point broke. */
export function optionText(c, machineName) {
  const alarm = c.violations && c.violations.length ? " ⚠ " + c.violations.join(", ") : "";
  return machineName(c.machine) + " · " + (c.name || c.chart) + " (" + t("spcKind", c.kind) + ")" + alarm;
}

export function spreadName(kind) {
  return { imr: "MR", xbar_r: "R", xbar_s: "S" }[kind] || "";
}

export function when(text) {
  const ms = Date.parse(text || "");
  return Number.isNaN(ms) ? "–" : dayTime(ms);
}

export function phaseText(d) {
  const L = d.limits;
  if (!L) return t("spcNoLimits");
  if (d.phase !== "II") return t("spcTrial", L.subgroups);
  const who = L.frozen_by || "–";
  if (L.source === "manual") return t("spcManual", who, when(L.frozen_at));
  const base = L.baseline_from ? " (" + t("spcBaseline", when(L.baseline_from), when(L.baseline_to),
    (L.excluded || []).length) + ")" : "";
  return t("spcFrozen", who, when(L.frozen_at)) + base;
}

export function specLine(d) {
  const s = d.spec;
  const box = el("span", "spc-spec");
  if (!s) return box;
  const unit = d.unit ? " " + d.unit : "";
  const bits = [];
  if (s.lsl !== null && s.lsl !== undefined) bits.push("LSL " + num(s.lsl));
  if (s.target !== null && s.target !== undefined) bits.push(t("spcTarget") + " " + num(s.target));
  if (s.usl !== null && s.usl !== undefined) bits.push("USL " + num(s.usl));
  box.textContent = t("spcSpec") + ": " + bits.join(" · ") + unit + (d.product ? " (" + d.product + ")" : "");
  return box;
}

export function legend(d) {
  const box = el("div", "spc-legend");
  box.append(el("span", "key series", t("spcStat", d.kind)), el("span", "key cl", "CL"),
    el("span", "key lim", "UCL / LCL"));
  for (const [z, text] of zoneLegend()) box.append(el("span", "key zone-" + z, text));
  return box;
}

/** rule ids and names by the seq of the point that completed them. */
export function namesBySeq(violations) {
  const out = new Map();
  for (const v of violations) {
    const list = out.get(v.seq) || [];
    list.push(v.rule + " " + v.name);
    out.set(v.seq, list);
  }
  return out;
}

export function violationList(d) {
  const box = el("div", "spc-violations");
  box.append(el("h3", "", t("spcViolations")));
  if (!d.violations.length) {
    box.append(el("p", "muted", t("spcNoViolations")));
    return box;
  }
  const list = el("ul");
  const unit = d.unit ? " " + d.unit : "";
  for (const v of [...d.violations].sort((a, b) => b.seq - a.seq).slice(0, 8)) {
    const li = el("li");
    li.dataset.rule = v.rule;
    li.dataset.seq = v.seq;
    const pts = v.points && v.points.length ? v.points : [v.seq];
    li.append(el("span", "muted", clockTime(Date.parse(v.ts)) + " #" + v.seq), el("strong", "", v.rule),
      el("span", "", v.name + " · " + num(v.value) + unit + " · " + t("spcPoints", pts[0], pts[pts.length - 1])));
    list.append(li);
  }
  box.append(list);
  return box;
}

export function figure(key, value, ci) {
  const f = el("div", "fig");
  f.dataset.fig = key;
  const cls = value === null || value === undefined ? "" : value >= 1.33 ? "good" : value >= 1 ? "fair" : "poor";
  f.append(el("span", "muted", { cp: "Cp", cpk: "Cpk", pp: "Pp", ppk: "Ppk", cpm: "Cpm" }[key]),
    el("strong", "val " + cls, value === null || value === undefined ? "–" : value.toFixed(2)));
  if (ci) f.append(el("span", "ci muted", "95 %: " + ci[0].toFixed(2) + "–" + ci[1].toFixed(2)));
  return f;
}

export function ppm(c) {
  const f = el("div", "fig ppm");
  f.dataset.fig = "ppm";
  const whole = (x) => (x === null || x === undefined ? "–" : Math.round(x).toLocaleString());
  const out = (c.below_lsl || 0) + (c.above_usl || 0);
  f.append(el("span", "muted", t("spcPpm")),
    el("strong", "val", whole(c.observed_ppm)),
    el("span", "muted", t("spcObserved") + " (" + out + "/" + c.n + ") · " + t("spcExpected") + " " +
      whole(c.expected_ppm)));
  return f;
}

/**
 * A live point's centre line and limits. The state on MQTT/SSE carries the limits at
 * the limits' subgroup size; a point of another size (variable n) gets its own (the
 * textbook's: p̄ ± 3√(p̄(1−p̄)/n), ū ± 3√(ū/n), n·p̄ ± 3√(n·p̄(1−p̄)), x̄̄ ± 3σ̂/√n), as
 * the API's stored points have them; a re-read replaces them with the stored ones.
 */
export function pointLimits(kind, L, n, d = {}) {
  if (d.ucl !== undefined && d.center !== undefined) return [d.center, d.ucl, d.lcl];
  if (!L) return [null, null, null];
  if (!n || n === L.n) return [L.center, L.ucl, L.lcl];
  const c = L.center;
  const clamp = (s, mid) => [mid, mid + 3 * s, Math.max(0, mid - 3 * s)];
  if (kind === "p") return clamp(Math.sqrt((c * (1 - c)) / n), c);
  if (kind === "u") return clamp(Math.sqrt(c / n), c);
  if (kind === "np") {
    const p = c / L.n;
    return clamp(Math.sqrt(n * p * (1 - p)), n * p);
  }
  if (kind === "xbar_r" || kind === "xbar_s") {
    const s = L.sigma / Math.sqrt(n);
    return [c, c + 3 * s, c - 3 * s];
  }
  return [L.center, L.ucl, L.lcl];
}
