"""The embedded store used when no InfluxDB is configured: one SQLite file (WAL mode).

Tables mirror the InfluxDB measurements (machine_state, production, oee, line_oee; a
line's figures are written, not read back: the API computes them from the machines'),
except raw tags: one `tag_batch` row per poll, not one row per value. Times are
stored as integer milliseconds since the epoch (UTC): compact, indexable, and the
precision the gateway's contracts use everywhere. All SQLite work runs in worker threads
(`asyncio.to_thread`), so the event loop never waits on the disk: the writes on one
connection, the reads on another (WAL lets them run side by side), so that a long read
for the API never holds up the writes every poll waits for (a 92-day read did, for
19 s). Reads decode their rows in the worker thread too, and take a `limit`. Writes
that wait while one is under way go together into the next transaction (a group
commit: one per poll cycle, not one per machine). The schema, its migrations and the
writes: `connectors.sqlite.schema`.

A file that cannot be used (garbage, emptied, a damaged page), found at open or by the
first read or write that meets the damage, is moved aside for inspection and the store
goes on in a fresh file (`connectors.sqlite.file`): once per store, logged once at ERROR,
kept in `set_aside` (counted in /metrics); the read or write that met it is done again in
the fresh file, so no row is lost to it. A write that fails otherwise (a full disk) loses
its rows: counted in `rows_lost`, logged at ERROR once until a write succeeds again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Self, TypeVar

from connectors.sqlite.config import SqliteConfig
from connectors.sqlite.file import (
    CorruptFile,
    SetAside,
    corruption_as_corrupt_file,
    open_or_replace,
    open_wal,
    set_aside,
)
from connectors.sqlite.history import HistoryQueries
from connectors.sqlite.reads import open_reader
from connectors.sqlite.retention import Retention, prune_chunk
from connectors.sqlite.schema import (
    MIGRATIONS,
    OEE_FIELDS,
    SCHEMA_VERSION,
    Writes,
    from_ms,
    to_ms,
    write,
)
from core.types import (
    Event,
    OeeUpdate,
    ReasonAssigned,
    utc_now,
)

__all__ = ["SCHEMA_VERSION", "SqliteStats", "SqliteStore"]

# The name it had before the move: operators filter on it.
log = logging.getLogger("connectors.sqlite")
T = TypeVar("T")

PRUNE_EVERY_S = 60.0  # rows past their retention go this often, the first a minute in


@dataclass
class SqliteStats:
    """Counters for /metrics."""

    rows_written: int = 0  # rows inserted, and rows whose reason was set
    errors: int = 0  # handle() calls whose write failed (their events are lost)
    rows_lost: int = 0  # rows (and reasons) of the writes that failed
    commits: int = 0  # transactions written (each may hold many handle() calls)
    reasons_unmatched: int = 0  # reasons and planned stops with no stored stop to update
    rows_pruned: int = 0  # rows deleted past their retention


class SqliteStore(HistoryQueries):
    """Sink and HistoryReader on one SQLite file; the default store."""

    name = "sqlite"

    def __init__(self, config: SqliteConfig, clock: Callable[[], datetime] = utc_now) -> None:
        if config.path is None:  # the gateway fills in {gateway.data_dir}/oee.sqlite
            raise ValueError("SqliteConfig.path: give the store's file")
        self._path = config.path
        self._clock = clock  # the "now" of retention, and of a file set aside
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._reader: sqlite3.Connection | None = None
        self._read_lock = threading.Lock()
        self.stats = SqliteStats()
        self._queue: list[tuple[Writes, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._retention = Retention.days(config.retention_days, config.tag_retention_days)
        self._next_prune = time.monotonic() + PRUNE_EVERY_S
        self.set_aside: list[SetAside] = []  # unusable files replaced by fresh ones
        self._failed_writes = 0  # writes failed since the last one that succeeded
        self._failed_rows = 0

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
        """Close the database (after the writes under way and queued)."""
        await self.drain()
        await asyncio.to_thread(self._close)

    async def drain(self) -> None:
        """Wait for the writes under way and queued, and a prune they started."""
        if self._writer is not None:
            await asyncio.shield(self._writer)

    def _open(self) -> None:
        (conn, version), moved = open_or_replace(
            self._path, lambda: open_wal(self._path, MIGRATIONS, "the store"), self._clock
        )
        if moved is not None:
            self._say_set_aside(moved)
        if 0 < version < SCHEMA_VERSION:
            log.info("SQLite store %s: schema %d -> %d", self._path, version, SCHEMA_VERSION)
        self._conn = conn
        self._reader = open_reader(self._path)

    def _replace(self, bad: CorruptFile) -> sqlite3.Connection:
        """Under the lock: set the damaged file aside and go on in a fresh one."""
        assert self._conn is not None
        self._conn.close()
        self._conn = None
        with self._read_lock:  # both closed first, so SQLite folds its WAL into the file
            if self._reader is not None:
                self._reader.close()
                self._reader = None
            moved = SetAside(self._path, set_aside(self._path, self._clock()), bad.reason)
            self._conn, _ = open_wal(self._path, MIGRATIONS, "the store")
            self._reader = open_reader(self._path)  # the reads go on in the fresh file too
        self._say_set_aside(moved)
        return self._conn

    def _say_set_aside(self, moved: SetAside) -> None:
        self.set_aside.append(moved)
        log.error(
            "SQLite store %s cannot be used (%s); moved aside to %s. Started a fresh store: "
            "the history it held (states, counts, OEE, raw tags) is not read any more; "
            "what is written from now on is kept",
            moved.path, moved.reason, moved.moved_to,
        )  # fmt: skip

    def _close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        with self._read_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.to_thread(self._locked, fn)

    def _locked(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn(connection)` under the lock. A damaged file met for the first time is
        replaced by a fresh one and `fn` runs again there; later it is an error."""
        with self._lock:
            if self._conn is None:
                raise RuntimeError("the SQLite store is not open")
            try:
                with corruption_as_corrupt_file(self._path):
                    return fn(self._conn)
            except CorruptFile as bad:
                if self.set_aside:  # once: a file damaged again is the disk's doing
                    raise
                conn = self._replace(bad)
            return fn(conn)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn` on the read connection in a worker thread (reads take turns among
        themselves, not with the writes)."""

        def locked() -> T:
            with self._read_lock:
                if self._reader is None:
                    raise RuntimeError("the SQLite store is not open")
                with corruption_as_corrupt_file(self._path):
                    return fn(self._reader)

        def once_more_if_replaced() -> T:
            # A damaged file a read meets first is replaced as a write's would be (the
            # write lock first, as there), and the read runs again in the fresh one.
            try:
                return locked()
            except CorruptFile as bad:
                with self._lock:
                    if not self.set_aside and self._conn is not None:
                        self._replace(bad)
                return locked()

        return await asyncio.to_thread(once_more_if_replaced)

    # ------------------------------------------------------------------ writing

    async def handle(self, events: Sequence[Event]) -> None:
        """Store `events` in one transaction (with the other calls waiting meanwhile):
        new rows first, then the reasons that ReasonAssigned events give to stored stops.
        A failed write is logged and counted; a reason for a stop that is not stored is
        logged (WARNING) and counted. Once called, the write happens even if the caller
        is cancelled."""
        done = asyncio.get_running_loop().create_future()
        self._queue.append((Writes.of(events), done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_queued(), name="sqlite-store-write")
        if not await asyncio.shield(done):
            self.stats.errors += 1

    async def _write_queued(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            ok = await self._write(Writes.merged([w for w, _ in batch]))
            for _, done in batch:
                if not done.done():
                    done.set_result(ok)
            if time.monotonic() >= self._next_prune:
                self._next_prune = time.monotonic() + PRUNE_EVERY_S
                await self.prune(self._clock())

    async def prune(self, now: datetime) -> int:
        """Delete the rows past their retention at `now`, a chunk per transaction (the
        writes go on in between); returns how many went."""
        pruned = 0
        try:
            for table, cutoff_ms in self._retention.cutoffs(now):
                more = True
                while more:
                    n, more = await self._run(lambda c: prune_chunk(c, table, cutoff_ms))  # noqa: B023
                    pruned += n
        except (sqlite3.Error, RuntimeError, CorruptFile, OSError) as e:
            log.error(
                "SQLite store %s: deleting rows past their retention failed: %s", self._path, e
            )
        self.stats.rows_pruned += pruned
        return pruned

    async def _write(self, writes: Writes) -> bool:
        try:
            written, unmatched = await self._run(lambda conn: write(conn, writes))
        except (sqlite3.Error, RuntimeError, CorruptFile, OSError) as e:
            self._write_failed(writes.row_count + len(writes.reasons), e)
            return False
        self._writes_again()
        self.stats.commits += 1
        self.stats.rows_written += written
        self.stats.reasons_unmatched += len(unmatched)
        for r in unmatched:
            what = (
                f"reason {r.reason_code} {r.reason!r}"
                if isinstance(r, ReasonAssigned)
                else f"planned stop {r.kind!r}"
            )
            log.warning(
                "SQLite store: no stop of machine '%s' at %s to give %s",
                r.machine,
                r.stop_ts.isoformat(),
                what,
            )
        return True

    def _write_failed(self, rows: int, exc: Exception) -> None:
        """Count the rows lost; ERROR for the first failure, DEBUG until one succeeds."""
        self.stats.rows_lost += rows
        self._failed_writes += 1
        self._failed_rows += rows
        why = exc.reason if isinstance(exc, CorruptFile) else str(exc)
        if self._failed_writes > 1:
            log.debug("SQLite store %s: write of %d rows failed (%s)", self._path, rows, why)
            return
        log.error(
            "SQLite store %s: write of %d rows failed (%s); its rows are lost, and so are "
            "those of the next failures, counted in oee_edge_sink_rows_lost_total",
            self._path, rows, why,
        )  # fmt: skip

    def _writes_again(self) -> None:
        if self._failed_writes:
            log.info(
                "SQLite store %s: writes succeed again after %d failed (%d rows lost)",
                self._path, self._failed_writes, self._failed_rows,
            )  # fmt: skip
            self._failed_writes = self._failed_rows = 0

    # ------------------------------------------------------------------ reading

    async def oee_history(
        self, machine: str, window: str, start: datetime, end: datetime
    ) -> list[OeeUpdate]:
        """OEE updates of one window with start <= ts < end, oldest first (the headline
        figures and state seconds; no loss report)."""
        sql = (
            f"SELECT ts, {', '.join(OEE_FIELDS)}, state_s FROM oee "
            "WHERE machine = ? AND window = ? AND ts >= ? AND ts < ? ORDER BY ts"
        )
        params = (machine, window, to_ms(start), to_ms(end))
        rows = await self._read(lambda c: c.execute(sql, params).fetchall())
        return [
            OeeUpdate(
                machine=machine,
                window=window,
                ts=from_ms(r[0]),
                state_s=json.loads(r[-1]),
                **dict(zip(OEE_FIELDS, r[1:-1], strict=True)),
            )
            for r in rows
        ]
