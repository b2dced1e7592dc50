"""The store's reads, run in a worker thread on a read-only connection of their own:
each decodes its rows there (not on the event loop) and stops at its `limit`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from connectors.sqlite.schema import from_ms
from core.types import CountDelta, MachineState, StateRecord

__all__ = ["count_rows", "open_reader", "read_counts", "read_states"]

_STATES = (
    "SELECT ts, state, reason, reason_code, planned_kind, planned_reason "
    "FROM machine_state WHERE machine = ?"
)
_COUNTS = "SELECT ts, total, good, reject, product FROM production WHERE machine = ?"
_RANGE = " AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?"
_COUNT = "SELECT COUNT(*) FROM {} WHERE machine = ? AND ts >= ? AND ts < ?"


def open_reader(path: Path) -> sqlite3.Connection:
    """A connection for reads only, beside the writer's (WAL: neither waits for the
    other). The writer has created the file and its schema already."""
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA query_only = ON")
    return conn


def _sql_limit(limit: int | None) -> int:
    return -1 if limit is None else limit  # SQLite: a negative LIMIT is none


def read_states(
    conn: sqlite3.Connection, machine: str, start_ms: int, end_ms: int, limit: int | None
) -> list[StateRecord]:
    """The record in force at `start_ms`, then at most `limit` of [start_ms, end_ms)."""
    before = conn.execute(f"{_STATES} AND ts < ? ORDER BY ts DESC LIMIT 1", (machine, start_ms))
    rows = before.fetchall()
    rows += conn.execute(_STATES + _RANGE, (machine, start_ms, end_ms, _sql_limit(limit)))
    return [
        StateRecord(machine, MachineState(st), from_ms(ts), reason or None, code, kind, why)
        for ts, st, reason, code, kind, why in rows
    ]


def read_counts(
    conn: sqlite3.Connection, machine: str, start_ms: int, end_ms: int, limit: int | None
) -> list[CountDelta]:
    """At most `limit` count deltas of [start_ms, end_ms), oldest first."""
    rows = conn.execute(_COUNTS + _RANGE, (machine, start_ms, end_ms, _sql_limit(limit)))
    return [CountDelta(machine, from_ms(ts), t, g, r, p) for ts, t, g, r, p in rows]


def count_rows(conn: sqlite3.Connection, machine: str, start_ms: int, end_ms: int) -> int:
    """State changes and counts of [start_ms, end_ms): on the (machine, ts) indexes."""
    params = (machine, start_ms, end_ms)
    return sum(
        int(conn.execute(_COUNT.format(table), params).fetchone()[0])
        for table in ("machine_state", "production")
    )
