// The texts of the SPC panel (spc.js), added to the page's dictionaries (i18n.js) when
// the panel is loaded: one place per language, as the rest of the page's texts.
"use strict";

import { DICTIONARIES } from "./i18n.js";

const KINDS = { imr: "I-MR", xbar_r: "X̄-R", xbar_s: "X̄-S", p: "p", np: "np", c: "c", u: "u" };

const en = {
  spcTitle: "Process (SPC)",
  spcPick: "Control chart",
  spcNone: "no SPC charts configured",
  spcKind: (k) => KINDS[k] || k,
  spcSpread: (k) => ({ imr: "moving range MR", xbar_r: "range R", xbar_s: "standard deviation S" })[k] || "",
  spcStat: (k) => ({ imr: "x", xbar_r: "x̄", xbar_s: "x̄" })[k] || k,
  spcNoLimits: "Phase I: no limits yet, collecting the baseline subgroups",
  spcTrial: (k) => "Phase I: trial limits" + (k ? " from " + k + " subgroups" : "") + " (not frozen yet)",
  spcFrozen: (by, at) => "Phase II: limits frozen by " + by + " at " + at,
  spcManual: (by, at) => "Phase II: limits set by hand by " + by + " at " + at,
  spcBaseline: (from, to, k) => "baseline " + from + "–" + to + (k ? ", " + k + " point(s) excluded" : ""),
  spcSpec: "Spec",
  spcTarget: "target",
  spcNoPoints: "no points in the last hour",
  spcRange: (count) => count + " point(s), last hour",
  spcHeld: (k) => k + " reading(s) held out (outside the valid range or not a number)",
  spcViolations: "Run rules broken",
  spcNoViolations: "no run rule broken in the last hour",
  spcPoints: (a, b) => "points " + (a === b ? "#" + a : "#" + a + "–#" + b),
  spcCap: "Capability this shift",
  spcCapN: (n, k) => "n = " + n + " readings" + (k && k !== n ? " in " + k + " subgroups" : ""),
  spcNoSpec: "no spec limits set for this chart: capability needs LSL and/or USL (spc.charts[].spec)",
  spcCapAttr: "capability is for variables charts (a p, np, c or u chart's capability is its centre line)",
  spcPpm: "out of spec (ppm)",
  spcObserved: "observed",
  spcExpected: "expected",
  spcUnstable: "the chart broke run rules in this range: capability assumes a process in control",
  spcTap: "tap a point for its details",
  spcZoneC: "zone C: within 1σ",
  spcZoneB: "zone B: 1σ–2σ",
  spcZoneA: "zone A: 2σ–3σ",
  spcZone: "zone",
  spcLoadFailed: (why) => "SPC: " + why,
};

const de = {
  spcTitle: "Prozess (SPC)",
  spcPick: "Regelkarte",
  spcNone: "keine SPC-Regelkarten konfiguriert",
  spcKind: (k) => KINDS[k] || k,
  spcSpread: (k) => ({ imr: "gleitende Spannweite MR", xbar_r: "Spannweite R", xbar_s: "Standardabweichung S" })[k] || "",
  spcStat: (k) => ({ imr: "x", xbar_r: "x̄", xbar_s: "x̄" })[k] || k,
  spcNoLimits: "Phase I: noch keine Grenzen, Vorlauf-Stichproben werden gesammelt",
  spcTrial: (k) => "Phase I: vorläufige Grenzen" + (k ? " aus " + k + " Stichproben" : "") + " (noch nicht eingefroren)",
  spcFrozen: (by, at) => "Phase II: Grenzen eingefroren von " + by + " um " + at,
  spcManual: (by, at) => "Phase II: Grenzen von Hand gesetzt von " + by + " um " + at,
  spcBaseline: (from, to, k) => "Vorlauf " + from + "–" + to + (k ? ", " + k + " Punkt(e) ausgeschlossen" : ""),
  spcSpec: "Toleranz",
  spcTarget: "Sollwert",
  spcNoPoints: "keine Punkte in der letzten Stunde",
  spcRange: (count) => count + " Punkt(e), letzte Stunde",
  spcHeld: (k) => k + " Messwert(e) zurückgehalten (außerhalb des gültigen Bereichs oder keine Zahl)",
  spcViolations: "Verletzte Regeln",
  spcNoViolations: "keine Regel verletzt in der letzten Stunde",
  spcPoints: (a, b) => "Punkte " + (a === b ? "#" + a : "#" + a + "–#" + b),
  spcCap: "Prozessfähigkeit dieser Schicht",
  spcCapN: (n, k) => "n = " + n + " Messwerte" + (k && k !== n ? " in " + k + " Stichproben" : ""),
  spcNoSpec: "keine Toleranzgrenzen für diese Karte: die Fähigkeit braucht USG und/oder OSG (spc.charts[].spec)",
  spcCapAttr: "Fähigkeitskennzahlen gibt es für Variablenkarten (bei p, np, c, u ist es die Mittellinie)",
  spcPpm: "außerhalb der Toleranz (ppm)",
  spcObserved: "beobachtet",
  spcExpected: "erwartet",
  spcUnstable: "die Karte hat in diesem Bereich Regeln verletzt: die Fähigkeit setzt einen beherrschten Prozess voraus",
  spcTap: "Punkt antippen für Einzelheiten",
  spcZoneC: "Zone C: innerhalb 1σ",
  spcZoneB: "Zone B: 1σ–2σ",
  spcZoneA: "Zone A: 2σ–3σ",
  spcZone: "Zone",
  spcLoadFailed: (why) => "SPC: " + why,
};

Object.assign(DICTIONARIES.en, en);
Object.assign(DICTIONARIES.de, de);
