"""The embedded store used when no InfluxDB is configured: one SQLite file (WAL mode).

Tables mirror the InfluxDB measurements (machine_state, production, oee, tag). Times are
stored as integer milliseconds since the epoch (UTC): compact, indexable, and the
precision the gateway's contracts use everywhere. All SQLite work runs in worker threads
(`asyncio.to_thread`) on one connection guarded by a lock, so the event loop never waits
on the disk.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self, TypeVar

from edge.config import SqliteConfig
from edge.types import (
    CountDelta,
    Event,
    MachineState,
    OeeUpdate,
    SampleBatch,
    StateChange,
    StateRecord,
)

__all__ = ["SCHEMA_VERSION", "SqliteStore"]

log = logging.getLogger(__name__)
T = TypeVar("T")

SCHEMA_VERSION = 1
_SCHEMA = """
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

_OEE_FIELDS = (
    "availability", "performance", "quality", "oee", "run_s", "planned_s", "unknown_s",
    "window_s", "total", "good", "reject",
)  # fmt: skip
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def _ms(ts: datetime) -> int:
    if ts.tzinfo is None:  # the pipeline uses aware UTC; treat a stray naive time as UTC
        ts = ts.replace(tzinfo=UTC)
    return (ts - _EPOCH) // _MS


def _dt(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def _tag_value(v: Any) -> tuple[float | None, str | None]:
    if v is None:
        return None, None
    if isinstance(v, str):
        return None, v
    return float(v), None  # bools as 1.0 / 0.0, like the InfluxDB `value` field


@dataclass
class SqliteStats:
    """Counters for /metrics."""

    rows_written: int = 0
    errors: int = 0  # handle() calls whose write failed (their events are lost)


class SqliteStore:
    """Sink and HistoryReader on one SQLite file; the default store."""

    name = "sqlite"

    def __init__(self, config: SqliteConfig) -> None:
        self._path = config.path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self.stats = SqliteStats()

    @property
    def connected(self) -> bool:
        """True while the database is open."""
        return self._conn is not None

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(self._open)
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the database (after any write in progress)."""
        await asyncio.to_thread(self._close)

    def _open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable across application crashes in WAL mode; only a power loss
        # can drop the last transactions, and it saves an fsync per write.
        conn.execute("PRAGMA synchronous=NORMAL")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            conn.close()
            raise RuntimeError(
                f"{self._path} has schema version {version}, newer than this gateway's "
                f"({SCHEMA_VERSION}); upgrade the gateway or use another file"
            )
        if version < SCHEMA_VERSION:
            with conn:
                conn.execute("BEGIN")
                self._migrate(conn)
        self._conn = conn

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def locked() -> T:
            with self._lock:
                if self._conn is None:
                    raise RuntimeError("the SQLite store is not open")
                return fn(self._conn)

        return await asyncio.to_thread(locked)

    # ------------------------------------------------------------------ writing

    async def handle(self, events: Sequence[Event]) -> None:
        """Store `events` in one transaction. A failed write is logged and counted."""
        rows = _rows(events)
        try:
            await self._run(lambda conn: _insert(conn, rows))
            self.stats.rows_written += sum(len(r) for r in rows.values())
        except (sqlite3.Error, RuntimeError) as e:
            self.stats.errors += 1
            log.error("SQLite store %s: write of %d events failed: %s", self._path, len(events), e)

    # ------------------------------------------------------------------ reading

    async def state_history(
        self, machine: str, start: datetime, end: datetime
    ) -> list[StateRecord]:
        """State records with start <= ts < end, after the last one before `start`."""
        cols = "SELECT ts, state, reason FROM machine_state WHERE machine = ?"

        def read(conn: sqlite3.Connection) -> list[Any]:
            s, e = _ms(start), _ms(end)
            before = conn.execute(f"{cols} AND ts < ? ORDER BY ts DESC LIMIT 1", (machine, s))
            rows = before.fetchall()
            inside = conn.execute(f"{cols} AND ts >= ? AND ts < ? ORDER BY ts", (machine, s, e))
            return rows + inside.fetchall()

        rows = await self._run(read)
        return [StateRecord(machine, MachineState(st), _dt(ts), reason) for ts, st, reason in rows]

    async def count_history(self, machine: str, start: datetime, end: datetime) -> list[CountDelta]:
        """Count deltas with start <= ts < end, oldest first."""
        sql = (
            "SELECT ts, total, good, reject, product FROM production "
            "WHERE machine = ? AND ts >= ? AND ts < ? ORDER BY ts"
        )
        rows = await self._run(lambda c: c.execute(sql, (machine, _ms(start), _ms(end))).fetchall())
        return [CountDelta(machine, _dt(ts), t, g, r, p) for ts, t, g, r, p in rows]

    async def oee_history(
        self, machine: str, window: str, start: datetime, end: datetime
    ) -> list[OeeUpdate]:
        """OEE updates of one window with start <= ts < end, oldest first."""
        sql = (
            f"SELECT ts, {', '.join(_OEE_FIELDS)}, state_s FROM oee "
            "WHERE machine = ? AND window = ? AND ts >= ? AND ts < ? ORDER BY ts"
        )
        params = (machine, window, _ms(start), _ms(end))
        rows = await self._run(lambda c: c.execute(sql, params).fetchall())
        return [
            OeeUpdate(
                machine=machine,
                window=window,
                ts=_dt(r[0]),
                state_s=json.loads(r[-1]),
                **dict(zip(_OEE_FIELDS, r[1:-1], strict=True)),
            )
            for r in rows
        ]


def _rows(events: Sequence[Event]) -> dict[str, list[tuple[Any, ...]]]:
    """Table name -> rows to insert; built on the event loop (cheap, no I/O)."""
    out: dict[str, list[tuple[Any, ...]]] = {
        "machine_state": [],
        "production": [],
        "oee": [],
        "tag": [],
    }
    for e in events:
        if isinstance(e, StateChange):
            prev = e.previous.value if e.previous else None
            out["machine_state"].append(
                (
                    e.machine,
                    _ms(e.ts),
                    e.state.value,
                    e.state.code,
                    prev,
                    e.duration_s,
                    e.reason_code,
                    e.reason,
                    e.seq,
                )
            )
        elif isinstance(e, CountDelta):
            out["production"].append((e.machine, _ms(e.ts), e.total, e.good, e.reject, e.product))
        elif isinstance(e, OeeUpdate):
            out["oee"].append(
                (
                    e.machine,
                    e.window,
                    _ms(e.ts),
                    e.availability,
                    e.performance,
                    e.quality,
                    e.oee,
                    e.run_s,
                    e.planned_s,
                    e.unknown_s,
                    e.window_s,
                    e.total,
                    e.good,
                    e.reject,
                    json.dumps(e.state_s),
                )
            )
        elif isinstance(e, SampleBatch):
            out["tag"] += [
                (e.machine, s.tag, _ms(s.ts), *_tag_value(s.value), s.quality.code)
                for s in e.samples
            ]
    return out


def _insert(conn: sqlite3.Connection, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    with conn:
        conn.execute("BEGIN")
        for table, values in rows.items():
            if values:
                marks = ",".join("?" * len(values[0]))
                conn.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
