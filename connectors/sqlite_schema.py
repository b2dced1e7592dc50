"""The SQLite store's schema, its migrations and its writes (see `connectors.sqlite`).

Times are integer milliseconds since the epoch (UTC). `PRAGMA user_version` holds the
schema version; `connectors.sqlite_file.open_wal` runs the `MIGRATIONS` a file of an older
version has not had yet, one step at a time, in one transaction:

- 1: the four tables mirroring the InfluxDB measurements;
- 2: `oee.start` (ms, nullable) and `oee.details` (JSON of `details_document`, nullable);
- 3: the `line_oee` table (a line's figures per window: the `oee` columns, `mode`,
  `bottleneck`, `start`, and `details`, the JSON of `line_details_document`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.oeedetails import details_document, line_details_document
from edge.types import (
    CountDelta,
    Event,
    LineOeeUpdate,
    OeeUpdate,
    ReasonAssigned,
    SampleBatch,
    StateChange,
)

__all__ = [
    "OEE_FIELDS",
    "SCHEMA_VERSION",
    "Writes",
    "from_ms",
    "MIGRATIONS",
    "to_ms",
    "write",
]

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
MIGRATIONS = (_V1, _V2, _V3)  # MIGRATIONS[n] takes a file from version n to n + 1
SCHEMA_VERSION = len(MIGRATIONS)

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
    "tag": ("machine", "tag", "ts", "value", "value_str", "quality"),
}  # fmt: skip
_INSERTS = {
    table: f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({','.join('?' * len(cols))})"
    for table, cols in _COLUMNS.items()
}
_UPDATE_REASON = "UPDATE machine_state SET reason_code = ?, reason = ? WHERE machine = ? AND ts = ?"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def to_ms(ts: datetime) -> int:
    """Milliseconds since the epoch (floored); a naive `ts` is taken as UTC."""
    if ts.tzinfo is None:  # the pipeline uses aware UTC; treat a stray naive time as UTC
        ts = ts.replace(tzinfo=UTC)
    return (ts - _EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    """The aware UTC datetime of `ms` milliseconds since the epoch."""
    return _EPOCH + timedelta(milliseconds=ms)


@dataclass
class Writes:
    """What one `handle` call writes: rows to insert per table, then reasons to set."""

    rows: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {table: [] for table in _COLUMNS}
    )
    reasons: list[ReasonAssigned] = field(default_factory=list)

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
            elif isinstance(e, SampleBatch):
                batch_ms = to_ms(e.ts)  # a batch's samples mostly share its time
                w.rows["tag"] += [
                    (
                        e.machine, s.tag, batch_ms if s.ts is e.ts else to_ms(s.ts),
                        *_tag_value(s.value), s.quality.code,
                    )
                    for s in e.samples
                ]  # fmt: skip
            elif isinstance(e, ReasonAssigned):
                w.reasons.append(e)
        return w

    @classmethod
    def merged(cls, parts: Sequence[Writes]) -> Writes:
        """The writes of `parts` in one: every row in order, then every reason."""
        w = cls()
        for part in parts:
            for table, rows in part.rows.items():
                w.rows[table] += rows
            w.reasons += part.reasons
        return w

    @property
    def row_count(self) -> int:
        """Rows to insert."""
        return sum(len(r) for r in self.rows.values())


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


def _tag_value(v: Any) -> tuple[float | None, str | None]:
    if v is None:
        return None, None
    if isinstance(v, str):
        return None, v
    return float(v), None  # bools as 1.0 / 0.0, like the InfluxDB `value` field


def write(conn: sqlite3.Connection, writes: Writes) -> tuple[int, list[ReasonAssigned]]:
    """Insert the rows, then set the reasons, in one transaction. Returns the rows
    written (inserted and updated) and the reasons whose stop has no stored row."""
    written, unmatched = writes.row_count, []
    with conn:
        conn.execute("BEGIN")
        for table, values in writes.rows.items():
            if values:
                conn.executemany(_INSERTS[table], values)
        for r in writes.reasons:
            params = (r.reason_code, r.reason, r.machine, to_ms(r.stop_ts))
            changed = conn.execute(_UPDATE_REASON, params).rowcount
            written += changed
            if not changed:
                unmatched.append(r)
    return written, unmatched
