// The printable shift report (docs/API.md "Shift report"): GET api/v1/shifts/{id}/report
// with the key the live page keeps, shown in the plant's time zone and language
// (`?lang=` overrides the gateway's `api.language`). Every text comes from i18n.js.
"use strict";

import * as i18n from "./i18n.js";
import { el } from "./dom.js";

const KEY_ITEM = "oee-edge-api-key";  // the live page's
const params = new URLSearchParams(location.search);
const R = () => i18n.t("rep");

function headers() {
  const key = localStorage.getItem(KEY_ITEM);
  return key ? { Authorization: "Bearer " + key } : {};
}

async function get(path) {
  const r = await fetch(path, { headers: headers() });
  if (r.status === 401) throw new Error(R().keyNeeded);
  const body = await r.json();
  if (!r.ok) throw new Error(body.detail || r.statusText);
  return body;
}

const ms = (iso) => Date.parse(iso);
const at = (iso) => (iso ? i18n.dayTime(ms(iso)) : "–");
const num = (x) => (x === null || x === undefined ? "–" : String(x));
const mins = (s) => (s === null ? "–" : i18n.lostTime(s));

function table(head, rows, cls) {
  const t = el("table", cls);
  const tr = el("tr");
  for (const h of head) tr.append(el("th", null, h));
  t.append(el("thead"));
  t.firstChild.append(tr);
  const body = el("tbody");
  for (const row of rows) {
    const r = el("tr");
    for (const cell of row) r.append(el("td", null, cell));
    body.append(r);
  }
  t.append(body);
  return t;
}

function section(title, content) {
  const s = el("section");
  s.append(el("h2", null, title));
  if (Array.isArray(content) && content.length === 0) s.append(el("p", "muted", R().none));
  else s.append(content);
  return s;
}

function figureRows(rows) {
  const r = R();
  // A, P, Q as the live page abbreviates them (V, L, Q in German), named in a legend.
  const head = [r.machine, r.oee, i18n.t("A"), i18n.t("P"), i18n.t("Q"), r.coverage, r.good,
    r.reject, r.target, r.attainment];
  return table(head, rows.map((x) => [
    x.name, i18n.pct(x.oee), i18n.pct(x.availability), i18n.pct(x.performance),
    i18n.pct(x.quality), i18n.pct(x.coverage), num(x.output?.good), num(x.output?.reject),
    num(x.output?.target), i18n.pct(x.output?.attainment),
  ]), "figures");
}

// The quality figures (docs/SPC.md "Quality figures"): FPY and scrap rate of the line, each
// machine and product, and the line's rolled throughput yield with the machines left out.
function qualitySection(doc) {
  const r = R();
  const line = doc.quality_figures;
  if (!line) return section(r.quality, el("p", "muted", r.notKept));  // kept before v 2
  const rows = [];
  // A machine's products under it when it made more than one (the line's by product are
  // in the JSON and the CSV: on paper they would repeat the machines' rows).
  const add = (name, q, products) => {
    rows.push([name, i18n.parts(q.total), i18n.parts(q.good), i18n.parts(q.reject),
      i18n.parts(q.scrap_booked), i18n.pct(q.fpy), i18n.pct(q.scrap_rate)]);
    for (const p of products && q.products.length > 1 ? q.products : []) {
      if (p.product === null) continue;
      rows.push([name + " · " + p.product + (p.name ? " " + p.name : ""), i18n.parts(p.total),
        i18n.parts(p.good), i18n.parts(p.reject), "", i18n.pct(p.fpy), i18n.pct(p.scrap_rate)]);
    }
  };
  add(doc.line, line, false);
  for (const m of doc.machines) if (m.quality_figures) add(m.machine, m.quality_figures, true);
  const s = section(r.quality, table([r.machine, r.total, r.good, r.reject, r.booked, r.fpy,
    r.scrapRate], rows, "quality"));
  const used = line.machines.filter((m) => !line.missing.includes(m.machine));
  const rty = el("p", "rty", r.rty(used.map((m) => m.machine).join(" × "), i18n.pct(line.rty)));
  if (line.missing.length) {
    rty.append(el("span", "muted", " · " + r.rtyMissing(line.missing.join(", "))));
  }
  s.append(rty);
  return s;
}

// The defect Pareto: the line's (when it has more than one machine), then each machine's.
function paretoSection(doc) {
  const r = R();
  const parts = [];
  if (doc.quality_figures && doc.machines.length > 1) parts.push([doc.line, doc.quality_figures]);
  for (const m of doc.machines) if (m.quality_figures) parts.push([m.machine, m.quality_figures]);
  const rows = parts.flatMap(([name, q]) => q.pareto.map((x, i) => [name, String(i + 1),
    x.reason_code === null ? r.byMachine : x.reason_code + " " + x.reason, i18n.parts(x.count),
    i18n.pct(x.share), i18n.pct(x.cumulative)]));
  return section(r.pareto, rows.length ? table([r.machine, r.rank, r.reason, r.quantity, r.share,
    r.cumulative], rows, "pareto") : []);
}

// The shift's orders (what each gained in the shift, its progress and status at the
// shift's end), plan versus actual, and its changeovers (docs/API.md "Shift report").
function ordersSection(doc) {
  const r = R();
  if (!doc.orders) return section(r.orders, el("p", "muted", r.ordersNotKept));  // before v 3
  const s = section(r.orders, doc.orders.length ? table(
    [r.machine, r.order, r.product, r.goodShift, r.progress, r.status, r.due, r.onTime],
    doc.orders.map((o) => [o.machine, o.order + (o.customer ? " · " + o.customer : ""),
      o.product, i18n.parts(o.good) + " / " + i18n.parts(o.quantity),
      o.percent === null ? "–" : i18n.pct(o.percent / 100), r.orderStatus[o.status] || "–",
      at(o.due), o.on_time === null ? "–" : (o.on_time ? r.yes : r.no)]), "orders") : []);
  const p = doc.plan;
  if (p && (p.planned || p.delivered_orders)) {
    s.append(el("p", "plan", r.plan(i18n.parts(Math.round(p.planned)), i18n.parts(p.produced),
      i18n.pct(p.attainment), i18n.pct(p.volume_mix), i18n.pct(p.sequence),
      i18n.pct(p.in_window), i18n.pct(p.otd_count), p.on_time_orders, p.delivered_orders)));
  }
  return s;
}

function changeoverSection(doc) {
  const r = R();
  const rows = (doc.changeovers || []).map((c) => [c.machine,
    c.from_product + " → " + c.to_product, at(c.start), mins(c.duration_s),
    c.standard_s === null ? "–" : mins(c.standard_s), c.loss_s === null ? "–" : mins(c.loss_s),
    c.reason || "–"]);
  return section(r.changeovers, rows.length ? table([r.machine, r.products, r.start, r.duration,
    r.standard, r.overStandard, r.reason], rows, "changeovers") : []);
}

function render(doc) {
  const r = R();
  const main = document.getElementById("report");
  main.replaceChildren();
  const rows = [{ name: doc.line, ...doc }, ...doc.machines.map((m) => ({ name: m.machine, ...m }))];
  const figures = section(r.figures, figureRows(rows));
  figures.append(el("p", "muted legend", i18n.t("A") + " " + r.a + " · " + i18n.t("P") + " " +
    r.p + " · " + i18n.t("Q") + " " + r.q));
  main.append(figures);
  const losses = doc.losses.filter((x) => x.seconds > 0);
  main.append(section(r.losses, losses.length ? table([r.loss, r.seconds, r.points],
    losses.map((x) => [r.lossName[x.name] || x.name, mins(x.seconds), i18n.pct(x.points)])) : []));
  main.append(section(r.stops, doc.stops.length ? table(
    [r.machine, r.start, r.end, r.duration, r.state, r.reason, r.by],
    doc.stops.map((s) => [s.machine, at(s.start), at(s.end), mins(s.duration_s),
      i18n.t("state", s.state) + (s.planned ? " (" + r.planned + ")" : ""),
      s.reason_code === null ? (s.planned_reason || "–") : s.reason_code + " " + (s.reason || ""),
      s.by || "–"]), "stops") : []));
  main.append(qualitySection(doc));
  main.append(paretoSection(doc));
  main.append(ordersSection(doc));
  main.append(changeoverSection(doc));
  main.append(section(r.alarms, doc.alarms.length ? table(
    [r.machine, r.rule, r.severity, r.raised, r.cleared, r.acked],
    doc.alarms.map((a) => [a.machine, a.message, a.severity, at(a.raised), at(a.cleared),
      a.acked_by || "–"])) : []));
  const note = el("p", "note", doc.notes ? doc.notes.text : r.noNotes);
  if (doc.notes) note.append(el("span", "muted", " — " + doc.notes.by + ", " + at(doc.notes.ts)));
  main.append(section(r.notes, note));
  main.append(section(r.flags, doc.flags.length ? table([r.machine, r.flags],
    doc.flags.map((f) => [f.machine, r.flag[f.flag] ? r.flag[f.flag](f.value) : f.flag])) : []));
}

function heading(doc) {
  const r = R();
  const s = doc.shift;
  document.title = r.title + " · " + doc.line + " · " + s.id;
  document.getElementById("title").textContent = r.title + " · " + r.line + " " + doc.line;
  const span = s.date + " · " + s.name + " · " + i18n.clockTime(ms(s.start)) + "–" +
    i18n.clockTime(ms(s.end)) + " (" + doc.timezone + ")";
  const state = doc.final ? r.final : r.soFar(at(doc.until));
  document.getElementById("sub").textContent = r.shift + " " + span + " · " + state + " · " +
    r.built(at(doc.built_at));
}

// `?shift=current` (the shift in progress, from the calendar) and `?shift=previous` (the
// last one finished, from the shift listing) as the live page links them; else the id.
async function shiftId(shift, plant, query) {
  if (shift === "current") return plant?.shift?.id;
  if (shift !== "previous") return shift;
  const listing = await get(document.body.dataset.shifts.replace(/\/$/, "") + query);
  return listing.shifts.find((s) => s.finished)?.id;
}

async function main() {
  let lang = params.get("lang");
  const button = document.getElementById("print");
  button.addEventListener("click", () => window.print());
  const shift = params.get("shift");
  const line = params.get("line");
  const query = line ? "?line=" + encodeURIComponent(line) : "";
  try {
    const plant = await get(document.body.dataset.calendar + query).catch(() => null);
    i18n.configure(i18n.pickLanguage(lang || plant?.language), plant?.timezone || "UTC");
    button.textContent = R().print;
    const id = await shiftId(shift, plant, query);
    if (!id || !/^\d{4}-\d\d-\d\d\/[^/]+$/.test(id)) throw new Error(R().missing);
    const path = document.body.dataset.shifts + id + "/report" + query;
    const doc = await get(path);
    i18n.configure(i18n.language(), doc.timezone);
    heading(doc);
    render(doc);
    document.body.dataset.ready = "1";
  } catch (err) {
    document.getElementById("title").textContent = R().title;
    document.getElementById("report").replaceChildren(el("p", "error", err.message));
    document.body.dataset.ready = "error";
  }
}

main();
