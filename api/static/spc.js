// The "Process (SPC)" panel: a chart picker (GET /api/v1/spc/charts), the chosen chart
// over the last hour (GET /api/v1/spc/charts/{chart}: points with the limits each was
// judged against, zones, run rule violations) drawn by spcchart.js, its phase (trial
// limits or frozen, by whom and when), its spec limits, and the capability of the
// current shift (GET …/capability?shift=current). Kept current by SSE `spc` (each point,
// the MQTT chart state) and `spc_violation`.
"use strict";

import { el } from "./dom.js";
import { clockTime, t } from "./i18n.js";
import { drawChart, num } from "./spcchart.js";
import { figure, legend, namesBySeq, optionText, phaseText, pointLimits, ppm, specLine, spreadName,
  violationList } from "./spcparts.js";
import "./spctexts.js";

const CHART_ITEM = "oee-edge-spc-chart";
const RANGE_MS = 3600 * 1000;  // the chart's default range on the API: the last hour
const CAPABILITY_MIN_MS = 30000;  // at most one capability read per this while points come
const VARIABLES = new Set(["imr", "xbar_r", "xbar_s"]);
const enc = encodeURIComponent;

/** hooks: api(path) -> Promise<json>, now() -> ms, machineName(id). */
export class SpcPanel {
  constructor(root, hooks) {
    this.root = root;
    this.hooks = hooks;
    this.charts = [];        // GET /api/v1/spc/charts
    this.selected = localStorage.getItem(CHART_ITEM);
    this.data = null;        // the selected chart's answer, kept current from SSE
    this.capability = null;  // its capability answer (or {error})
    this.capabilityAt = 0;
    this.picked = null;      // the index of the tapped point
    this.drawPending = false;
    this.width = 0;
    addEventListener("resize", () => this._soon());
  }

  /** Read the list of charts and the chosen one (at start and after each reconnect). */
  async load() {
    try {
      this.charts = (await this.hooks.api("api/v1/spc/charts")).charts;
    } catch (err) {
      this._fail(err);
      return;
    }
    if (!this.charts.some((c) => c.chart === this.selected)) {
      this.selected = this.charts.length ? this.charts[0].chart : null;
    }
    await this._loadChart();
  }

  async _loadChart() {
    const id = this.selected;
    this.data = null;
    this.picked = null;
    if (id !== null) {
      try {
        this.data = await this.hooks.api("api/v1/spc/charts/" + enc(id));
      } catch (err) {
        this._fail(err);
        return;
      }
      await this._loadCapability(true);
    }
    this.render();
  }

  async _loadCapability(force) {
    const d = this.data;
    if (!d || !VARIABLES.has(d.kind) || !d.spec) {
      this.capability = null;
      return;
    }
    if (!force && this.hooks.now() - this.capabilityAt < CAPABILITY_MIN_MS) return;
    this.capabilityAt = this.hooks.now();
    try {
      this.capability = await this.hooks.api("api/v1/spc/charts/" + enc(d.chart) + "/capability?shift=current");
    } catch (err) {
      this.capability = { error: err.message };
    }
  }

  _fail(err) {
    this.root.replaceChildren(el("p", "spc-error", t("spcLoadFailed", err.message)));
  }

  /** SSE `spc`: a chart's new point and its state after it. */
  point(d) {
    const entry = this.charts.find((c) => c.chart === d.chart);
    if (entry) Object.assign(entry, d);
    if (!this.data || d.chart !== this.data.chart) {
      if (entry) this._drawPicker();
      return;
    }
    // The chart's phase and limits now (a state may follow a change of limits alone).
    Object.assign(this.data, { phase: d.phase, limits: d.limits, spec: d.spec });
    this._soon();
    const pts = this.data.points;
    const last = pts.length ? pts[pts.length - 1].seq : 0;
    if (d.seq === null || d.seq === undefined || d.seq <= last) return;  // no new point
    const [center, ucl, lcl] = pointLimits(this.data.kind, d.limits, d.n, d);
    pts.push({ seq: d.seq, ts: d.ts, value: d.value, spread: d.spread, n: d.n, center, ucl, lcl,
      zone: d.zone, violations: d.violations || [], phase: d.phase, product: d.product, held: d.held || 0 });
    const from = this.hooks.now() - RANGE_MS;
    while (pts.length > 1 && Date.parse(pts[0].ts) < from) pts.shift();
    this.data.count = pts.length;
    this.data.held = (this.data.held || 0) + (d.held || 0);
    this._loadCapability(false).then(() => this._soon());
  }

  /** SSE `spc_violation`: a run rule the chart broke at its point `seq`. */
  violation(d) {
    if (!this.data || d.chart !== this.data.chart) return;
    const known = this.data.violations.some((v) => v.seq === d.seq && v.rule === d.rule);
    if (!known) this.data.violations.push(d);
    this._soon();
  }

  _soon() {
    if (this.drawPending) return;
    this.drawPending = true;
    requestAnimationFrame(() => {
      this.drawPending = false;
      this.render();
    });
  }

  render() {
    if (!this.charts.length) {
      this.root.replaceChildren(el("p", "spc-none", t("spcNone")));
      return;
    }
    const parts = [this._picker()];
    if (this.data) parts.push(...this._chart(this.data));
    this.root.replaceChildren(...parts);
  }

  _picker() {
    const label = el("label", "spc-pick");
    const select = el("select");
    select.id = "spc-chart";
    for (const c of this.charts) {
      const o = el("option", "", optionText(c, this.hooks.machineName));
      o.value = c.chart;
      o.selected = c.chart === this.selected;
      select.append(o);
    }
    select.addEventListener("change", () => {
      this.selected = select.value;
      localStorage.setItem(CHART_ITEM, select.value);
      this._loadChart();
    });
    label.append(el("span", "muted", t("spcPick")), select);
    return label;
  }

  _drawPicker() {
    const old = this.root.querySelector(".spc-pick");
    if (old) old.replaceWith(this._picker());
  }

  _chart(d) {
    this.width = Math.max(300, Math.floor(this.root.clientWidth || 900));
    const names = namesBySeq(d.violations);
    const pts = d.points;
    const head = el("div", "spc-head");
    head.dataset.chart = d.chart;
    head.dataset.phase = d.phase;
    head.append(el("strong", "spc-name", d.name + " · " + t("spcKind", d.kind)),
      el("span", "spc-phase", phaseText(d)), specLine(d));
    const out = [head];
    if (!pts.length) {
      out.push(el("p", "spc-empty", t("spcNoPoints")));
      return out;
    }
    const common = { ts: pts.map((p) => Date.parse(p.ts)), seqs: pts.map((p) => p.seq), unit: d.unit,
      onPick: (i) => { this.picked = i; this._soon(); } };
    const bad = pts.map((p) => (names.get(p.seq) || []).filter((v) => !v.startsWith("SPREAD")));
    const main = drawChart({ values: pts.map((p) => p.value), centers: pts.map((p) => p.center),
      ucls: pts.map((p) => p.ucl), lcls: pts.map((p) => p.lcl), bad, label: d.name },
    { ...common, zones: true, kind: "main", spec: d.kind === "imr" ? d.spec : null }, this.width, 280);
    out.push(legend(d), main);
    const L = d.limits;
    if (VARIABLES.has(d.kind) && pts.some((p) => p.spread !== null)) {
      // The spread chart's limits where the point had limits of its own (none before the
      // trial limits were computed, as on the chart above).
      const flat = (v) => pts.map((p) => (L && p.center !== null ? v ?? null : null));
      const spreadBad = pts.map((p) => (names.get(p.seq) || []).filter((v) => v.startsWith("SPREAD")));
      out.push(el("div", "spc-sub", t("spcSpread", d.kind)), drawChart({
        values: pts.map((p) => p.spread), centers: flat(L && L.spread_center), ucls: flat(L && L.spread_ucl),
        lcls: flat(L && L.spread_lcl), bad: spreadBad, label: t("spcSpread", d.kind) },
      { ...common, zones: false, kind: "spread", spec: null }, this.width, 150));
    }
    out.push(this._caption(d, names), violationList(d), this._capabilityBox(d));
    return out;
  }

  _caption(d, names) {
    const p = this.picked === null ? null : d.points[this.picked];
    const box = el("p", "spc-caption" + (p ? "" : " muted"));
    if (!p) {
      box.textContent = t("spcRange", d.points.length) + " · " + t("spcTap") +
        (d.held ? " · " + t("spcHeld", d.held) : "");
      return box;
    }
    const unit = d.unit ? " " + d.unit : "";
    const bits = ["#" + p.seq, clockTime(Date.parse(p.ts)), t("spcStat", d.kind) + " " + num(p.value) + unit,
      "n " + num(p.n)];
    if (p.spread !== null && p.spread !== undefined) bits.push(spreadName(d.kind) + " " + num(p.spread));
    if (p.zone) bits.push(t("spcZone") + " " + p.zone);
    box.textContent = bits.join(" · ");
    for (const v of names.get(p.seq) || []) box.append(el("strong", "bad", v));
    return box;
  }

  _capabilityBox(d) {
    const box = el("div", "spc-cap");
    box.append(el("h3", "", t("spcCap")));
    if (!VARIABLES.has(d.kind)) {
      box.append(el("p", "muted", t("spcCapAttr")));
      return box;
    }
    if (!d.spec) {
      box.append(el("p", "muted", t("spcNoSpec")));
      return box;
    }
    const c = this.capability;
    if (!c) return box;
    if (c.error) {
      box.append(el("p", "muted", c.error));
      return box;
    }
    box.append(el("p", "muted", t("spcCapN", c.n, c.subgroups)));
    const flags = new Map((c.flags || []).map((f) => [f.flag, f.value]));
    // Fewer than 25 subgroups: the figures are shown greyed, with why (AIAG).
    const grid = el("div", "spc-figs");
    grid.classList.toggle("spc-few", flags.has("few_subgroups"));
    for (const k of ["cp", "cpk", "pp", "ppk", "cpm"]) grid.append(figure(k, c[k], c.ci && c.ci[k]));
    grid.append(ppm(c));
    box.append(grid);
    if (flags.has("few_subgroups")) box.append(el("p", "spc-warn", t("spcFew", flags.get("few_subgroups"))));
    if (flags.has("out_of_control") || d.violations.length) box.append(el("p", "spc-warn", t("spcUnstable")));
    if (flags.has("held")) box.append(el("p", "spc-warn", t("spcHeld", flags.get("held"))));
    return box;
  }
}
