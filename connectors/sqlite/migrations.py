"""The SQLite store's schema: its migrations, one step per version (see `connectors.sqlite`).

Times are integer milliseconds since the epoch (UTC). `PRAGMA user_version` holds the
schema version; `connectors.sqlite.file.open_wal` runs the `MIGRATIONS` a file of an older
version has not had yet, one step at a time, in one transaction:

- 1: the four tables mirroring the InfluxDB measurements;
- 2: `oee.start` (ms, nullable) and `oee.details` (JSON of `details_document`, nullable);
- 3: the `line_oee` table (a line's figures per window: the `oee` columns, `mode`,
  `bottleneck`, `start`, and `details`, the JSON of `line_details_document`);
- 4: the `tag_batch` table: one row per poll (or notification batch) of a machine, its
  values as JSON `{tag: [value, quality code]}` (a third item, the sample's own time in
  ms, where it differs from the batch's). A row per value cost ~4x the CPU at 15,000
  values a second and grew with the table (its index); the `tag` table of older files is
  kept for the rows it holds (read with the batches, deleted by retention);
- 5: `suspect_count` (counter movements held out of the figures, as `…/suspect`) and
  `count_decision` (who accepted, discarded or corrected counts, as `…/decision`);
- 6: `output` (a machine's, `kind` "machine", or a line's, "line", output against
  target in a shift: `doc` is the JSON of `connectors.common.outputdoc.output_document`);
- 7: the operator's input: `scrap` (booked by hand, as `…/scrap`), `stop_planned` (a stop
  turned into planned time, as `…/planned`; `machine_state.planned_kind`/`planned_reason`
  hold the stop's current one), `shift_note` (every version of a shift's hand-over text)
  and `audit` (every operator change: who, when, old and new value as JSON);
- 8: `alarm`: one row per alarm change (raised, acknowledged, cleared), each with the alarm
  as it stands after it;
- 9: `shift_report`: a line's report of a finished shift (`doc`: the JSON of
  `GET /api/v1/shifts/{date}/{name}/report`), one row per build, the latest kept;
- 10: SPC (issue 18): `spc_points` (one row per chart point: the plotted value, its
  spread and n, its limits at its n, zone, phase, the rules it completed and its readings
  as JSON, how many readings were held out), `spc_violations` (one row per rule broken:
  the points involved as JSON) and `spc_limits` (every change of a chart's limits: the
  limits, who and when, the baseline and the points left out of it);
- 11: orders (issue 19): `order_progress` (a machine's order at each publication, or
  none: order, product, status, counts and the JSON of the `…/order` payload) and
  `changeover` (one row per completed changeover: from/to, start, end, duration, loss
  against the standard and the JSON of the `…/changeover` payload).
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

_V1 = """
CREATE TABLE IF NOT EXISTS machine_state (
    machine TEXT NOT NULL, ts INTEGER NOT NULL, state TEXT NOT NULL, code INTEGER NOT NULL,
    previous TEXT, duration_s REAL, reason_code INTEGER, reason TEXT, seq INTEGER);
CREATE INDEX IF NOT EXISTS machine_state_machine_ts ON machine_state (machine, ts);
CREATE TABLE IF NOT EXISTS production (
    machine TEXT NOT NULL, ts INTEGER NOT NULL, total INTEGER NOT NULL, good INTEGER NOT NULL,
    reject INTEGER NOT NULL, product TEXT);
CREATE INDEX IF NOT EXISTS production_machine_ts ON production (machine, ts);
CREATE TABLE IF NOT EXISTS oee (
    machine TEXT NOT NULL, window TEXT NOT NULL, ts INTEGER NOT NULL,
    availability REAL, performance REAL, quality REAL, oee REAL,
    run_s REAL NOT NULL, planned_s REAL NOT NULL, unknown_s REAL NOT NULL,
    window_s REAL NOT NULL, total INTEGER NOT NULL, good INTEGER NOT NULL,
    reject INTEGER NOT NULL, state_s TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS oee_machine_window_ts ON oee (machine, window, ts);
CREATE TABLE IF NOT EXISTS tag (
    machine TEXT NOT NULL, tag TEXT NOT NULL, ts INTEGER NOT NULL,
    value REAL, value_str TEXT, quality INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS tag_machine_tag_ts ON tag (machine, tag, ts);
"""
_V2 = """
ALTER TABLE oee ADD COLUMN start INTEGER;
ALTER TABLE oee ADD COLUMN details TEXT;
"""
_V3 = """
CREATE TABLE IF NOT EXISTS line_oee (
    line TEXT NOT NULL, window TEXT NOT NULL, ts INTEGER NOT NULL,
    availability REAL, performance REAL, quality REAL, oee REAL,
    run_s REAL NOT NULL, planned_s REAL NOT NULL, unknown_s REAL NOT NULL,
    window_s REAL NOT NULL, total INTEGER NOT NULL, good INTEGER NOT NULL,
    reject INTEGER NOT NULL, mode TEXT NOT NULL, bottleneck TEXT, start INTEGER NOT NULL,
    details TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS line_oee_line_window_ts ON line_oee (line, window, ts);
"""
_V4 = """
CREATE TABLE IF NOT EXISTS tag_batch (
    machine TEXT NOT NULL, ts INTEGER NOT NULL, tags TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tag_batch_machine_ts ON tag_batch (machine, ts);
"""
_V5 = """
CREATE TABLE IF NOT EXISTS suspect_count (
    machine TEXT NOT NULL, ts INTEGER NOT NULL, total INTEGER NOT NULL, good INTEGER NOT NULL,
    reject INTEGER NOT NULL, product TEXT, counter TEXT NOT NULL, allowed INTEGER NOT NULL,
    elapsed_s REAL NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS suspect_count_machine_ts ON suspect_count (machine, ts);
CREATE TABLE IF NOT EXISTS count_decision (
    machine TEXT NOT NULL, ts INTEGER NOT NULL, action TEXT NOT NULL, by TEXT NOT NULL,
    total INTEGER NOT NULL, good INTEGER NOT NULL, reject INTEGER NOT NULL,
    suspect_seq INTEGER, count_seq INTEGER, note TEXT, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS count_decision_machine_ts ON count_decision (machine, ts);
"""
_V_OUTPUT = """
CREATE TABLE IF NOT EXISTS output (
    kind TEXT NOT NULL, id TEXT NOT NULL, ts INTEGER NOT NULL, shift TEXT NOT NULL,
    final INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS output_kind_id_ts ON output (kind, id, ts);
"""
_V_OPERATOR = """
ALTER TABLE machine_state ADD COLUMN planned_kind TEXT;
ALTER TABLE machine_state ADD COLUMN planned_reason TEXT;
CREATE TABLE IF NOT EXISTS scrap (
    machine TEXT NOT NULL, ts INTEGER NOT NULL, quantity INTEGER NOT NULL,
    reason_code INTEGER NOT NULL, reason TEXT NOT NULL, category TEXT, product TEXT, note TEXT,
    by TEXT NOT NULL, count_seq INTEGER, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS scrap_machine_ts ON scrap (machine, ts);
CREATE TABLE IF NOT EXISTS stop_planned (
    machine TEXT NOT NULL, ts INTEGER NOT NULL, stop_ts INTEGER NOT NULL, state TEXT NOT NULL,
    kind TEXT, reason TEXT, previous_kind TEXT, previous_reason TEXT, by TEXT NOT NULL,
    seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS stop_planned_machine_ts ON stop_planned (machine, ts);
CREATE TABLE IF NOT EXISTS shift_note (
    line TEXT NOT NULL, shift TEXT NOT NULL, ts INTEGER NOT NULL, text TEXT NOT NULL,
    by TEXT NOT NULL, previous_text TEXT);
CREATE INDEX IF NOT EXISTS shift_note_line_shift ON shift_note (line, shift, ts);
CREATE TABLE IF NOT EXISTS audit (
    ts INTEGER NOT NULL, machine TEXT, line TEXT, action TEXT NOT NULL, by TEXT NOT NULL,
    target TEXT, old TEXT, new TEXT);
CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts);
"""
# One row per alarm change (raised, acknowledged, cleared), each with the alarm as it
# stands after it: the last row of an id is the alarm (connectors.sqlite.alarms).
_V_ALARM = """
CREATE TABLE IF NOT EXISTS alarm (
    machine TEXT NOT NULL, ts INTEGER NOT NULL, change TEXT NOT NULL, id TEXT NOT NULL,
    rule TEXT NOT NULL, kind TEXT NOT NULL, severity TEXT NOT NULL, message TEXT NOT NULL,
    value REAL, raised INTEGER NOT NULL, cleared INTEGER, acked_by TEXT, acked_at INTEGER,
    seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS alarm_raised ON alarm (raised, machine);
CREATE INDEX IF NOT EXISTS alarm_id ON alarm (id);
CREATE INDEX IF NOT EXISTS alarm_ts ON alarm (ts);
"""
# One row per report built (a rebuilt one adds a row): the last of (line, shift) is kept.
_V_REPORT = """
CREATE TABLE IF NOT EXISTS shift_report (
    area TEXT NOT NULL, line TEXT NOT NULL, shift TEXT NOT NULL, ts INTEGER NOT NULL,
    doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS shift_report_line_shift ON shift_report (line, shift, ts);
"""
_V_SPC = """
CREATE TABLE IF NOT EXISTS spc_points (
    chart TEXT NOT NULL, machine TEXT NOT NULL, ts INTEGER NOT NULL, seq INTEGER NOT NULL,
    kind TEXT NOT NULL, value REAL, spread REAL, n REAL NOT NULL, center REAL, ucl REAL,
    lcl REAL, zone TEXT, phase TEXT NOT NULL, violations TEXT NOT NULL, "values" TEXT NOT NULL,
    product TEXT, held INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS spc_points_chart_ts ON spc_points (chart, ts);
CREATE TABLE IF NOT EXISTS spc_violations (
    chart TEXT NOT NULL, machine TEXT NOT NULL, ts INTEGER NOT NULL, seq INTEGER NOT NULL,
    rule TEXT NOT NULL, name TEXT NOT NULL, points TEXT NOT NULL, side TEXT, value REAL,
    phase TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS spc_violations_chart_ts ON spc_violations (chart, ts);
CREATE TABLE IF NOT EXISTS spc_limits (
    chart TEXT NOT NULL, machine TEXT NOT NULL, ts INTEGER NOT NULL, action TEXT NOT NULL,
    by TEXT, kind TEXT, center REAL, sigma REAL, n REAL, ucl REAL, lcl REAL,
    spread_center REAL, spread_ucl REAL, spread_lcl REAL, source TEXT, subgroups INTEGER,
    baseline_from INTEGER, baseline_to INTEGER, excluded TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS spc_limits_chart_ts ON spc_limits (chart, ts);
"""
_V_ORDERS = """
CREATE TABLE IF NOT EXISTS order_progress (
    machine TEXT NOT NULL, ts INTEGER NOT NULL, order_id TEXT, product TEXT, status TEXT,
    good INTEGER, reject INTEGER, scrap INTEGER, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS order_progress_machine_ts ON order_progress (machine, ts);
CREATE INDEX IF NOT EXISTS order_progress_order_ts ON order_progress (order_id, ts);
CREATE TABLE IF NOT EXISTS changeover (
    machine TEXT NOT NULL, ts INTEGER NOT NULL, seq INTEGER NOT NULL, from_product TEXT NOT NULL,
    to_product TEXT NOT NULL, from_order TEXT, to_order TEXT, start INTEGER NOT NULL,
    "end" INTEGER NOT NULL, duration_s REAL NOT NULL, loss_s REAL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS changeover_machine_ts ON changeover (machine, ts);
"""
# MIGRATIONS[n] takes a file from version n to n + 1
MIGRATIONS = (
    _V1, _V2, _V3, _V4, _V5, _V_OUTPUT, _V_OPERATOR, _V_ALARM, _V_REPORT, _V_SPC, _V_ORDERS,
)  # fmt: skip
SCHEMA_VERSION = len(MIGRATIONS)
