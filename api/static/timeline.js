// A machine's state band over the whole shift (or, with no shift planned, the plant
// day): segments coloured by state up to now, the future part empty, the planned stops
// (breaks) in a lane below, full hours of the plant clock as ticks. Every stop is a
// button (keyboard: Tab and Enter); a tap near a stop too narrow to hit picks the
// nearest one within a finger's width.
"use strict";

import { el } from "./dom.js";
import { clockTime, duration, hourTicks, t } from "./i18n.js";

export const STOP_STATES = ["idle", "setup", "fault", "planned_stop"];
const FINGER_PX = 16;  // a tap this close to a stop picks it
const TICK_PX = 64;    // the room an hour label ("22:00") needs, with a gap

/** The parts of a card's timeline; `onPick(stop)` is called with a tapped stop. */
export function createTimeline(onPick) {
  const box = el("div", "tl");
  const band = el("div", "band");
  band.setAttribute("role", "group");
  const plan = el("div", "plan");
  const ticks = el("div", "ticks");
  box.append(band, plan, ticks);
  band.addEventListener("click", (ev) => {
    const hit = ev.target.closest("button.seg");
    const stop = hit ? hit.stop : nearestStop(band, ev.clientX);
    if (stop) onPick(stop);
  });
  return { box, band, plan, ticks };
}

function nearestStop(band, x) {
  let best = null;
  let bestDist = FINGER_PX;
  for (const b of band.querySelectorAll("button.seg")) {
    const r = b.getBoundingClientRect();
    const dist = x < r.left ? r.left - x : x > r.right ? x - r.right : 0;
    if (dist <= bestDist) [best, bestDist] = [b.stop, dist];
  }
  return best;
}

/**
 * Draw [from, to] with `now` inside it (ms). segments: {state, start, end (null: open),
 * reason, startText}; planned: {kind, name, start, end} (ms). `label` names the range.
 */
export function drawTimeline(tl, { from, to, now, segments, planned, label, machine }) {
  const span = Math.max(1, to - from);
  const at = (ms) => (100 * (Math.min(Math.max(ms, from), to) - from) / span) + "%";
  const width = (a, b) => (100 * (Math.min(b, to) - Math.max(a, from)) / span) + "%";
  const parts = [];
  for (const s of segments) {
    const end = s.end === null ? now : Math.min(s.end, now);
    if (end <= from || s.start >= to || end <= s.start) continue;
    parts.push(segment(s, end, at, width, machine));
  }
  if (now < to) {
    const future = el("div", "future");
    future.style.left = at(now);
    parts.push(future);
  }
  tl.band.replaceChildren(...parts);
  tl.band.setAttribute("aria-label", t("timelineOf", label));
  tl.plan.replaceChildren(...planned.filter((p) => p.end > from && p.start < to).map((p) => {
    const d = el("div", "pstop");
    d.style.left = at(p.start);
    d.style.width = width(p.start, p.end);
    d.title = (p.name || t("plannedStop")) + " " + clockTime(p.start) + "–" + clockTime(p.end);
    return d;
  }));
  let marks = hourTicks(from, to, tickStep(span, tl.band.clientWidth || 400));
  // A range without two full hours in it (a short shift) is labelled at its ends.
  if (marks.length < 2) marks = [from, to].map((ms) => ({ at: ms, label: clockTime(ms) }));
  tl.ticks.replaceChildren(...marks.map((tick) => {
    const s = el("span", "tick", tick.label);
    s.style.left = at(tick.at);
    // A label at an end stays inside the band instead of centred over its tick.
    const x = (tick.at - from) / span;
    if (x < 0.04) s.classList.add("start");
    else if (x > 0.96) s.classList.add("end");
    return s;
  }));
}

/** Hours between ticks: labels at least TICK_PX apart on a band `px` wide. */
function tickStep(span, px) {
  const room = Math.max(1, Math.floor(px / TICK_PX));
  return [1, 2, 3, 4, 6, 12, 24].find((h) => span / 3600000 / h <= room) || 24;
}

function segment(s, end, at, width, machine) {
  const stop = STOP_STATES.includes(s.state);
  const seg = el(stop ? "button" : "div", "seg " + s.state + (s.planned_kind ? " as-planned" : ""));
  seg.dataset.state = s.state;
  if (s.planned_kind) seg.dataset.planned = s.planned_kind;
  seg.style.left = at(s.start);
  seg.style.width = width(s.start, end);
  const what = t("state", s.state) + " " + clockTime(s.start) + "–" +
    (s.end === null ? "" : clockTime(end)) + " · " + duration(end - s.start) +
    (s.reason ? " · " + s.reason : "") +
    (s.planned_kind ? " · " + t("plannedNow", t("kind", s.planned_kind), s.planned_reason || "") : "");
  seg.title = what;
  if (stop) {
    seg.type = "button";
    seg.setAttribute("aria-label", machine + ": " + what);
    seg.stop = s;
  }
  return seg;
}
