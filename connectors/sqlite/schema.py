"""The SQLite store's writes: which table each event goes to and how (see
`connectors.sqlite`). Times are integer milliseconds since the epoch (UTC); the tables
and their versions are `connectors.sqlite.migrations`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.common.jsonbytes import dumps_text
from connectors.common.oeedetails import details_document, line_details_document
from connectors.common.outputdoc import output_document
from connectors.common.timefmt import rfc3339
from connectors.sqlite.migrations import MIGRATIONS, SCHEMA_VERSION
from connectors.sqlite.orders import ORDER_COLUMNS, changeover_row, order_audit, progress_row
from connectors.sqlite.spc import SPC_COLUMNS, limits_row, point_row, violation_row
from connectors.sqlite.times import from_ms, to_ms
from core.alarms import AlarmChange
from core.orders import ChangeoverDone, OrderCommand, OrderEdited, OrderProgress
from core.spc import SpcLimitsChange, SpcPoint, SpcViolation
from core.types import (
    CountDecision,
    CountDelta,
    Event,
    LineOeeUpdate,
    LineOutputUpdate,
    MachineState,
    OeeUpdate,
    OutputUpdate,
    ProductChanged,
    Quality,
    ReasonAssigned,
    Sample,
    SampleBatch,
    ScrapBooked,
    ShiftNote,
    ShiftReportDone,
    StateChange,
    StopPlanned,
    SuspectCount,
)

__all__ = [
    "OEE_FIELDS",
    "SCHEMA_VERSION",
    "Writes",
    "audit_row",
    "from_ms",
    "MIGRATIONS",
    "read_tag",
    "tags_json",
    "to_ms",
    "write",
]

OEE_FIELDS = (
    "availability", "performance", "quality", "oee", "run_s", "planned_s", "unknown_s",
    "window_s", "total", "good", "reject",
)  # fmt: skip
_COLUMNS = {
    "machine_state": (
        "machine", "ts", "state", "code", "previous", "duration_s", "reason_code", "reason",
        "seq",
    ),
    "production": ("machine", "ts", "total", "good", "reject", "product"),
    "oee": ("machine", "window", "ts", *OEE_FIELDS, "state_s", "start", "details"),
    "line_oee": (
        "line", "window", "ts", *OEE_FIELDS, "mode", "bottleneck", "start", "details",
    ),
    "tag_batch": ("machine", "ts", "tags"),
    "shift_report": ("area", "line", "shift", "ts", "doc"),
    "output": ("kind", "id", "ts", "shift", "final", "doc"),
    "suspect_count": (
        "machine", "ts", "total", "good", "reject", "product", "counter", "allowed",
        "elapsed_s", "seq",
    ),
    "count_decision": (
        "machine", "ts", "action", "by", "total", "good", "reject", "suspect_seq",
        "count_seq", "note", "seq",
    ),
    "scrap": (
        "machine", "ts", "quantity", "reason_code", "reason", "category", "product", "note",
        "by", "count_seq", "seq",
    ),
    "stop_planned": (
        "machine", "ts", "stop_ts", "state", "kind", "reason", "previous_kind",
        "previous_reason", "by", "seq",
    ),
    "shift_note": ("line", "shift", "ts", "text", "by", "previous_text"),
    "audit": ("ts", "machine", "line", "action", "by", "target", "old", "new"),
    "alarm": (
        "machine", "ts", "change", "id", "rule", "kind", "severity", "message", "value",
        "raised", "cleared", "acked_by", "acked_at", "seq",
    ),
    **SPC_COLUMNS,
    **ORDER_COLUMNS,
}  # fmt: skip


def _quoted(column: str) -> str:
    return '"' + column + '"'


# Column names quoted: `spc_points.values` is an SQL keyword.
_INSERTS = {
    table: f"INSERT INTO {table} ({', '.join(map(_quoted, cols))}) "
    f"VALUES ({','.join('?' * len(cols))})"
    for table, cols in _COLUMNS.items()
}
_UPDATE_REASON = "UPDATE machine_state SET reason_code = ?, reason = ? WHERE machine = ? AND ts = ?"
_UPDATE_PLANNED = (
    "UPDATE machine_state SET planned_kind = ?, planned_reason = ? WHERE machine = ? AND ts = ?"
)


@dataclass
class Writes:
    """What one `handle` call writes: rows to insert per table, then reasons to set."""

    rows: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {table: [] for table in _COLUMNS}
    )
    reasons: list[ReasonAssigned] = field(default_factory=list)
    planned: list[StopPlanned] = field(default_factory=list)

    @classmethod
    def of(cls, events: Sequence[Event]) -> Writes:
        """The writes of `events`; built on the event loop (cheap, no I/O)."""
        w = cls()
        for e in events:
            if isinstance(e, StateChange):
                w.rows["machine_state"].append(_state_row(e))
            elif isinstance(e, CountDelta):
                w.rows["production"].append(
                    (e.machine, to_ms(e.ts), e.total, e.good, e.reject, e.product)
                )
            elif isinstance(e, OeeUpdate):
                w.rows["oee"].append(_oee_row(e))
            elif isinstance(e, LineOeeUpdate):
                w.rows["line_oee"].append(_line_oee_row(e))
            elif isinstance(e, OutputUpdate | LineOutputUpdate):
                w.rows["output"].append(_output_row(e))
            elif isinstance(e, SampleBatch):
                batch_ms = to_ms(e.ts)
                w.rows["tag_batch"].append((e.machine, batch_ms, tags_json(e, batch_ms)))
            elif isinstance(e, ReasonAssigned):
                w.reasons.append(e)
                if e.source != "plc":
                    w.rows["audit"].append(audit_row(e))
            elif isinstance(
                e, SuspectCount | CountDecision | ScrapBooked | StopPlanned | ShiftNote
            ):
                w.rows[_TABLE_OF[type(e)]].append(_row(e))
                if isinstance(e, ScrapBooked | StopPlanned | ShiftNote):
                    w.rows["audit"].append(audit_row(e))
                if isinstance(e, StopPlanned):
                    w.planned.append(e)
            elif isinstance(e, ProductChanged):
                w.rows["audit"].append(audit_row(e))
            elif isinstance(e, AlarmChange):
                w.rows["alarm"].append(_alarm_row(e))
            elif isinstance(e, ShiftReportDone):
                w.rows["shift_report"].append((e.area, e.line, e.shift.id, to_ms(e.ts), e.document))
            elif isinstance(e, SpcPoint):
                w.rows["spc_points"].append(point_row(e))
            elif isinstance(e, SpcViolation):
                w.rows["spc_violations"].append(violation_row(e))
            elif isinstance(e, SpcLimitsChange):
                w.rows["spc_limits"].append(limits_row(e))
            elif isinstance(e, OrderProgress):
                w.rows["order_progress"].append(progress_row(e))
            elif isinstance(e, ChangeoverDone):
                w.rows["changeover"].append(changeover_row(e))
            elif isinstance(e, OrderEdited | OrderCommand):  # the API's changes: audited
                w.rows["audit"].append(audit_row(e))
        return w

    @classmethod
    def merged(cls, parts: Sequence[Writes]) -> Writes:
        """The writes of `parts` in one: every row in order, then every reason."""
        w = cls()
        for part in parts:
            for table, rows in part.rows.items():
                w.rows[table] += rows
            w.reasons += part.reasons
            w.planned += part.planned
        return w

    @property
    def row_count(self) -> int:
        """Rows to insert."""
        return sum(len(r) for r in self.rows.values())


_TABLE_OF: dict[type, str] = {
    SuspectCount: "suspect_count",
    CountDecision: "count_decision",
    ScrapBooked: "scrap",
    StopPlanned: "stop_planned",
    ShiftNote: "shift_note",
}
_Row = SuspectCount | CountDecision | ScrapBooked | StopPlanned | ShiftNote


def _row(e: _Row) -> tuple[Any, ...]:
    """The row of an event of `_TABLE_OF`: its columns' attributes, times in ms."""
    return tuple(_cell(getattr(e, c)) for c in _COLUMNS[_TABLE_OF[type(e)]])


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_ms(value)
    return value.value if isinstance(value, MachineState) else value


def audit_row(
    e: ReasonAssigned | ScrapBooked | StopPlanned | ShiftNote | ProductChanged | OrderEdited
    | OrderCommand,
) -> tuple[Any, ...]:  # fmt: skip
    """The `audit` row of an operator's change: (ts, machine, line, action, by, target,
    old, new), `old` and `new` as JSON objects (null: nothing before)."""
    old: dict[str, Any] | None
    if isinstance(e, OrderEdited | OrderCommand):
        action, target, old, new_ = order_audit(e)
        return (to_ms(e.ts), e.machine, None, action, e.by, target, _json(old), _json(new_))
    if isinstance(e, ReasonAssigned):
        action, by, target = "reason", e.source, rfc3339(e.stop_ts)
        old = {"reason_code": e.previous_reason_code, "reason": e.previous_reason}
        new: dict[str, Any] = {"reason_code": e.reason_code, "reason": e.reason}
    elif isinstance(e, ScrapBooked):
        action, by, target, old = "scrap", e.by, None, None
        new = {"quantity": e.quantity, "reason_code": e.reason_code, "reason": e.reason,
               "product": e.product, "note": e.note}  # fmt: skip
    elif isinstance(e, ProductChanged):
        action, by, target = "product", e.by, None
        old, new = {"product": e.previous}, {"product": e.product}
    elif isinstance(e, StopPlanned):
        action, by, target = "planned", e.by, rfc3339(e.stop_ts)
        old = {"kind": e.previous_kind, "reason": e.previous_reason}
        new = {"kind": e.kind, "reason": e.reason}
    else:
        action, by, target = "notes", e.by, e.shift
        old = None if e.previous_text is None else {"text": e.previous_text}
        new = {"text": e.text}
    machine = None if isinstance(e, ShiftNote) else e.machine
    line = e.line if isinstance(e, ShiftNote) else None
    return (to_ms(e.ts), machine, line, action, by, target, _json(old), _json(new))


def _json(doc: dict[str, Any] | None) -> str | None:
    return None if doc is None else json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def _opt_ms(ts: datetime | None) -> int | None:
    return None if ts is None else to_ms(ts)


def _alarm_row(e: AlarmChange) -> tuple[Any, ...]:
    a = e.alarm
    return (
        e.machine, to_ms(e.ts), e.change, a.id, a.rule, a.kind, a.severity, a.message,
        a.value, to_ms(a.raised), _opt_ms(a.cleared), a.acked_by, _opt_ms(a.acked_at), e.seq,
    )  # fmt: skip


def _state_row(e: StateChange) -> tuple[Any, ...]:
    prev = e.previous.value if e.previous else None
    return (
        e.machine, to_ms(e.ts), e.state.value, e.state.code, prev, e.duration_s,
        e.reason_code, e.reason, e.seq,
    )  # fmt: skip


def _oee_row(e: OeeUpdate) -> tuple[Any, ...]:
    start = None if e.start is None else to_ms(e.start)
    details = None if e.report is None else json.dumps(details_document(e), ensure_ascii=False)
    figures = tuple(getattr(e, name) for name in OEE_FIELDS)
    return (e.machine, e.window, to_ms(e.ts), *figures, json.dumps(e.state_s), start, details)


def _line_oee_row(e: LineOeeUpdate) -> tuple[Any, ...]:
    figures = tuple(getattr(e, name) for name in OEE_FIELDS)
    details = json.dumps(line_details_document(e), ensure_ascii=False)
    return (e.line, e.window, to_ms(e.ts), *figures, e.mode, e.bottleneck, to_ms(e.start), details)


def _output_row(e: OutputUpdate | LineOutputUpdate) -> tuple[Any, ...]:
    kind, key = ("machine", e.machine) if isinstance(e, OutputUpdate) else ("line", e.line)
    doc = json.dumps(output_document(e), ensure_ascii=False)
    return (kind, key, to_ms(e.ts), e.shift.id, int(e.final), doc)


def tags_json(batch: SampleBatch, batch_ms: int) -> str:
    """A batch's values as stored: `{tag: [value, quality code(, ts ms)]}`."""
    doc: dict[str, list[Any]] = {}
    bts = batch.ts
    stamps: dict[datetime, int] = {}  # an OPC UA batch's few distinct sample times
    for s in batch.samples:
        cell: list[Any] = [s.value, s.quality.code]
        t = s.ts
        if t is not bts:  # a batch's samples mostly share its time
            ms = stamps.get(t)
            if ms is None:
                ms = stamps[t] = to_ms(t)
            if ms != batch_ms:
                cell.append(ms)
        doc[s.tag] = cell
    return dumps_text(doc)


_QUALITY_OF = {q.code: q for q in Quality}
# `instr`: SQLite skips the batches without the tag's key (e.g. an OPC UA subscription's,
# which hold only what changed) in C, so the limit counts the tag's values and Python
# decodes only batches that (nearly always) hold one.
_BATCHES = (
    "SELECT ts, tags FROM tag_batch WHERE machine = ? AND ts >= ? AND ts < ? "
    "AND instr(tags, ?) > 0 ORDER BY ts LIMIT ?"
)
_LEGACY = (
    "SELECT ts, value, value_str, quality FROM tag "
    "WHERE machine = ? AND tag = ? AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?"
)


def read_tag(
    conn: sqlite3.Connection,
    machine: str,
    tag: str,
    start_ms: int,
    end_ms: int,
    limit: int | None = None,
) -> list[Sample]:
    """The stored values of one tag with start <= ts < end, oldest first (rows of the
    legacy `tag` table first: they are older than any batch), at most `limit`: the
    batches are decoded one by one and the read stops there."""
    most = -1 if limit is None else limit  # SQLite: a negative LIMIT is none
    params = (machine, tag, start_ms, end_ms, most)
    out = [
        Sample(tag, text if value is None else value, _QUALITY_OF[q], from_ms(ts))
        for ts, value, text, q in conn.execute(_LEGACY, params)
    ]
    key = json.dumps(tag, ensure_ascii=False) + ":"  # as tags_json writes it
    more = -1 if limit is None else limit - len(out)
    for ts, text in conn.execute(_BATCHES, (machine, start_ms, end_ms, key, more)):
        cell = json.loads(text).get(tag)
        if cell is not None:
            at = cell[2] if len(cell) > 2 else ts
            out.append(Sample(tag, cell[0], _QUALITY_OF[cell[1]], from_ms(at)))
    return out


def write(
    conn: sqlite3.Connection, writes: Writes
) -> tuple[int, list[ReasonAssigned | StopPlanned]]:
    """Insert the rows, then set the reasons and planned stops, in one transaction.
    Returns the rows written (inserted and updated) and the reasons and planned stops
    whose stop has no stored row."""
    written, unmatched = writes.row_count, []
    with conn:
        conn.execute("BEGIN")
        for table, values in writes.rows.items():
            if values:
                conn.executemany(_INSERTS[table], values)
        updates: list[tuple[ReasonAssigned | StopPlanned, str, tuple[Any, ...]]] = [
            (r, _UPDATE_REASON, (r.reason_code, r.reason)) for r in writes.reasons
        ]
        updates += [(p, _UPDATE_PLANNED, (p.kind, p.reason)) for p in writes.planned]
        for e, sql, new in updates:
            changed = conn.execute(sql, (*new, e.machine, to_ms(e.stop_ts))).rowcount
            written += changed
            if not changed:
                unmatched.append(e)
    return written, unmatched
