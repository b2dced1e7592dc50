// The live page: reads the REST routes once (and again after each reconnect), then keeps
// itself current from /api/v1/events. While the stream is down it re-reads the machine
// list every `data-poll-ms` instead. With an API key configured, the key is asked for
// once, kept in localStorage and sent as `Authorization: Bearer`. Every time is shown on
// the plant's clock (the calendar's zone), in the configured or the browser's language.
"use strict";

import { EventStream } from "./sse.js";
import * as view from "./render.js";
import * as i18n from "./i18n.js";
import { drawTimeline } from "./timeline.js";
import { StopPanel } from "./stoppanel.js";
import { shiftHeader, shiftText } from "./clock.js";
import { Alarms, drawBadge } from "./alarms.js";
import { Actions } from "./actions.js";
import { eventHandlers } from "./events.js";
import { lineOutput } from "./output.js";
import { updateQuality } from "./quality.js";
import { SpcPanel } from "./spc.js";
import { OrdersPanel } from "./orders.js";

const { t } = i18n;
const cfg = document.body.dataset;
const POLL_MS = Number(cfg.pollMs) || 2000;
// Re-reading while live corrects what a missed or doubled count delta would leave; the
// timelines and the Pareto (one read per machine or line) less often.
const RESYNC_MS = { live: 60000, down: POLL_MS };
const FULL_MS = { live: 600000, down: 60000 };
const REDRAW_MS = 15000;      // the timelines' "now" moves along
const PARETO_MIN_MS = 10000;  // at most one Pareto read per this, however many oee events
const LOOKBACK_MS = 12 * 3600 * 1000;  // to find where a stop begun before the shift began
const KEY_ITEM = "oee-edge-api-key";
const WINDOW_ITEM = "oee-edge-window";

const $ = (id) => document.getElementById(id);
const app = {
  machines: new Map(),  // id -> the machine as /api/v1/machines answers, kept current
  cards: new Map(),     // id -> its card element
  segments: new Map(),  // id -> the timeline's state segments
  calendars: new Map(), // id -> the machine's /api/v1/calendar answer
  reasons: new Map(),   // id -> its reason tree (a promise)
  plant: null,          // the plant's /api/v1/calendar answer: zone, language, scope
  calendarUntil: Infinity,  // ms: a shift or day ends or begins, read the calendars again
  lines: new Map(),     // line -> {window -> figures}
  lineOutputs: new Map(),  // line -> its output against target (null: none)
  quality: new Map(),   // id -> its quality of the shift (GET /api/v1/quality/machines/{id})
  windows: [],
  selected: localStorage.getItem(WINDOW_ITEM),
  offsetMs: 0,          // server clock - this clock, from the Date header
  live: false,
  lastLoad: 0,
  lastFull: 0,
  loading: null,        // the full load in flight
  lastDraw: 0,
  paretoAt: 0,
  paretoTimer: null,
};
const stats = { loads: 0, events: 0 };  // shown as data-* on <body>, for tests and support

// ------------------------------------------------------------------ talking to the API
class KeyNeeded extends Error {}

function authHeaders() {
  const key = localStorage.getItem(KEY_ITEM);
  return key ? { Authorization: "Bearer " + key } : {};
}

async function api(path, init = {}) {
  const headers = { ...authHeaders(), ...(init.headers || {}) };
  const res = await fetch(path, { ...init, headers, cache: "no-store" });
  const date = Date.parse(res.headers.get("Date") || "");
  // The Date header has whole seconds: only a clearly wrong tablet clock is corrected.
  if (!Number.isNaN(date) && Math.abs(date - Date.now()) > 2000) app.offsetMs = date - Date.now();
  if (res.status === 401) {
    askKey();
    throw new KeyNeeded(t("keyNeeded"));
  }
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new Error(body.detail || path.split("?")[0] + ": HTTP " + res.status);
  }
  return res.json();
}

const send = (method, path, body) => api(path, {
  method, body: body === undefined ? undefined : JSON.stringify(body),
  headers: body === undefined ? {} : { "Content-Type": "application/json" },
});
const put = (path, body) => send("PUT", path, body);
const canOperate = () => Boolean(app.plant) && app.plant.scope !== "read";
const now = () => Date.now() + app.offsetMs;
const enc = encodeURIComponent;
const iso = (ms) => new Date(ms).toISOString();

function askKey() {
  stream.stop();
  $("keyform").hidden = false;
  setConn("key", t("keyNeeded"));
  $("key").focus();
}

$("keyform").addEventListener("submit", (ev) => {
  ev.preventDefault();
  localStorage.setItem(KEY_ITEM, $("key").value.trim());
  $("keyform").hidden = true;
  loadAll();
  stream.start();
});

let connState = ["connecting", ""];
function setConn(status, detail) {
  connState = [status, detail];
  app.live = status === "live";
  const conn = $("conn");
  conn.dataset.conn = status;
  conn.textContent = { live: t("live"), connecting: t("connecting"), key: t("keyNeeded") }[status] ||
    t("offline", detail);
}

// ------------------------------------------------------------------ language
function translateStatic() {
  document.title = t("title");
  for (const e of document.querySelectorAll("[data-t]")) e.textContent = t(e.dataset.t, e.dataset.arg);
  for (const e of document.querySelectorAll("[data-t-label]")) {
    e.setAttribute("aria-label", t(e.dataset.tLabel));
  }
  setConn(...connState);
}

function applyPlant(plant) {
  const lang = i18n.pickLanguage(plant.language);
  const changed = !app.plant || lang !== i18n.language() || plant.timezone !== i18n.zone();
  app.plant = plant;
  document.body.dataset.zone = plant.timezone;
  if (!changed) return;
  i18n.configure(lang, plant.timezone);
  translateStatic();
  app.cards.clear();  // made again in the new language
  renderWindows();
  renderCards();
}

// ------------------------------------------------------------------ loading
function loadAll() {
  // One at a time: a reconnect during a load waits for it and reads again.
  app.loading = (app.loading || Promise.resolve()).then(loadEverything);
  return app.loading;
}

async function loadEverything() {
  app.lastFull = now();
  try {
    await loadMachines();
    await loadCalendars();
    // The orders are not waited for: the changeover matrix is a history job, which may
    // first start a worker process; the cards must not wait on it.
    orders.load();
    await Promise.all([loadTimelines(), loadLines(), loadPareto(), loadQuality(), loadAlarms(),
      spc.load()]);
  } catch (err) {
    if (!(err instanceof KeyNeeded)) setConn(app.live ? "live" : "down", err.message);
  }
}

async function loadMachines() {
  const list = await api(cfg.machines);
  app.lastLoad = now();
  stats.loads += 1;
  document.body.dataset.loads = stats.loads;
  app.machines = new Map(list.map((m) => [m.id, m]));
  app.windows = list.length ? Object.keys(list[0].oee) : [];
  if (!app.windows.includes(app.selected)) app.selected = app.windows[0] || null;
  renderWindows();
  renderCards();
}

async function loadCalendars() {
  applyPlant(await api(cfg.calendar));
  const ids = [...app.machines.keys()];
  const answers = await Promise.all(ids.map((id) => api(cfg.calendar + "?machine=" + enc(id))));
  ids.forEach((id, i) => app.calendars.set(id, answers[i]));
  // The next instant a shift or a plant day begins or ends: read again then.
  const edges = [app.plant, ...answers].flatMap((c) => [c.day.end,
    c.shift && c.shift.end, c.next_shift && c.next_shift.start].filter(Boolean).map(Date.parse));
  app.calendarUntil = Math.min(...edges);
  renderCards();
  renderShift();
}

/** The range a machine's timeline shows: its shift, else (no shift planned) the day. */
function range(id) {
  const c = app.calendars.get(id);
  if (!c) return null;
  const r = c.shift || c.day;
  const label = c.shift ? c.shift.name : t("day");
  return { from: Date.parse(r.start), to: Date.parse(r.end), fromText: r.start, label };
}

function segment(id, fields) {
  const m = app.machines.get(id);
  return { machine: id, machineName: m ? m.name : id, ...fields };
}

async function loadTimelines() {
  await Promise.all([...app.machines.keys()].map(async (id) => {
    const r = range(id);
    if (!r) return;
    const to = Math.min(now(), r.to);
    const q = "?from=" + enc(r.fromText) + "&to=" + enc(iso(to));
    const body = await api("api/v1/machines/" + enc(id) + "/states" + q);
    const segs = body.intervals.map((i) => segment(id, {
      state: i.state, start: Date.parse(i.start), end: Date.parse(i.end), startText: i.start,
      reason: i.reason, reason_code: i.reason_code, clipped: Date.parse(i.start) <= r.from,
      planned_kind: i.planned_kind ?? null, planned_reason: i.planned_reason ?? null,
    }));
    const last = segs[segs.length - 1];
    if (last && last.end >= to - 1000) last.end = null;  // still going on
    app.segments.set(id, segs);
  }));
  drawTimelines();
}

async function loadLines() {
  const names = [...new Set([...app.machines.values()].map((m) => m.line))];
  const w = app.selected;
  await Promise.all(names.map(async (line) => {
    const [figures, out] = await Promise.all([
      api("api/v1/lines/" + enc(line) + "/oee?window=" + enc(w)),
      api("api/v1/lines/" + enc(line) + "/output")]);
    const entry = app.lines.get(line) || {};
    entry[w] = figures.computed ? figures : null;
    app.lines.set(line, entry);
    app.lineOutputs.set(line, out.output);
  }));
  renderLines();
}

async function loadPareto() {
  app.paretoAt = now();
  const names = [...new Set([...app.machines.values()].map((m) => m.line))];
  const w = app.selected;
  const answers = await Promise.all(names.map((line) =>
    api("api/v1/losses?line=" + enc(line) + "&window=" + enc(w))));
  const rows = answers.flatMap((a) => a.pareto).sort((a, b) => b.seconds - a.seconds);
  $("pareto-span").textContent = "· " + t("window", w);
  $("pareto").replaceChildren(...view.paretoRows(rows.slice(0, 10), i18n.lostTime, paretoStops));
}

// The shift's quality of every machine (the current plant day between shifts).
async function loadQuality() {
  await Promise.all([...app.machines.keys()].map(async (id) => {
    app.quality.set(id, await api("api/v1/quality/machines/" + enc(id)));
    const card = app.cards.get(id);
    if (card) updateQuality(card.refs.quality, app.quality.get(id));
  }));
}

function paretoSoon() {
  if (app.paretoTimer !== null) return;
  const wait = Math.max(0, app.paretoAt + PARETO_MIN_MS - now());
  app.paretoTimer = setTimeout(() => {
    app.paretoTimer = null;
    loadPareto().catch(() => {});
    loadQuality().catch(() => {});
    orders.soon();
  }, wait);
}

async function loadAlarms() {
  alarms.load((await api("api/v1/alarms?active=true")).alarms);
}

// ------------------------------------------------------------------ alarms, actions
const alarms = new Alarms($("banner"), {
  canOperate,
  post: (path) => send("POST", path),
  machineName: (id) => (app.machines.get(id) || { name: id }).name,
  now,
  changed() {
    for (const [id, card] of app.cards) drawBadge(card, alarms.of(id));
  },
});

const spc = new SpcPanel($("spc"), { api, now,
  machineName: (id) => (app.machines.get(id) || { name: id }).name });

const orders = new OrdersPanel($("orders"), $("panel"), {
  api,
  canOperate,
  machineIds: () => [...app.machines.keys()],
  machineName: (id) => (app.machines.get(id) || { name: id }).name,
  now,
  changed() {
    for (const [id, card] of app.cards) orders.drawCard(card.refs.order, id);
  },
});

const actions = new Actions($("panel"), {
  api,
  machine: (id) => app.machines.get(id),
  calendar: (id) => app.calendars.get(id),
  refresh: () => loadMachines().catch(() => {}),
  now,
});

// ------------------------------------------------------------------ a stop's panel
const panel = new StopPanel($("panel"), {
  canOperate,
  reasons(id) {
    if (!app.reasons.has(id)) {
      const tree = api("api/v1/machines/" + enc(id) + "/reasons");
      tree.catch(() => app.reasons.delete(id));  // asked again next time
      app.reasons.set(id, tree);
    }
    return app.reasons.get(id);
  },
  exactStart,
  put,
  send,
  planned() {
    drawTimelines();
    paretoSoon();
  },
  saved(stop, answer) {
    stop.reason = answer.reason;
    stop.reason_code = answer.reason_code;
    const m = app.machines.get(stop.machine);
    if (m && m.since && Date.parse(m.since) === stop.start) {
      Object.assign(m, { reason: answer.reason, reason_code: stop.reason_code });
      renderCard(stop.machine);
    }
    drawTimelines();
    paretoSoon();
  },
  now,
});

/** The stop's start as the store has it: a stop that began before the timeline did is
 * clipped there, so its real start is read from the history before. */
async function exactStart(stop) {
  if (!stop.clipped) return stop.startText;
  const q = "?from=" + enc(iso(stop.start - LOOKBACK_MS)) + "&to=" + enc(iso(stop.start + 1));
  const body = await api("api/v1/machines/" + enc(stop.machine) + "/states" + q);
  const last = body.intervals[body.intervals.length - 1];
  return last ? last.start : stop.startText;
}

function paretoStops(row) {
  const code = row.reason_code ?? null;
  const stops = (app.segments.get(row.machine) || [])
    .filter((s) => s.state === row.state && (s.reason_code ?? null) === code).reverse();
  const m = app.machines.get(row.machine);
  panel.openList((m ? m.name : row.machine) + " · " + t("state", row.state), stops);
}

// ------------------------------------------------------------------ rendering
function selectWindow(w) {
  if (!app.windows.includes(w) || w === app.selected) return;
  app.selected = w;
  localStorage.setItem(WINDOW_ITEM, w);
  renderWindows();
  renderCards();
  loadLines().catch(() => {});
  loadPareto().catch(() => {});
}

function renderWindows() {
  $("windows").replaceChildren(...app.windows.map((w) => {
    const b = view.el("button", "", t("window", w));
    b.type = "button";
    b.dataset.window = w;
    b.setAttribute("aria-pressed", String(w === app.selected));
    b.addEventListener("click", () => selectWindow(w));
    return b;
  }));
}

function renderCards() {
  const main = $("machines");
  const cards = [];
  for (const m of app.machines.values()) {
    let card = app.cards.get(m.id);
    if (!card) {
      card = view.createCard(m, selectWindow, (stop) => panel.open(stop));
      app.cards.set(m.id, card);
    }
    view.updateCard(card, m, app.windows, app.selected, app.calendars.get(m.id) || null);
    drawActions(card, m);
    drawBadge(card, alarms.of(m.id));
    orders.drawCard(card.refs.order, m.id);
    cards.push(card);
  }
  if (!cards.length) cards.push(view.el("p", "muted", app.plant ? t("noMachines") : t("loading")));
  main.replaceChildren(...cards);
  drawTimelines();
  tick();
}

// The operator's buttons, for a key that may use them (the calendar answer says).
function drawActions(card, m) {
  const want = canOperate();
  if (want === (card.refs.actions.childElementCount > 0)) return;
  card.refs.actions.replaceChildren(...(want ? actions.buttons(m) : []));
}

function renderCard(id) {
  const m = app.machines.get(id);
  const card = app.cards.get(id);
  if (m && card) view.updateCard(card, m, app.windows, app.selected, app.calendars.get(id) || null);
  tick();
}

function drawTimelines() {
  const at = now();
  for (const [id, card] of app.cards) {
    const r = range(id);
    if (!r) continue;
    const c = app.calendars.get(id);
    const planned = c.planned_stops.map((p) => ({ ...p, start: Date.parse(p.start), end: Date.parse(p.end) }));
    drawTimeline(card.refs.timeline, { from: r.from, to: r.to, now: at, label: r.label, planned,
      segments: app.segments.get(id) || [], machine: card.querySelector("h2").textContent });
    card.refs.shift.textContent = shiftText(c, at);
  }
  app.lastDraw = at;
}

function renderShift() {
  if (app.plant) shiftHeader(app.plant, now());
}

function renderLines() {
  const w = app.selected;
  // In the order of the machines (the answers come in any order).
  const names = [...new Set([...app.machines.values()].map((m) => m.line))];
  $("lines").replaceChildren(...names.filter((line) => app.lines.has(line)).map((line) => {
    const box = view.lineBox(line, app.lines.get(line)[w], w);
    box.querySelector(".figs").append(lineOutput(app.lineOutputs.get(line)));
    return box;
  }));
}

// Every second: the clock, each machine's time in state, the shift, the fallback poll.
function tick() {
  const at = now();
  $("clock").textContent = app.plant ? i18n.clockSeconds(at) : "";
  for (const card of app.cards.values()) {
    const since = card.refs.dur.dataset.since;
    card.refs.dur.textContent = since ? t("since", i18n.duration(at - Date.parse(since))) : "";
  }
  renderShift();
  if (at - app.lastDraw >= REDRAW_MS) drawTimelines();
}

function schedule() {
  tick();
  const mode = app.live ? "live" : "down";
  if (!$("keyform").hidden) return;
  if (now() - app.lastFull >= FULL_MS[mode] || now() >= app.calendarUntil) {
    app.calendarUntil = Infinity;
    loadAll();
  } else if (now() - app.lastLoad >= RESYNC_MS[mode]) {
    loadMachines().catch(() => {});
    orders.soon();  // the orders with the machines (the stream carries no order events)
  }
}

// ------------------------------------------------------------------ live events
const onEvent = eventHandlers({ app, segment, renderCard, drawTimelines, paretoSoon,
  renderLines, loadAll, alarms, spc });

const stream = new EventStream(cfg.events, {
  headers: authHeaders,
  onStatus(status, detail) {
    if (status === "key") askKey();
    else setConn(status, detail);
  },
  onEvent(kind, data) {
    stats.events += 1;
    document.body.dataset.events = stats.events;
    if (onEvent[kind]) onEvent[kind](data);
  },
});

// Until the gateway says otherwise: the browser's language (the clock waits for the
// plant's zone).
i18n.configure(i18n.pickLanguage("auto"), "UTC");
translateStatic();
// The first read happens on the stream's `hello` (or, if it does not come, on the first
// tick of the fallback poll).
stream.start();
setInterval(schedule, 1000);
