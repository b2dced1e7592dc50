// The texts of the orders on the live page (orders.js): the card's order line, the
// orders view and the changeover matrix, added to the page's dictionaries (i18n.js) as
// the SPC panel's are (spctexts.js).
"use strict";

import { DICTIONARIES } from "./i18n.js";

const en = {
  ordersTitle: "Orders",
  ordersLink: "Orders",
  ordStatus: (s) => ({ not_started: "not started", on_track: "on track", at_risk: "at risk",
    late: "late", done: "done" })[s] || s || "–",
  ordSource: (s) => ({ tag: "by the PLC", operator: "started by hand", queue: "from the queue" })[s] || "",
  ordNone: "no order runs",
  ordNoneBook: "no orders in the book",
  ordNotAvailable: (detail) => "orders not available: " + detail,
  ordGood: (good, qty) => good + " / " + qty + " good",
  ordEnd: (at) => "expected end " + at,
  ordEndNone: "expected end –",
  ordFinished: (at) => "finished " + at,
  ordDue: (at) => "due " + at,
  ordRunning: "runs",
  ordPaused: "paused",
  ordAct: (a) => ({ start: "Start", pause: "Pause", resume: "Resume", end: "End" })[a],
  ordConfirm: (a, order, machine) => ({ start: "Start", pause: "Pause", resume: "Resume",
    end: "End" })[a] + " order " + order + " on " + machine + "?",
  ordConfirmEnd: "An ended order cannot be started again.",
  ordDone: (a, order) => "order " + order + ": " + ({ start: "started", pause: "paused",
    resume: "resumed", end: "ended" })[a],
  ordRefused: (detail) => "refused: " + detail,
  ordYes: "Yes",
  matrixTitle: "Changeovers (last 28 days)",
  matrixCols: ["from → to", "count", "median", "p90", "standard", "over standard", "trend"],
  matrixNone: "no changeovers in the last 28 days",
  matrixNotKept: "the history store keeps no changeovers for the API",
  trend: (x) => x === null ? "– (fewer than 3)" : x > 0 ? "↑ longer" : x < 0 ? "↓ shorter" : "→ steady",
  perWeek: (s) => s + " per week",
};

const de = {
  ordersTitle: "Aufträge",
  ordersLink: "Aufträge",
  ordStatus: (s) => ({ not_started: "nicht begonnen", on_track: "im Plan", at_risk: "gefährdet",
    late: "verspätet", done: "fertig" })[s] || s || "–",
  ordSource: (s) => ({ tag: "von der SPS", operator: "von Hand gestartet", queue: "aus der Warteschlange" })[s] || "",
  ordNone: "kein Auftrag läuft",
  ordNoneBook: "keine Aufträge",
  ordNotAvailable: (detail) => "Aufträge nicht verfügbar: " + detail,
  ordGood: (good, qty) => good + " / " + qty + " gut",
  ordEnd: (at) => "voraussichtlich fertig " + at,
  ordEndNone: "voraussichtlich fertig –",
  ordFinished: (at) => "fertig " + at,
  ordDue: (at) => "fällig " + at,
  ordRunning: "läuft",
  ordPaused: "angehalten",
  ordAct: (a) => ({ start: "Starten", pause: "Anhalten", resume: "Fortsetzen", end: "Beenden" })[a],
  ordConfirm: (a, order, machine) => "Auftrag " + order + " an " + machine + " " + ({
    start: "starten", pause: "anhalten", resume: "fortsetzen", end: "beenden" })[a] + "?",
  ordConfirmEnd: "Ein beendeter Auftrag kann nicht wieder gestartet werden.",
  ordDone: (a, order) => "Auftrag " + order + ": " + ({ start: "gestartet", pause: "angehalten",
    resume: "fortgesetzt", end: "beendet" })[a],
  ordRefused: (detail) => "abgelehnt: " + detail,
  ordYes: "Ja",
  matrixTitle: "Rüstvorgänge (letzte 28 Tage)",
  matrixCols: ["von → nach", "Anzahl", "Median", "p90", "Vorgabe", "über Vorgabe", "Trend"],
  matrixNone: "keine Rüstvorgänge in den letzten 28 Tagen",
  matrixNotKept: "der Verlaufsspeicher hält keine Rüstvorgänge für die API",
  trend: (x) => x === null ? "– (weniger als 3)" : x > 0 ? "↑ länger" : x < 0 ? "↓ kürzer" : "→ gleich",
  perWeek: (s) => s + " pro Woche",
};

Object.assign(DICTIONARIES.en, en);
Object.assign(DICTIONARIES.de, de);
