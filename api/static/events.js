// What each server-sent event does to the page (docs/API.md "Live events"): the data is
// the MQTT payload of the same name (v2: the reason code is `reason_code`).
"use strict";

import { figuresOf } from "./output.js";

/**
 * The handlers by event name. p: the live page's state and drawing functions: app,
 * segment(id, fields), renderCard(id), drawTimelines(), paretoSoon(), renderLines(),
 * loadAll(), alarms (alarms.js), spc (spc.js).
 */
export function eventHandlers(p) {
  const { app, segment, renderCard, drawTimelines, paretoSoon, renderLines, loadAll, alarms, spc } = p;
  return {
    hello() {
      loadAll();  // nothing is replayed: read what happened while away
    },
    state(d) {
      const m = app.machines.get(d.machine);
      if (!m) return;
      const code = d.reason_code;
      Object.assign(m, { state: d.state, since: d.ts, reason: d.reason, reason_code: code });
      const segs = app.segments.get(d.machine) || [];
      const at = Date.parse(d.ts);
      const open = segs[segs.length - 1];
      if (open && open.end === null) open.end = at;
      segs.push(segment(d.machine, { state: d.state, start: at, end: null, startText: d.ts,
        reason: d.reason, reason_code: code, clipped: false }));
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
        performance: d.performance, quality: d.quality, oee: d.oee, coverage: d.coverage,
        performance_flagged: d.performance_flagged };
      renderCard(d.machine);
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
    output(d) {
      const m = app.machines.get(d.machine);
      if (!m) return;
      Object.assign(m, { output: figuresOf(d), product_name: d.product_name ?? m.product_name });
      if (d.product) m.product = d.product;
      renderCard(d.machine);
    },
    line_output(d) {
      app.lineOutputs.set(d.line, figuresOf(d));
      renderLines();
    },
    alarm(d) {
      alarms.apply(d);
    },
    spc(d) {
      spc.point(d);
    },
    spc_violation(d) {
      spc.violation(d);
    },
    planned(d) {
      const seg = (app.segments.get(d.machine) || []).find((s) => s.start === Date.parse(d.stop_ts));
      if (seg) Object.assign(seg, { planned_kind: d.kind, planned_reason: d.reason });
      drawTimelines();
      paretoSoon();
    },
    reason(d) {
      const m = app.machines.get(d.machine);
      if (m && m.since && Date.parse(m.since) === Date.parse(d.stop_ts)) {
        Object.assign(m, { reason: d.reason, reason_code: d.reason_code });
        renderCard(d.machine);
      }
      const seg = (app.segments.get(d.machine) || []).find((s) => s.start === Date.parse(d.stop_ts));
      if (seg) Object.assign(seg, { reason: d.reason, reason_code: d.reason_code });
      drawTimelines();
      paretoSoon();
    },
  };
}
