// The live page: reads the REST routes once (and again after each reconnect), then keeps
// itself current from /api/v1/events. While the stream is down it re-reads the machine
// list every `data-poll-ms` instead. With an API key configured, the key is asked for
// once, kept in localStorage and sent as `Authorization: Bearer`.
"use strict";

import { EventStream } from "./sse.js";
import * as view from "./render.js";

const cfg = document.body.dataset;
const POLL_MS = Number(cfg.pollMs) || 2000;
// Re-reading while live corrects what a missed or doubled count delta would leave; the
// timelines and the Pareto (one read per machine or line) less often.
const RESYNC_MS = { live: 60000, down: POLL_MS };
const FULL_MS = { live: 600000, down: 60000 };
const REDRAW_MS = 15000;      // the timelines' right edge is "now": move it along
const PARETO_MIN_MS = 10000;  // at most one Pareto read per this, however many oee events
const SHIFT_FALLBACK_MS = 8 * 3600 * 1000;
const KEY_ITEM = "oee-edge-api-key";
const WINDOW_ITEM = "oee-edge-window";

const $ = (id) => document.getElementById(id);
const app = {
  machines: new Map(),  // id -> the machine as /api/v1/machines answers, kept current
  cards: new Map(),     // id -> its card element
  segments: new Map(),  // id -> the shift's state segments
  lines: new Map(),     // line -> {window -> figures}
  windows: [],
  selected: localStorage.getItem(WINDOW_ITEM),
  shiftStart: null,     // ms; null: not known yet (the last 8 h then)
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

async function api(path) {
  const res = await fetch(path, { headers: authHeaders(), cache: "no-store" });
  const date = Date.parse(res.headers.get("Date") || "");
  // The Date header has whole seconds: only a clearly wrong tablet clock is corrected.
  if (!Number.isNaN(date) && Math.abs(date - Date.now()) > 2000) app.offsetMs = date - Date.now();
  if (res.status === 401) {
    askKey();
    throw new KeyNeeded("API key needed");
  }
  if (!res.ok) throw new Error(path.split("?")[0] + ": HTTP " + res.status);
  return res.json();
}

const now = () => Date.now() + app.offsetMs;
const enc = encodeURIComponent;

function askKey() {
  stream.stop();
  $("keyform").hidden = false;
  setConn("key", "API key needed");
  $("key").focus();
}

$("keyform").addEventListener("submit", (ev) => {
  ev.preventDefault();
  localStorage.setItem(KEY_ITEM, $("key").value.trim());
  $("keyform").hidden = true;
  loadAll();
  stream.start();
});

function setConn(status, detail) {
  app.live = status === "live";
  const conn = $("conn");
  conn.dataset.conn = status;
  conn.textContent = { live: "live", connecting: "connecting…", key: "API key needed" }[status] ||
    "offline: " + detail;
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
    await Promise.all([loadShift().then(loadTimelines), loadLines(), loadPareto()]);
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

async function loadShift() {
  const first = app.machines.keys().next().value;
  if (!app.windows.includes("shift") || first === undefined) return;
  const o = await api("api/v1/machines/" + enc(first) + "/oee?window=shift");
  app.shiftStart = o.start ? Date.parse(o.start) : null;
}

function timelineRange() {
  const to = now();
  return { from: app.shiftStart ?? to - SHIFT_FALLBACK_MS, to };
}

async function loadTimelines() {
  const { from, to } = timelineRange();
  const q = "?from=" + enc(new Date(from).toISOString()) + "&to=" + enc(new Date(to).toISOString());
  await Promise.all([...app.machines.keys()].map(async (id) => {
    const body = await api("api/v1/machines/" + enc(id) + "/states" + q);
    const segs = body.intervals.map((i) => ({
      state: i.state, start: Date.parse(i.start), end: Date.parse(i.end), reason: i.reason,
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
    const figures = await api("api/v1/lines/" + enc(line) + "/oee?window=" + enc(w));
    const entry = app.lines.get(line) || {};
    entry[w] = figures.computed ? figures : null;
    app.lines.set(line, entry);
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
  $("pareto-span").textContent = "· " + w;
  $("pareto").replaceChildren(...view.paretoRows(rows.slice(0, 10)));
}

function paretoSoon() {
  if (app.paretoTimer !== null) return;
  const wait = Math.max(0, app.paretoAt + PARETO_MIN_MS - now());
  app.paretoTimer = setTimeout(() => {
    app.paretoTimer = null;
    loadPareto().catch(() => {});
  }, wait);
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
    const b = view.el("button", "", w);
    b.type = "button";
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
    if (!card) app.cards.set(m.id, (card = view.createCard(m, selectWindow)));
    view.updateCard(card, m, app.windows, app.selected);
    cards.push(card);
  }
  if (!cards.length) cards.push(view.el("p", "muted", "no machines configured"));
  main.replaceChildren(...cards);
  tick();
}

function renderCard(id) {
  const m = app.machines.get(id);
  const card = app.cards.get(id);
  if (m && card) view.updateCard(card, m, app.windows, app.selected);
  tick();
}

function drawTimelines() {
  const { from, to } = timelineRange();
  const label = app.shiftStart === null ? "last 8 h" : "shift since " + view.clockTime(from);
  for (const [id, card] of app.cards) view.drawTimeline(card, app.segments.get(id) || [], from, to, label);
  app.lastDraw = to;
}

function renderLines() {
  const w = app.selected;
  $("lines").replaceChildren(...[...app.lines].map(([line, f]) => view.lineBox(line, f[w], w)));
}

// Every second: the clock, each machine's time in state, and the fallback poll.
function tick() {
  const t = now();
  $("clock").textContent = new Date(t).toLocaleTimeString();
  for (const card of app.cards.values()) {
    const since = card.refs.dur.dataset.since;
    card.refs.dur.textContent = since ? "for " + view.duration(t - Date.parse(since)) : "";
  }
  if (t - app.lastDraw >= REDRAW_MS) drawTimelines();
}

function schedule() {
  tick();
  const mode = app.live ? "live" : "down";
  if (!$("keyform").hidden) return;
  if (now() - app.lastFull >= FULL_MS[mode]) loadAll();
  else if (now() - app.lastLoad >= RESYNC_MS[mode]) loadMachines().catch(() => {});
}

// ------------------------------------------------------------------ live events
const onEvent = {
  hello() {
    loadAll();  // nothing is replayed: read what happened while away
  },
  state(d) {
    const m = app.machines.get(d.machine);
    if (!m) return;
    Object.assign(m, { state: d.state, since: d.ts, reason: d.reason, reason_code: d.reason_code });
    const segs = app.segments.get(d.machine) || [];
    const at = Date.parse(d.ts);
    const open = segs[segs.length - 1];
    if (open && open.end === null) open.end = at;
    segs.push({ state: d.state, start: at, end: null, reason: d.reason });
    app.segments.set(d.machine, segs);
    renderCard(d.machine);
    drawTimelines();
  },
  count(d) {
    const m = app.machines.get(d.machine);
    if (!m) return;
    m.counts = { total: m.counts.total + d.total, good: m.counts.good + d.good,
      reject: m.counts.reject + d.reject };
    if (d.product) m.product = d.product;
    renderCard(d.machine);
  },
  oee(d) {
    const m = app.machines.get(d.machine);
    if (!m) return;
    m.oee[d.window] = { computed: true, ts: d.ts, availability: d.availability,
      performance: d.performance, quality: d.quality, oee: d.oee };
    renderCard(d.machine);
    if (d.window === "shift" && d.start && Date.parse(d.start) !== app.shiftStart) {
      app.shiftStart = Date.parse(d.start);  // a new shift began: its own timeline
      loadTimelines().catch(() => {});
    }
    if (d.window === app.selected) paretoSoon();
  },
  suspect(d) {
    const m = app.machines.get(d.machine);
    if (!m) return;
    m.suspects = (m.suspects || 0) + 1;
    renderCard(d.machine);
  },
  decision(d) {
    const m = app.machines.get(d.machine);
    if (!m || d.suspect_seq === null) return;
    m.suspects = Math.max(0, (m.suspects || 0) - 1);
    renderCard(d.machine);
  },
  line_oee(d) {
    const entry = app.lines.get(d.line) || {};
    entry[d.window] = d;
    app.lines.set(d.line, entry);
    if (d.window === app.selected) renderLines();
  },
  reason(d) {
    const m = app.machines.get(d.machine);
    if (m && m.since && Date.parse(m.since) === Date.parse(d.stop_ts)) {
      Object.assign(m, { reason: d.reason, reason_code: d.reason_code });
      renderCard(d.machine);
    }
    const seg = (app.segments.get(d.machine) || []).find((s) => s.start === Date.parse(d.stop_ts));
    if (seg) seg.reason = d.reason;
    paretoSoon();
  },
};

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

// The first read happens on the stream's `hello` (or, if it does not come, on the first
// tick of the fallback poll).
stream.start();
setInterval(schedule, 1000);
