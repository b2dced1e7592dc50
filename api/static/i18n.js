// Every text of the live page, one dictionary per language, and the formats of numbers,
// times and durations in that language and in the plant's time zone (never the
// browser's: a tablet set to another zone still shows the plant's clock).
// A text is a string or a function of its arguments; `t(key, ...args)` returns it.
"use strict";

const STATES_EN = {
  running: "running", idle: "idle", setup: "setup", fault: "fault",
  planned_stop: "planned stop", offline: "offline", unknown: "unknown",
};
const STATES_DE = {
  running: "läuft", idle: "wartet", setup: "rüsten", fault: "Störung",
  planned_stop: "geplanter Stopp", offline: "keine Verbindung", unknown: "unbekannt",
};

const en = {
  title: "oee-edge · live",
  connecting: "connecting…",
  live: "live",
  offline: (detail) => "offline: " + detail,
  keyNeeded: "API key needed",
  keyLabel: "This gateway needs an API key",
  keyButton: "Use key",
  keyHint: "kept in this browser only",
  loading: "loading…",
  noMachines: "no machines configured",
  windows: "OEE window",
  lineOee: "Line OEE",
  machines: "Machines",
  pareto: "Downtime Pareto",
  paretoNone: "no unplanned downtime in this window",
  noReason: "no reason given",
  apiDocs: "API docs",
  nodata: "no data",
  A: "A",
  P: "P",
  Q: "Q",
  state: (s) => STATES_EN[s] || s,
  window: (w) => ({ shift: "shift", day: "day" })[w] || w,
  since: (d) => "for " + d,
  reason: (r) => "reason: " + r,
  parts: (n) => "since the gateway started: parts " + n.total + " · good " + n.good + " · reject " + n.reject,
  product: (p) => " · product " + p,
  dataFlag: "what is wrong with this machine's data",
  held: (n) => "⚠ " + (n === 1 ? "1 count" : n + " counts") + " held for review: not in the figures",
  lowCoverage: (p) => p + " of the window has data",
  lowShort: (p) => p + " data",
  pFlagged: "⚠ performance above 100 %: probable wrong ideal cycle time",
  offPlan: "⚠ production outside the plan: no shift is planned now",
  noShift: "no shift planned",
  shiftNow: (name, from, to) => name + " · " + from + "–" + to,
  shiftLeft: (d) => d + " left",
  nextShift: (name, at) => "next: " + name + " at " + at,
  day: "plant day",
  timelineOf: (what) => "states of " + what,
  plannedStop: "planned",
  stopTitle: (machine) => "Stop · " + machine,
  stopState: "state",
  stopStart: "start",
  stopDuration: "duration",
  stopReason: "reason",
  stopOngoing: (d) => d + " (still going on)",
  pickReason: "Give it a reason",
  clearReason: "clear the reason",
  close: "Close",
  saved: (r) => "saved: " + r,
  cleared: "reason cleared",
  readOnly: "a key of the operate scope is needed to give a reason",
  noReasons: "no reason of the tree fits this state",
  stopsOf: (what) => "Stops · " + what,
  noStops: "none of these stops is on the shift's timeline",
  failed: (detail) => "not saved: " + detail,
  // The printable shift report (report.html).
  rep: {
    title: "Shift report", line: "Line", shift: "Shift", final: "finished",
    soFar: (at) => "so far, until " + at, built: (at) => "built " + at,
    figures: "Figures", oee: "OEE", a: "Availability", p: "Performance", q: "Quality",
    coverage: "Coverage", output: "Output", good: "good", reject: "reject", total: "total",
    target: "target", attainment: "attainment", machine: "Machine", machines: "Machines",
    losses: "Losses", loss: "Loss", seconds: "time", points: "OEE points",
    stops: "Stops", start: "start", end: "end", duration: "duration", state: "state",
    reason: "reason", by: "by", planned: "planned",
    quantity: "parts", byMachine: "counted by the machine", alarms: "Alarms",
    rule: "alarm", severity: "severity", raised: "raised", cleared: "cleared",
    acked: "acknowledged by", notes: "Shift notes", flags: "Flags", none: "none",
    noNotes: "no notes written", keyNeeded: "API key needed: open the live page and enter it there",
    missing: "give the shift as ?shift=2026-12-06/late", print: "Print",
    flag: {
      suspect_counts: (v) => v + " suspect count(s) held out of the figures",
      performance_above_100: () => "performance above 100 %: probably a wrong ideal cycle time",
      low_coverage: (v) => "low coverage: data for " + Math.round(100 * v) + " % of the shift",
      production_in_planned_stop: (v) => v + " parts made in planned stop time",
      moves_before_window: (v) => v + " part(s) of earlier shifts moved between good and " +
        "reject: no first-pass yield",
      no_scrap_reasons: () => "the history store keeps no booked scrap: no reject has a reason",
      q_weighted_by_cycle: () => "OEE quality differs from the first-pass yield: it weighs " +
        "each part by its ideal cycle time, the yield counts every part alike",
    },
    quality: "First-pass yield and scrap", booked: "booked as scrap", fpy: "first-pass yield",
    scrapRate: "scrap rate", rty: (order, x) => "Rolled throughput yield " +
      (order ? "(" + order + ") " : "") + x,
    rtyMissing: (list) => "left out, no first-pass yield: " + list,
    notKept: "not in this report (kept before the quality figures were added)",
    pareto: "Defect Pareto", rank: "#", share: "share", cumulative: "cumulative",
    orders: "Orders", order: "order", product: "product", goodShift: "good in shift / quantity",
    progress: "progress", status: "status", due: "due", onTime: "on time", yes: "yes",
    no: "no (late)",
    orderStatus: { not_started: "not started", on_track: "on track", at_risk: "at risk",
      late: "late", done: "done" },
    plan: (planned, produced, att, mix, seq, win, otd, onTime, n) => "Plan " + planned +
      " · made " + produced + " · attainment " + att + " · volume and mix " + mix +
      " · sequence " + seq + " · in window " + win + " · on-time delivery " + otd + " (" +
      onTime + " of " + n + ")",
    changeovers: "Changeovers", products: "from → to", standard: "standard",
    overStandard: "over standard",
    ordersNotKept: "not in this report (kept before orders were added)",
    lossName: {
      breakdowns: "breakdowns", setup: "setup", idle: "idle", unknown: "unknown",
      small_stops: "small stops", speed: "reduced speed", startup_rejects: "start-up rejects",
      production_rejects: "production rejects",
    },
  },
  // quality of the shift
  qualityTitle: "Quality in the shift",
  fpy: (x) => "first-pass yield " + x,
  scrapRate: (x) => "scrap " + x,
  oeeQuality: (x) => "OEE Q " + x,
  qWeighted: "OEE Q weighs each part by its ideal cycle time; the first-pass yield " +
    "counts every part alike (products of different cycle times yield differently)",
  qualityShift: "this shift",
  qualityReason: (reason, n, share) => reason + ": " + n + " (" + share + ")",
  noReasons: "no scrap booked with a reason",
  // output against target
  outputTitle: "Output in the shift",
  productIs: (p) => "product " + p,
  productNone: "the current product",
  noOutput: "no target: no shift in progress",
  outGood: (g, target) => "good " + g + " / target " + target,
  outGoodOnly: (g) => "good " + g + " (no target)",
  outDetail: (rej, total, due) => "reject " + rej + " · total " + total + " · due by now " + due,
  outDue: (due) => "due by now: " + due,
  outRate: (r) => r + " /h",
  outExpected: (e) => "expected at the end " + e,
  track: (k, final) => (final ? { on: "✓ target reached", behind: "✗ target missed" }
    : { on: "✓ on track", behind: "⚠ behind target" })[k] || "target unknown",
  // reports
  reports: "Shift report",
  reportNow: "current shift",
  reportPrev: "previous shift",
  // alarms
  alarmsTitle: "Active alarms",
  severity: (s) => ({ critical: "critical", warning: "warning", info: "info" })[s] || s,
  alarmSince: (at) => "since " + at,
  ackedBy: (who, at) => "✓ acknowledged by " + who + " at " + at,
  ack: "Acknowledge",
  ackFailed: (d) => "not acknowledged: " + d,
  alarmCount: (n) => "⚠ " + n + (n === 1 ? " alarm" : " alarms"),
  // the operator's actions
  bookScrap: "Book scrap",
  bookScrapSave: "Book",
  scrapTitle: (m) => "Book scrap · " + m,
  scrapQty: "Quantity",
  scrapReason: "Reject reason",
  scrapProduct: "Product",
  scrapNote: "Note (optional)",
  scrapBooked: (n, r) => "booked: " + n + " × " + r,
  noScrapReasons: "no reject reasons configured (scrap_reasons)",
  shiftNotes: "Shift notes",
  notesTitle: (line) => "Shift notes · " + line,
  notesShift: (name, from, to) => "shift " + name + " · " + from + "–" + to,
  notesText: "Hand-over text",
  notesSave: "Save notes",
  notesSaved: "notes saved",
  notesNone: "no notes written yet",
  notesBy: (who, at) => "last written by " + who + " at " + at,
  plannedTitle: "Count as planned time",
  plannedFact: "planned",
  plannedNow: (kind, why) => "counted as planned: " + kind + (why ? " · " + why : ""),
  plannedKind: "Kind",
  plannedReason: "Reason",
  plannedReasonHint: "e.g. shift meeting",
  plannedMake: "Make planned",
  plannedUndo: "Undo: count it as a stop again",
  plannedSaved: (k) => "now planned time: " + k,
  plannedUndone: "counted as a stop again",
  kind: (k) => ({ meeting: "meeting", maintenance: "maintenance", no_order: "no order",
    break: "break", other: "other" })[k] || k,
  du: { s: " s", min: " min ", h: " h " },
};

const de = {
  title: "oee-edge · live",
  connecting: "verbinde…",
  live: "live",
  offline: (detail) => "getrennt: " + detail,
  keyNeeded: "API-Schlüssel nötig",
  keyLabel: "Dieses Gateway braucht einen API-Schlüssel",
  keyButton: "Schlüssel verwenden",
  keyHint: "bleibt nur in diesem Browser",
  loading: "lade…",
  noMachines: "keine Maschinen konfiguriert",
  windows: "OEE-Zeitraum",
  lineOee: "Linien-OEE",
  machines: "Maschinen",
  pareto: "Stillstands-Pareto",
  paretoNone: "kein ungeplanter Stillstand in diesem Zeitraum",
  noReason: "ohne Grund",
  apiDocs: "API-Doku",
  nodata: "keine Daten",
  // Verfügbarkeit, Leistung, Qualität (the German OEE factors)
  A: "V",
  P: "L",
  Q: "Q",
  state: (s) => STATES_DE[s] || s,
  window: (w) => ({ shift: "Schicht", day: "Tag" })[w] || w,
  since: (d) => "seit " + d,
  reason: (r) => "Grund: " + r,
  parts: (n) => "seit Start des Gateways: Teile " + n.total + " · gut " + n.good + " · Ausschuss " + n.reject,
  product: (p) => " · Produkt " + p,
  dataFlag: "was mit den Daten dieser Maschine nicht stimmt",
  held: (n) => "⚠ " + (n === 1 ? "1 Zählung" : n + " Zählungen") +
    " zur Prüfung zurückgehalten: nicht in den Kennzahlen",
  lowCoverage: (p) => "nur " + p + " des Zeitraums mit Daten",
  lowShort: (p) => p + " Daten",
  pFlagged: "⚠ Leistung über 100 %: Soll-Taktzeit vermutlich falsch",
  offPlan: "⚠ Produktion außerhalb des Plans: jetzt ist keine Schicht geplant",
  noShift: "keine Schicht geplant",
  shiftNow: (name, from, to) => name + " · " + from + "–" + to,
  shiftLeft: (d) => "noch " + d,
  nextShift: (name, at) => "nächste: " + name + " um " + at,
  day: "Werkstag",
  timelineOf: (what) => "Zustände: " + what,
  plannedStop: "geplant",
  stopTitle: (machine) => "Stillstand · " + machine,
  stopState: "Zustand",
  stopStart: "Beginn",
  stopDuration: "Dauer",
  stopReason: "Grund",
  stopOngoing: (d) => d + " (dauert an)",
  pickReason: "Grund zuweisen",
  clearReason: "Grund entfernen",
  close: "Schließen",
  saved: (r) => "gespeichert: " + r,
  cleared: "Grund entfernt",
  readOnly: "Um einen Grund zu geben, braucht es einen Schlüssel mit operate-Recht",
  noReasons: "kein Grund des Katalogs passt zu diesem Zustand",
  stopsOf: (what) => "Stillstände · " + what,
  noStops: "keiner dieser Stillstände liegt auf der Zeitleiste der Schicht",
  failed: (detail) => "nicht gespeichert: " + detail,
  rep: {
    title: "Schichtbericht", line: "Linie", shift: "Schicht", final: "abgeschlossen",
    soFar: (at) => "bisher, bis " + at, built: (at) => "erstellt " + at,
    figures: "Kennzahlen", oee: "OEE", a: "Verfügbarkeit", p: "Leistung", q: "Qualität",
    coverage: "Datenabdeckung", output: "Ausbringung", good: "gut", reject: "Ausschuss",
    total: "gesamt", target: "Soll", attainment: "Erfüllung", machine: "Maschine",
    machines: "Maschinen", losses: "Verluste", loss: "Verlust", seconds: "Zeit",
    points: "OEE-Punkte", stops: "Stillstände", start: "Beginn", end: "Ende",
    duration: "Dauer", state: "Zustand", reason: "Grund", by: "von", planned: "geplant",
    quantity: "Teile", byMachine: "von der Maschine gezählt",
    alarms: "Alarme", rule: "Alarm", severity: "Schwere", raised: "ausgelöst",
    cleared: "beendet", acked: "quittiert von", notes: "Schichtnotizen", flags: "Hinweise",
    none: "keine", noNotes: "keine Notizen geschrieben",
    keyNeeded: "API-Schlüssel nötig: auf der Live-Seite eingeben",
    missing: "Schicht als ?shift=2026-12-06/late angeben", print: "Drucken",
    flag: {
      suspect_counts: (v) => v + " verdächtige Zählung(en) aus den Kennzahlen herausgehalten",
      performance_above_100: () => "Leistung über 100 %: Soll-Taktzeit vermutlich falsch",
      low_coverage: (v) => "geringe Datenabdeckung: " + Math.round(100 * v) + " % der Schicht",
      production_in_planned_stop: (v) => v + " Teile in geplanter Stillstandszeit gefertigt",
      moves_before_window: (v) => v + " Teil(e) früherer Schichten zwischen gut und Ausschuss " +
        "umgebucht: keine Erstdurchlaufquote",
      no_scrap_reasons: () => "der Verlaufsspeicher hält keine Ausschussbuchungen: kein " +
        "Ausschuss hat einen Grund",
      q_weighted_by_cycle: () => "OEE-Qualität weicht von der Erstdurchlaufquote ab: sie " +
        "gewichtet jedes Teil mit seiner Soll-Taktzeit, die Quote zählt jedes Teil gleich",
    },
    quality: "Erstdurchlauf und Ausschuss", booked: "als Ausschuss gebucht",
    fpy: "Erstdurchlaufquote", scrapRate: "Ausschussquote", rty: (order, x) =>
      "Durchlaufausbeute der Linie " + (order ? "(" + order + ") " : "") + x,
    rtyMissing: (list) => "ausgelassen, ohne Erstdurchlaufquote: " + list,
    notKept: "nicht in diesem Bericht (erstellt, bevor es die Qualitätskennzahlen gab)",
    pareto: "Ausschuss-Pareto", rank: "Nr.", share: "Anteil", cumulative: "kumuliert",
    orders: "Aufträge", order: "Auftrag", product: "Produkt",
    goodShift: "gut in der Schicht / Menge", progress: "Fortschritt", status: "Status",
    due: "fällig", onTime: "pünktlich", yes: "ja", no: "nein (verspätet)",
    orderStatus: { not_started: "nicht begonnen", on_track: "im Plan", at_risk: "gefährdet",
      late: "verspätet", done: "fertig" },
    plan: (planned, produced, att, mix, seq, win, otd, onTime, n) => "Plan " + planned +
      " · gefertigt " + produced + " · Planerfüllung " + att + " · Menge und Mix " + mix +
      " · Reihenfolge " + seq + " · im Zeitfenster " + win + " · Liefertreue " + otd + " (" +
      onTime + " von " + n + ")",
    changeovers: "Rüstvorgänge", products: "von → nach", standard: "Standard",
    overStandard: "über Standard",
    ordersNotKept: "nicht in diesem Bericht (gespeichert, bevor es Aufträge gab)",
    lossName: {
      breakdowns: "Störungen", setup: "Rüsten", idle: "Warten", unknown: "unbekannt",
      small_stops: "Kurzstopps", speed: "verringerte Geschwindigkeit",
      startup_rejects: "Anlaufausschuss", production_rejects: "Produktionsausschuss",
    },
  },
  // Qualität der Schicht
  qualityTitle: "Qualität der Schicht",
  fpy: (x) => "Erstdurchlaufquote " + x,
  scrapRate: (x) => "Ausschuss " + x,
  oeeQuality: (x) => "OEE-Q " + x,
  qWeighted: "OEE-Q gewichtet jedes Teil mit seiner Soll-Taktzeit, die Erstdurchlaufquote " +
    "zählt jedes Teil gleich (Produkte verschiedener Taktzeit mit verschiedener Quote)",
  qualityShift: "diese Schicht",
  qualityReason: (reason, n, share) => reason + ": " + n + " (" + share + ")",
  noReasons: "kein Ausschuss mit Grund gebucht",
  // Ausbringung gegen Soll
  outputTitle: "Ausbringung der Schicht",
  productIs: (p) => "Produkt " + p,
  productNone: "das aktuelle Produkt",
  noOutput: "kein Soll: keine Schicht läuft",
  outGood: (g, target) => "gut " + g + " / Soll " + target,
  outGoodOnly: (g) => "gut " + g + " (kein Soll)",
  outDetail: (rej, total, due) => "Ausschuss " + rej + " · gesamt " + total + " · Soll bis jetzt " + due,
  outDue: (due) => "Soll bis jetzt: " + due,
  outRate: (r) => r + " Stk./h",
  outExpected: (e) => "erwartet zum Ende " + e,
  track: (k, final) => (final ? { on: "✓ Soll erreicht", behind: "✗ Soll verfehlt" }
    : { on: "✓ im Plan", behind: "⚠ hinter dem Soll" })[k] || "Soll unbekannt",
  reports: "Schichtbericht",
  reportNow: "aktuelle Schicht",
  reportPrev: "vorige Schicht",
  alarmsTitle: "Aktive Alarme",
  severity: (s) => ({ critical: "kritisch", warning: "Warnung", info: "Hinweis" })[s] || s,
  alarmSince: (at) => "seit " + at,
  ackedBy: (who, at) => "✓ quittiert von " + who + " um " + at,
  ack: "Quittieren",
  ackFailed: (d) => "nicht quittiert: " + d,
  alarmCount: (n) => "⚠ " + n + (n === 1 ? " Alarm" : " Alarme"),
  bookScrap: "Ausschuss buchen",
  bookScrapSave: "Buchen",
  scrapTitle: (m) => "Ausschuss buchen · " + m,
  scrapQty: "Menge",
  scrapReason: "Ausschussgrund",
  scrapProduct: "Produkt",
  scrapNote: "Notiz (freiwillig)",
  scrapBooked: (n, r) => "gebucht: " + n + " × " + r,
  noScrapReasons: "keine Ausschussgründe konfiguriert (scrap_reasons)",
  shiftNotes: "Schichtnotiz",
  notesTitle: (line) => "Schichtnotiz · " + line,
  notesShift: (name, from, to) => "Schicht " + name + " · " + from + "–" + to,
  notesText: "Übergabetext",
  notesSave: "Notiz speichern",
  notesSaved: "Notiz gespeichert",
  notesNone: "noch keine Notiz geschrieben",
  notesBy: (who, at) => "zuletzt von " + who + " um " + at,
  plannedTitle: "Als geplante Zeit zählen",
  plannedFact: "geplant",
  plannedNow: (kind, why) => "zählt als geplant: " + kind + (why ? " · " + why : ""),
  plannedKind: "Art",
  plannedReason: "Begründung",
  plannedReasonHint: "z. B. Schichtbesprechung",
  plannedMake: "Als geplant zählen",
  plannedUndo: "Rückgängig: wieder als Stillstand zählen",
  plannedSaved: (k) => "jetzt geplante Zeit: " + k,
  plannedUndone: "zählt wieder als Stillstand",
  kind: (k) => ({ meeting: "Besprechung", maintenance: "Wartung", no_order: "kein Auftrag",
    break: "Pause", other: "Sonstiges" })[k] || k,
  du: { s: " s", min: " min ", h: " h " },
};

export const DICTIONARIES = { en, de };

const current = { lang: "en", dict: en, zone: "UTC", time: null, clock: null, pct: null };

/** `auto` (or nothing): the first of the browser's languages we have, else English. */
export function pickLanguage(setting, browser = navigator.languages || [navigator.language]) {
  if (setting && setting !== "auto" && DICTIONARIES[setting]) return setting;
  for (const tag of browser) {
    const base = String(tag || "").toLowerCase().split("-")[0];
    if (DICTIONARIES[base]) return base;
  }
  return "en";
}

/** Set the language and the plant's time zone every format below uses. */
export function configure(lang, zone) {
  current.lang = DICTIONARIES[lang] ? lang : "en";
  current.dict = DICTIONARIES[current.lang];
  current.zone = zone || "UTC";
  // 24 h in every language: a shift plan is read in 24 h on the shop floor.
  const opts = { timeZone: current.zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  current.time = new Intl.DateTimeFormat(current.lang, opts);
  current.clock = new Intl.DateTimeFormat(current.lang, { ...opts, second: "2-digit" });
  current.date = new Intl.DateTimeFormat(current.lang, { ...opts, day: "2-digit", month: "2-digit" });
  current.pct = new Intl.NumberFormat(current.lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  current.one = new Intl.NumberFormat(current.lang, { maximumFractionDigits: 1 });
  current.whole = new Intl.NumberFormat(current.lang, { maximumFractionDigits: 0 });
  document.documentElement.lang = current.lang;
}
configure("en", "UTC");

export const language = () => current.lang;
export const zone = () => current.zone;

export function t(key, ...args) {
  const entry = current.dict[key] ?? en[key];
  return typeof entry === "function" ? entry(...args) : entry;
}

// ------------------------------------------------------------------ formats
export function pct(x) {
  return x === null || x === undefined ? "–" : current.pct.format(100 * x) + " %";
}

/** A number of parts, whole, as the language writes it ("2,250" / "2.250"); "–" for none. */
export function parts(x) {
  return x === null || x === undefined ? "–" : current.whole.format(Math.round(x));
}

/** A share as a whole percentage ("12 %"), for coverage. */
export function wholePct(x) {
  if (x > 0 && x < 0.01) return "< 1 %";  // some data, not none
  return current.whole.format(Math.floor(100 * x)) + " %";
}

/** "14:05" in the plant's zone. */
export const clockTime = (ms) => current.time.format(ms);
/** "14:05:09" in the plant's zone. */
export const clockSeconds = (ms) => current.clock.format(ms);
/** "07.12., 14:05" / "12/07, 14:05": for what is not today. */
export const dayTime = (ms) => current.date.format(ms);

export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const pad = (n) => String(n).padStart(2, "0");
  const u = current.dict.du;
  if (s < 60) return s + u.s;
  if (s < 3600) return Math.floor(s / 60) + u.min + pad(s % 60) + u.s;
  return Math.floor(s / 3600) + u.h + pad(Math.floor((s % 3600) / 60)) + " min";
}

// Lost time in a Pareto row: "4.2 s", "48 s", "12.5 min", "1.6 h".
export function lostTime(s) {
  if (s < 10) return current.one.format(s) + " s";
  if (s < 60) return Math.round(s) + " s";
  if (s < 3600) return current.one.format(s / 60) + " min";
  return current.one.format(s / 3600) + " h";
}

/** The plant-local full hours in [from, to] (ms), every `step` hours: [{at, label}]. */
export function hourTicks(from, to, step) {
  const parts = new Intl.DateTimeFormat("en", {
    timeZone: current.zone, minute: "numeric", second: "numeric", hourCycle: "h23",
  }).formatToParts(from);
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  // The next local full hour (zones are whole or half hours off UTC: the local minute
  // says how far the next full hour is).
  let at = from - (get("minute") * 60 + get("second")) * 1000 - (from % 1000);
  if (at < from) at += 3600000;
  const ticks = [];
  for (; at <= to; at += 3600000) {
    const hour = Number(new Intl.DateTimeFormat("en", {
      timeZone: current.zone, hour: "numeric", hourCycle: "h23" }).format(at));
    if (hour % step === 0) ticks.push({ at, label: clockTime(at) });
  }
  return ticks;
}
