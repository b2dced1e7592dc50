// Building and updating the page's elements. Text goes in with textContent only: names,
// reasons and paths come from the config and the PLCs, they are not HTML.
"use strict";

export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function pct(x) {
  return x === null || x === undefined ? "–" : (100 * x).toFixed(1) + " %";
}

export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const pad = (n) => String(n).padStart(2, "0");
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + pad(s % 60) + " s";
  return Math.floor(s / 3600) + " h " + pad(Math.floor((s % 3600) / 60)) + " min";
}

// Lost time in a Pareto row: "4.2 s", "48 s", "12.5 min", "1.6 h".
export function lostTime(s) {
  if (s < 10) return s.toFixed(1) + " s";
  if (s < 60) return Math.round(s) + " s";
  if (s < 3600) return (s / 60).toFixed(1) + " min";
  return (s / 3600).toFixed(1) + " h";
}

export function clockTime(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function stateLabel(state) {
  return state ? state.replace("_", " ") : "unknown";
}

// Traffic-light class of a ratio: OEE against 85 % (world class) and 60 %; A, P and Q
// against 90 % and 75 %.
function grade(x, good, fair) {
  if (x === null || x === undefined) return "";
  return x >= good ? "good" : x >= fair ? "fair" : "poor";
}

/** One machine's card; `refs` holds the parts that change. */
export function createCard(m, onWindow) {
  const card = el("article", "card");
  card.dataset.machine = m.id;
  const head = el("header");
  head.append(el("h2", "", m.name), el("div", "path", m.path));
  const status = el("div", "status");
  const state = el("span", "state");
  const dur = el("span", "dur");
  status.append(state, dur);
  const reason = el("div", "reason");
  const ring = el("div", "ring");
  const ringVal = el("span", "val", "–");
  const ringInner = el("div");
  ringInner.append(ringVal, el("span", "lbl", "OEE"));
  ring.append(ringInner);
  const gauges = el("div", "gauges");
  gauges.dataset.k = "gauges";
  gauges.append(ring);
  const bars = {};
  for (const [k, label] of [["availability", "A"], ["performance", "P"], ["quality", "Q"]]) {
    const bar = el("div", "bar");
    bar.dataset.k = k;
    const track = el("div", "track");
    track.append(el("div", "fill"));
    bar.append(el("span", "muted", label), track, el("span", "val", "–"));
    gauges.append(bar);
    bars[k] = bar;
  }
  const wins = el("div", "wins");
  wins.addEventListener("click", (ev) => {
    const b = ev.target.closest("button");
    if (b) onWindow(b.dataset.window);
  });
  const timeline = el("div", "timeline");
  timeline.setAttribute("role", "img");
  const axis = el("div", "axis");
  axis.append(el("span"), el("span", "", "now"));
  const counts = el("div", "counts");
  const flags = el("ul", "flags");
  flags.setAttribute("aria-label", "what is wrong with this machine's data");
  card.append(head, status, reason, flags, gauges, wins, timeline, axis, counts);
  card.refs = { state, dur, reason, flags, ring, ringVal, bars, wins, timeline, axis, counts };
  return card;
}

export function updateCard(card, m, windows, selected) {
  const r = card.refs;
  const state = m.state || "offline";
  card.dataset.state = state;
  r.state.dataset.state = state;
  r.state.className = "state " + state;
  r.state.textContent = stateLabel(m.state);
  r.dur.dataset.since = m.since || "";
  r.reason.textContent = m.reason ? "reason: " + m.reason : "";
  r.flags.replaceChildren(...flagItems(m));
  const n = m.counts;
  r.counts.textContent = "parts " + n.total + " · good " + n.good + " · reject " + n.reject +
    (m.product ? " · product " + m.product : "");
  const o = m.oee[selected] || {};
  r.ring.className = "ring " + grade(o.oee, 0.85, 0.6);
  r.ring.style.setProperty("--v", Math.min(1, Math.max(0, o.oee || 0)));
  r.ringVal.textContent = pct(o.oee);
  r.ring.parentElement.dataset.window = selected;
  for (const [k, bar] of Object.entries(r.bars)) {
    bar.className = "bar " + grade(o[k], 0.9, 0.75);
    bar.style.setProperty("--v", Math.min(1, Math.max(0, o[k] || 0)));
    bar.lastChild.textContent = pct(o[k]);
  }
  r.wins.replaceChildren(...windows.map((w) => {
    const b = el("button", "", pct((m.oee[w] || {}).oee));
    b.prepend(el("span", "", w));
    b.type = "button";
    b.dataset.window = w;
    b.setAttribute("aria-pressed", String(w === selected));
    return b;
  }));
}

/** What is wrong with a machine's data now (its open issues, its held counts): a figure
 * is never shown without saying what it leaves out. */
export function flagItems(m) {
  const items = (m.issues || []).map((i) => {
    const li = el("li", "flag " + i.kind, "⚠ " + i.detail);
    if (i.count > 1) li.append(el("span", "muted", " (" + i.count + "×)"));
    return li;
  });
  if (m.suspects) {
    const what = m.suspects === 1 ? "1 count" : m.suspects + " counts";
    items.push(el("li", "flag suspect", "⚠ " + what + " held for review: not in the figures"));
  }
  return items;
}

/** The timeline of [from, now]: segments {state, start, end (null: open), reason} in ms. */
export function drawTimeline(card, segments, from, now, label) {
  const span = Math.max(1, now - from);
  const parts = [];
  for (const s of segments) {
    const a = Math.max(s.start, from);
    const b = Math.min(s.end === null ? now : s.end, now);
    if (b <= a) continue;
    const seg = el("div", "seg " + s.state);
    seg.dataset.state = s.state;
    seg.style.left = (100 * (a - from) / span) + "%";
    seg.style.width = (100 * (b - a) / span) + "%";
    seg.title = stateLabel(s.state) + " " + clockTime(a) + "–" + clockTime(b) +
      (s.reason ? " · " + s.reason : "");
    parts.push(seg);
  }
  card.refs.timeline.replaceChildren(...parts);
  card.refs.timeline.setAttribute("aria-label", "states " + label);
  card.refs.axis.firstChild.textContent = label;
}

export function lineBox(line, figures, window) {
  const box = el("div", "line");
  box.dataset.line = line;
  const ring = el("div", "ring " + grade(figures && figures.oee, 0.85, 0.6));
  ring.style.setProperty("--v", Math.min(1, Math.max(0, (figures && figures.oee) || 0)));
  ring.style.width = ring.style.height = "4.2rem";
  ring.append(el("span", "val", pct(figures && figures.oee)));
  ring.firstChild.style.fontSize = "1rem";
  const text = el("div", "figs");
  text.append(el("h2", "", line), el("div", "muted", "line OEE · " + window));
  if (figures) {
    text.append(el("div", "", "A " + pct(figures.availability) + " · P " +
      pct(figures.performance) + " · Q " + pct(figures.quality)));
  }
  box.append(ring, text);
  return box;
}

/** Pareto rows {machine, state, reason, count, seconds}, biggest first. */
export function paretoRows(rows) {
  if (!rows.length) return [el("p", "muted", "no unplanned downtime in this window")];
  const total = rows.reduce((sum, r) => sum + r.seconds, 0);
  const top = rows[0].seconds || 1;
  return rows.map((r) => {
    const row = el("div", "prow " + r.state);
    row.dataset.state = r.state;
    const what = el("div", "what");
    what.append(el("strong", "", r.machine + " "),
      el("span", "", stateLabel(r.state) + " · " + (r.reason || "no reason given")));
    const track = el("div", "track");
    const fill = el("div", "fill");
    fill.style.width = (100 * r.seconds / top) + "%";
    track.append(fill);
    const num = el("div", "num", lostTime(r.seconds) + " · " + r.count + "× · " +
      Math.round(100 * r.seconds / (total || 1)) + " %");
    row.append(what, track, num);
    return row;
  });
}
