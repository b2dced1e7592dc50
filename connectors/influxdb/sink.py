"""InfluxDB: a sink delivering line protocol from the durable outbox (v1 `/write` or the
v2 write API), and the InfluxQL history reader (DESIGN.md, "InfluxDB schema").

`handle()` encodes events into lines and commits them to the outbox (`edge.outbox`,
one record per line) before it returns; it never waits for the server. A background
task drains the sink's queue in order: it peeks a batch (when `batch_size` lines wait,
or every `flush_interval_s`), writes it, and acks it only once the server took it. So
a database that is down, slow or restarted loses nothing, and a gateway that stops or
crashes resumes from the outbox. Re-sent points are identical (same series and
timestamp), so at-least-once delivery overwrites rather than duplicates.

What a failed write means (connectors/influxdb/write.py):
- no answer (refused, timeout), 429, 5xx, or another status worth waiting for (401,
  404 "database not found"): the same lines again after `Retry-After` when the server
  sent one, else after a jittered exponential backoff; the outage is logged once.
- 413: the batch is split in halves, recursively, and batches stay under half the
  refused size from then on; a single line still refused is quarantined.
- 400/422 (parse error, field type conflict, "partial write"): the batch is bisected
  until the bad lines are alone; the good ones are written, each bad one moves from
  the outbox to the quarantine file (connectors/influxdb/quarantine.py), logged once.

A graceful stop writes what the outbox holds for `shutdown_timeout_s` (default twice the
request timeout), without a wait the server asked for going past it; the rest stays on
disk for the next start. The delivery loop is connectors/influxdb/drain.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from connectors.common.backoff import Backoff
from connectors.influxdb.config import InfluxConfig
from connectors.influxdb.drain import InfluxStats, OutboxDrain
from connectors.influxdb.lineprotocol import encode
from connectors.influxdb.quarantine import Quarantine
from connectors.influxdb.write import Api, InfluxWriter
from core.interfaces import TransactionJournal
from core.orders import OrderProgress
from core.records import Priority, Record, Transaction
from core.types import (
    Event,
    LineOeeUpdate,
    LineOutputUpdate,
    MachineRef,
    OeeUpdate,
    OutputUpdate,
    SampleBatch,
    ShiftNote,
    ShiftReportDone,
)

__all__ = ["InfluxSink"]

log = logging.getLogger("connectors.influxdb")  # the drain logs here too

QUARANTINE_FILE = "influx-quarantine.jsonl"


def priority(event: Event) -> Priority:
    """What the outbox gives up first when its disk limit is reached: raw tags, then
    OEE points (the next ones supersede them), never state, count or reason events."""
    if isinstance(event, SampleBatch):
        return Priority.TAGS
    if isinstance(event, OeeUpdate | LineOeeUpdate | OutputUpdate | LineOutputUpdate):
        return Priority.OEE
    if isinstance(event, OrderProgress):  # the next publication supersedes it
        return Priority.OEE
    return Priority.EVENTS


class InfluxSink:
    """Sink writing events as line protocol to InfluxDB (or anything speaking its API),
    through the durable outbox of `journal` (its queue is the sink's `name`; the journal
    is the gateway's, shared with the other durable sinks). The lines the
    server refuses for good go to `quarantine_path` (default: `influx-quarantine.jsonl`
    next to the outbox file)."""

    name = "influxdb"

    def __init__(
        self,
        config: InfluxConfig,
        machines: dict[str, MachineRef],
        *,
        journal: TransactionJournal,
        quarantine_path: Path | None = None,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        retry_after_max_s: float = 300.0,
        shutdown_timeout_s: float | None = None,
    ) -> None:
        self._cfg = config
        self._machines = machines
        # A line update is stored under the site of the machines on its line.
        self._line_refs = {ref.line: ref for ref in reversed(list(machines.values()))}
        self._outbox = outbox = journal.outbox
        self._journal = journal
        if quarantine_path is None:
            box = getattr(outbox, "path", None)
            if box is None:
                raise ValueError("InfluxSink needs quarantine_path (the outbox has no path)")
            quarantine_path = Path(box).parent / QUARANTINE_FILE
        backoff = Backoff(backoff_initial_s, backoff_max_s)
        self._drain = OutboxDrain(
            self.name, config, outbox, Quarantine(quarantine_path), backoff, retry_after_max_s
        )
        self._shutdown_timeout_s = (
            2 * config.timeout_s if shutdown_timeout_s is None else shutdown_timeout_s
        )
        self._task: asyncio.Task[None] | None = None
        self._unknown: set[str] = set()
        self.stats: InfluxStats = self._drain.stats

    @property
    def connected(self) -> bool:
        """True while the last request to the server got an answer other than a failure."""
        return self._drain.connected

    @property
    def api(self) -> Api | None:
        """The write API in use ("v1"/"v2"), or None while `auto` has not reached /ping."""
        if self._drain.writer is not None:
            return self._drain.writer.api
        return None if self._cfg.api == "auto" else self._cfg.api

    @property
    def buffered(self) -> int:
        """About how many lines wait in the outbox for this sink (cheap; lines the disk
        limit refused are counted until the drain next finds the queue empty)."""
        return self._drain.depth

    @property
    def quarantine_path(self) -> Path:
        return self._drain.quarantine.path

    async def __aenter__(self) -> Self:
        self._drain.writer = InfluxWriter(self._cfg)
        waiting = (await asyncio.to_thread(self._outbox.depth, self.name)).records
        self._drain.depth = waiting
        if waiting:
            log.info("InfluxDB: %d lines from before wait in the outbox", waiting)
            self._drain.wake()
        self._task = asyncio.create_task(self._drain.run(), name=f"influx-drain {self._cfg.url}")
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._drain.stop(self._shutdown_timeout_s)
        if self._task is not None:
            done, _ = await asyncio.wait({self._task}, timeout=self._shutdown_timeout_s)
            if not done:
                self._task.cancel()
            (outcome,) = await asyncio.gather(self._task, return_exceptions=True)
            if isinstance(outcome, Exception):  # a bug: say so rather than lose it
                log.error("InfluxDB: the drain task failed", exc_info=outcome)
        with contextlib.suppress(Exception):  # an outbox closed already: nothing to say
            self._drain.depth = (await asyncio.to_thread(self._outbox.depth, self.name)).records
        if self._drain.depth:
            log.warning(
                "InfluxDB: %d lines stay in the outbox for the next start", self._drain.depth
            )
        if self._drain.writer is not None:
            await self._drain.writer.aclose()

    async def handle(self, events: Sequence[Event]) -> None:
        """Encode and commit to the outbox; never waits for the server."""
        async with self._journal.transaction() as tx:
            self.stage(events, tx)

    def stage(self, events: Sequence[Event], tx: Transaction) -> None:
        """Encode `events` into lines of `tx` (the gateway commits them with the rest)."""
        records: list[Record] = []
        for event in events:
            if isinstance(event, LineOeeUpdate | LineOutputUpdate | ShiftNote | ShiftReportDone):
                ref, what = self._line_refs.get(event.line), f"line '{event.line}'"
            else:
                ref, what = self._machines.get(event.machine), f"machine '{event.machine}'"
            if ref is None:
                if what not in self._unknown:
                    self._unknown.add(what)
                    log.warning("InfluxDB: no %s configured; not storing", what)
                continue
            prio = priority(event)
            records += [Record(self.name, prio, line.encode()) for line in encode(event, ref)]
        if records:
            tx.add(records)
            tx.after_commit(lambda: self._committed(len(records)))

    def _committed(self, n: int) -> None:
        # A hint for when to write (the disk limit may have refused some): the drain
        # resets it whenever it finds the queue empty.
        drain = self._drain
        drain.depth += n
        if drain.depth >= self._cfg.batch_size:
            drain.wake()
