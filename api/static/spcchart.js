// A control chart drawn as SVG: the plotted points (x, x̄, p, np, c or u) one per
// subgroup, evenly spaced in the order they were made (a control chart's x axis is the
// subgroup, not the clock), joined by a line; the centre line and the control limits of
// each point as step lines (a variable subgroup size gives each point its own limits);
// the zones C, B, A (1σ, 2σ, 3σ of the plotted statistic) shaded; points that broke a
// run rule in red, named in their <title> (hover) and in the caption when tapped. The
// spread chart (R, S or MR) below has its own centre line and limits.
"use strict";

import { clockSeconds, clockTime, t } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";
const PAD = { left: 12, right: 92, top: 14, bottom: 26 };  // right: the limits' labels
const TICK_PX = 64;  // the room a time label ("14:05") needs, with a gap

function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A number as the chart shows it: 4 significant digits, no exponent for plant values. */
export function num(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  const a = Math.abs(x);
  if (a !== 0 && (a < 0.001 || a >= 1e7)) return x.toExponential(2);
  return String(Number(x.toPrecision(a >= 1000 ? 6 : 4)));
}

function scale(lo, hi, top, bottom) {
  const span = hi - lo || Math.abs(hi) || 1;
  const [a, b] = [lo - span * 0.08, hi + span * 0.08];
  return (v) => bottom - ((v - a) / (b - a)) * (bottom - top);
}

/** Step line through per-point values `ys` (null: a gap), each over its point's slot. */
function stepPath(xs, ys, half, y) {
  let d = "";
  let open = false;
  xs.forEach((x, i) => {
    if (ys[i] === null || ys[i] === undefined) {
      open = false;
      return;
    }
    const yy = y(ys[i]).toFixed(1);
    d += (open ? "L" : "M") + (x - half).toFixed(1) + " " + yy + "L" + (x + half).toFixed(1) + " " + yy;
    open = true;
  });
  return d;
}

/** A band between two per-point step lines (lo, hi: functions of the point index). */
function bandPath(xs, lo, hi, half, y) {
  const up = [];
  const down = [];
  xs.forEach((x, i) => {
    const [a, b] = [lo(i), hi(i)];
    if (a === null || b === null) return;
    up.push([x - half, y(b)], [x + half, y(b)]);
    down.unshift([x + half, y(a)], [x - half, y(a)]);
  });
  if (!up.length) return "";
  return "M" + [...up, ...down].map(([px, py]) => px.toFixed(1) + " " + py.toFixed(1)).join("L") + "Z";
}

/**
 * Draw one chart into a new <svg> of `width` x `height` px. series: {values, centers,
 * ucls, lcls (per point, null: none), bad (per point: rule names or []), label}; opts:
 * {zones: bool, spec: {lsl, usl} | null, ts: per point ms, seqs, unit, onPick(i)}.
 */
export function drawChart(series, opts, width, height) {
  const { values, centers, ucls, lcls, bad } = series;
  const n = values.length;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
    class: "spc-svg " + (opts.kind || "") });
  root.setAttribute("aria-label", series.label);
  const [x0, x1] = [PAD.left, width - PAD.right];
  const step = n > 1 ? (x1 - x0) / n : (x1 - x0);
  const xs = values.map((_, i) => x0 + step * (i + 0.5));
  const half = step / 2;
  const spec = opts.spec ? [opts.spec.lsl, opts.spec.usl].filter((v) => v !== null && v !== undefined) : [];
  const all = [...values, ...centers, ...ucls, ...lcls, ...spec].filter((v) => v !== null && v !== undefined);
  const y = scale(Math.min(...all), Math.max(...all), PAD.top, height - PAD.bottom);
  if (opts.zones) drawZones(root, xs, centers, ucls, lcls, half, y);
  const line = (ys, cls) => root.append(svg("path", { d: stepPath(xs, ys, half, y), class: cls }));
  line(centers, "cl");
  line(ucls, "lim");
  line(lcls, "lim");
  for (const v of spec) {
    root.append(svg("line", { x1: x0, x2: x1, y1: y(v), y2: y(v), class: "spec" }));
  }
  labels(root, x1, y, { UCL: last(ucls), CL: last(centers), LCL: last(lcls) }, opts.spec);
  const d = xs.map((x, i) => (values[i] === null ? "" : (i ? "L" : "M") + x.toFixed(1) + " " + y(values[i]).toFixed(1))).join("");
  root.append(svg("path", { d, class: "series" }));
  values.forEach((v, i) => {
    if (v === null) return;
    const c = svg("circle", { cx: xs[i], cy: y(v), r: bad[i].length ? 6 : 4,
      class: bad[i].length ? "pt bad" : "pt" });
    c.dataset.i = i;
    c.dataset.seq = opts.seqs[i];
    const when = opts.ts[i] ? clockTime(opts.ts[i]) + " · " : "";
    c.append(svg("title", {}, "#" + opts.seqs[i] + " · " + when + num(v) + (opts.unit ? " " + opts.unit : "") +
      (bad[i].length ? "\n" + bad[i].join("\n") : "")));
    root.append(c);
  });
  timeTicks(root, xs, opts.ts, height);
  root.addEventListener("click", (ev) => pick(ev, root, opts.onPick));
  return root;
}

const last = (a) => {
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== null && a[i] !== undefined) return a[i];
  return null;
};

// Zone C (within 1σ) lightest, B (1σ-2σ), A (2σ-3σ) darkest, each side; σ of the
// plotted statistic from the upper limit (UCL = CL + 3σ; the lower limit may be clamped
// at 0, so it is not used for σ; the zones stop at it, as the chart does).
function drawZones(root, xs, centers, ucls, lcls, half, y) {
  const s = (i) => (centers[i] === null || ucls[i] === null ? null : (ucls[i] - centers[i]) / 3);
  const floor = (i) => (lcls[i] === null || lcls[i] === undefined ? -Infinity : lcls[i]);
  const at = (k) => (i) => (s(i) === null ? null : Math.max(floor(i), centers[i] + k * s(i)));
  for (const [lo, hi, zone] of [[-3, -2, "a"], [-2, -1, "b"], [-1, 1, "c"], [1, 2, "b"], [2, 3, "a"]]) {
    const d = bandPath(xs, at(lo), at(hi), half, y);
    if (d) root.append(svg("path", { d, class: "zone zone-" + zone }));
  }
}

function labels(root, x, y, lines, spec) {
  const items = Object.entries(lines).filter(([, v]) => v !== null);
  if (spec) {
    if (spec.usl !== null && spec.usl !== undefined) items.push(["USL", spec.usl]);
    if (spec.lsl !== null && spec.lsl !== undefined) items.push(["LSL", spec.lsl]);
  }
  // Keep labels apart: sorted top to bottom, each at least 15 px below the one above.
  const placed = items.map(([k, v]) => [k, v, y(v)]).sort((a, b) => a[2] - b[2]);
  let prev = -Infinity;
  for (const [k, v, yy] of placed) {
    const at = Math.max(yy + 4, prev + 15);
    prev = at;
    root.append(svg("text", { x: x + 6, y: at, class: "yl-" + k.toLowerCase() }, k + " " + num(v)));
  }
}

// A time under every few points: as many as fit with a label's room each. Points a
// second apart need the seconds (14:05:09), else 14:05.
function timeTicks(root, xs, ts, height) {
  if (!xs.length || !ts.length) return;
  const short = ts[ts.length - 1] - ts[0] < 15 * 60000;
  const [label, px] = short ? [clockSeconds, TICK_PX * 1.4] : [clockTime, TICK_PX];
  const fit = Math.max(1, Math.floor((xs[xs.length - 1] - xs[0] + px) / px));
  const step = Math.max(1, Math.ceil(xs.length / fit));
  let last = -Infinity;
  for (let i = 0; i < xs.length; i += step) {
    const x = Math.max(xs[i], px / 2);  // the first label whole, not cut at the edge
    if (!ts[i] || x - last < px) continue;
    last = x;
    root.append(svg("text", { x, y: height - 6, class: "spc-tick" }, label(ts[i])));
  }
}

// A tap picks the nearest point (a finger is wider than a 4 px dot).
function pick(ev, root, onPick) {
  if (!onPick) return;
  const box = root.getBoundingClientRect();
  const scaleX = root.viewBox.baseVal.width / box.width;
  const x = (ev.clientX - box.left) * scaleX;
  let best = null;
  let dist = 24 * scaleX;
  for (const c of root.querySelectorAll("circle.pt")) {
    const d = Math.abs(Number(c.getAttribute("cx")) - x);
    if (d <= dist) [best, dist] = [c, d];
  }
  if (best) onPick(Number(best.dataset.i));
}

/** The zones' text for a legend ("C: within 1σ"...). */
export const zoneLegend = () => [["c", t("spcZoneC")], ["b", t("spcZoneB")], ["a", t("spcZoneA")]];
