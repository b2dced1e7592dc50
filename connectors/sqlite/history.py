"""The embedded store's history, read only: what the API's worker processes read
(`api.offload`). It never writes, migrates, prunes or sets a file aside: the gateway's
own store does all of that, and two processes each moving a damaged file away would
move the fresh one too. A read that meets a damaged file fails (its request answers 503)
until the gateway's store has replaced the file; the next read opens the fresh one."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from connectors.sqlite.alarms import read_alarms
from connectors.sqlite.file import CorruptFile, corruption_as_corrupt_file
from connectors.sqlite.operator import (
    count_suspects,
    read_audit,
    read_note,
    read_report,
    read_scrap,
)
from connectors.sqlite.orderreads import read_changeover_docs, read_order_tracks
from connectors.sqlite.orders import read_changeovers
from connectors.sqlite.reads import count_rows, open_reader, read_counts, read_states
from connectors.sqlite.schema import from_ms, read_tag, to_ms
from connectors.sqlite.spc import read_spc_limits, read_spc_points, read_spc_violations
from core.alarms import Alarm
from core.orders import ChangeoverDone, OrderTrack
from core.spc import SpcLimitsChange, SpcPoint, SpcViolation
from core.types import AuditEntry, CountDelta, Sample, ScrapBooked, ShiftNote, StateRecord

__all__ = ["HistoryQueries", "SqliteHistory"]

T = TypeVar("T")


class HistoryQueries:
    """The history reads of a SQLite file, over whatever `_read` runs them on: the
    gateway's store (its read connection, replacing a damaged file) and `SqliteHistory`."""

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    async def state_history(
        self, machine: str, start: datetime, end: datetime, limit: int | None = None
    ) -> list[StateRecord]:
        """State records with start <= ts < end (at most `limit`), after the last one
        before `start`."""
        s, e = to_ms(start), to_ms(end)
        return await self._read(lambda c: read_states(c, machine, s, e, limit))

    async def count_history(
        self, machine: str, start: datetime, end: datetime, limit: int | None = None
    ) -> list[CountDelta]:
        """Count deltas with start <= ts < end (at most `limit`), oldest first."""
        s, e = to_ms(start), to_ms(end)
        return await self._read(lambda c: read_counts(c, machine, s, e, limit))

    async def tag_history(
        self, machine: str, tag: str, start: datetime, end: datetime, limit: int | None = None
    ) -> list[Sample]:
        """The raw values of one tag (stored with `publish_tags`), start <= ts < end (at
        most `limit`)."""
        s, e = to_ms(start), to_ms(end)
        return await self._read(lambda c: read_tag(c, machine, tag, s, e, limit))

    async def history_rows(self, machine: str, start: datetime, end: datetime) -> int:
        """State changes and counts of `machine` with start <= ts < end (counted on the
        indexes, without reading the rows)."""
        s, e = to_ms(start), to_ms(end)
        return await self._read(lambda c: count_rows(c, machine, s, e))

    async def audit(
        self, start: datetime, end: datetime, machine: str | None, limit: int
    ) -> list[AuditEntry]:
        """The operator's changes with start <= ts < end (of `machine` only, if given),
        oldest first, at most `limit`."""
        s, e = to_ms(start), to_ms(end)
        return await self._read(lambda c: read_audit(c, s, e, machine, limit))

    async def note(self, area: str, line: str, shift: str) -> ShiftNote | None:
        """The current hand-over text of the shift instance `shift` (`2026-12-06/late`)
        of `line` (None: none written)."""
        return await self._read(lambda c: read_note(c, area, line, shift))

    async def scrap(
        self, machine: str, start: datetime, end: datetime, limit: int | None = None
    ) -> list[ScrapBooked]:
        """The scrap booked by hand on `machine` with start <= ts < end, oldest first
        (the shift report sums it by `reason_code`)."""
        s, e = to_ms(start), to_ms(end)
        return await self._read(lambda c: read_scrap(c, machine, s, e, limit))

    async def alarms(
        self, start: datetime, end: datetime, machine: str | None = None, limit: int = 10_000
    ) -> list[Alarm]:
        """The alarms active at some time of start <= t < end (of one machine, or all),
        each as it stands now (cleared, acknowledged), oldest first; at most `limit`."""
        s, e = to_ms(start), to_ms(end)
        return await self._read(lambda c: read_alarms(c, s, e, machine, limit))

    async def kept_report(self, line: str, shift: str) -> tuple[datetime, str] | None:
        """(when it was built, its JSON) of the report kept of shift `shift` of `line`."""
        row = await self._read(lambda c: read_report(c, line, shift))
        return None if row is None else (from_ms(row[0]), row[1])

    async def order_tracks(self, machine: str, start: datetime, end: datetime) -> list[OrderTrack]:
        """Each order published on `machine` with start <= ts < end (`OrderHistory`)."""
        s, e = to_ms(start), to_ms(end)
        return await self._read(lambda c: read_order_tracks(c, machine, s, e))

    async def changeover_docs(
        self, machine: str, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        """The changeovers of `machine` that started with start <= t < end (documents)."""
        s, e = to_ms(start), to_ms(end)
        return await self._read(lambda c: read_changeover_docs(c, machine, s, e))

    async def suspects(self, machine: str, start: datetime, end: datetime) -> int:
        """How many counter movements of `machine` were held as suspect in [start, end)."""
        s, e = to_ms(start), to_ms(end)
        return await self._read(lambda c: count_suspects(c, machine, s, e))

    async def spc_points(
        self, chart: str, start: datetime, end: datetime, limit: int | None = None
    ) -> list[SpcPoint]:
        """The points of SPC chart `chart` with start <= ts < end, oldest first; the latest
        `limit` of them when there are more."""
        s, e = to_ms(start), to_ms(end)
        return await self._read(lambda c: read_spc_points(c, chart, s, e, limit))

    async def spc_violations(
        self, chart: str, start: datetime, end: datetime, limit: int | None = None
    ) -> list[SpcViolation]:
        """The run-rule violations of `chart` with start <= ts < end, oldest first."""
        s, e = to_ms(start), to_ms(end)
        return await self._read(lambda c: read_spc_violations(c, chart, s, e, limit))

    async def spc_limits_history(self, chart: str) -> list[SpcLimitsChange]:
        """Every change of `chart`'s limits (trial, frozen, manual, unfrozen), oldest first."""
        return await self._read(lambda c: read_spc_limits(c, chart))

    async def changeovers(
        self, start: datetime, end: datetime, machine: str | None = None, limit: int = 10_000
    ) -> list[ChangeoverDone]:
        """The changeovers (of `machine`, or all) that started in [start, end), by start;
        at most `limit`."""
        s, e = to_ms(start), to_ms(end)
        return await self._read(lambda c: read_changeovers(c, machine, s, e, limit))


class SqliteHistory(HistoryQueries):
    """A `HistoryReader` over the SQLite file at `path` (which the gateway created)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def locked() -> T:
            with self._lock:
                if self._conn is None:
                    self._conn = open_reader(self._path)
                try:
                    with corruption_as_corrupt_file(self._path):
                        return fn(self._conn)
                except CorruptFile:
                    self._conn.close()  # the next read opens the file anew
                    self._conn = None
                    raise

        return await asyncio.to_thread(locked)

    async def close(self) -> None:
        """Close the connection (a worker that ends)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
