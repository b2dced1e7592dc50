"""Delivery of the InfluxDB sink's queue in the durable outbox, in order (connectors/
influxdb.py describes the behaviour; connectors/influxdb/write.py what an answer means).

`OutboxDrain.run()` is the sink's background task: it peeks a batch, writes it, and acks
it only once the server took it; it splits a batch on 413 and 400, moves the lines the
server refuses for good to the quarantine file, and waits (Retry-After, else a jittered
backoff) before trying again after any other failure. `stop(timeout_s)` turns it into
the graceful stop: write what the outbox holds until the deadline, then return.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from connectors.common.aio import within
from connectors.common.backoff import Backoff
from connectors.common.outage import OutageLog
from connectors.influxdb.config import InfluxConfig
from connectors.influxdb.quarantine import Quarantine, Rejected
from connectors.influxdb.write import InfluxWriter, Verdict, WriteFailed
from core.interfaces import RecordQueue
from core.records import Entry

__all__ = ["InfluxStats", "OutboxDrain"]

log = logging.getLogger("connectors.influxdb")


@dataclass
class InfluxStats:
    """Counters of the sink's work, for /metrics and tests."""

    written: int = 0  # lines the server took (then acked in the outbox)
    batches: int = 0  # write requests the server took
    retried: int = 0  # attempts answered with 429, 5xx (or 401, 404...): retried later
    split: int = 0  # batches split in halves (413, or 400 to find the bad lines)
    quarantined: int = 0  # lines the server refused for good, moved to the quarantine file
    errors: int = 0  # attempts without an answer (refused, timeout): retried with backoff
    outbox_errors: int = 0  # rounds the local outbox (or quarantine file) failed: retried


class OutboxDrain:
    """Writes the queue `name` of `outbox` to InfluxDB through `writer` (set before `run`)."""

    def __init__(
        self,
        name: str,
        config: InfluxConfig,
        outbox: RecordQueue,
        quarantine: Quarantine,
        backoff: Backoff,
        retry_after_max_s: float,
    ) -> None:
        self.name = name
        self._cfg = config
        self._outbox = outbox
        self.quarantine = quarantine
        self._backoff = backoff
        self._retry_after_max_s = retry_after_max_s
        self.writer: InfluxWriter | None = None
        self.stats = InfluxStats()
        self.connected = False
        # Lines in the outbox for this sink, counted here so that reading it is cheap. The
        # sink adds what it committed; records the disk limit refused or evicted make it
        # run ahead of the truth until the queue next reads empty.
        self.depth = 0
        self._outage = OutageLog(log, f"InfluxDB at {config.url}")
        # The local side failing (outbox, quarantine file) is an outage of its own.
        self._local = OutageLog(log, f"InfluxDB outbox ({name})")
        self._local_backoff = Backoff(backoff.initial, backoff.maximum)
        self._to_ack: list[int] = []  # written (or quarantined), not yet removed from the outbox
        self._max_bytes: int | None = None  # a request size limit learnt from a 413
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._deadline = 0.0  # loop time by which a graceful stop gives up
        self._not_before = 0.0  # loop time before which the server asked not to write

    def wake(self) -> None:
        """Lines were added: send a full batch now rather than at the next interval."""
        self._wake.set()

    def stop(self, timeout_s: float) -> None:
        """Write what is left within `timeout_s`, then let `run` return."""
        self._deadline = asyncio.get_running_loop().time() + timeout_s
        self._stop.set()
        self._wake.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self._cfg.flush_interval_s
        last = loop.time()
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await within(self._wake.wait(), last + interval - loop.time())
            self._wake.clear()
            # Size wake-ups send full batches only; the timer sends the remainder too.
            due = loop.time() >= last + interval
            if due:
                last = loop.time()
            if not self._stop.is_set():
                await self._drain(everything=due)
        await self._drain(everything=True, final=True)

    def _should_stop(self, final: bool) -> bool:
        if final:
            return asyncio.get_running_loop().time() >= self._deadline
        return self._stop.is_set()

    async def _drain(self, everything: bool, final: bool = False) -> None:
        """Write batches in order until the queue is empty (or, unless `everything`, holds
        less than a batch); on a failure wait and retry. `final`: the graceful stop, which
        gives up at its deadline."""
        loop = asyncio.get_running_loop()
        while not self._should_stop(final):
            if not everything and self.depth < self._cfg.batch_size:
                return
            if final and self._not_before > loop.time():  # honour Retry-After at a stop too
                if self._not_before >= self._deadline:
                    return
                await asyncio.sleep(self._not_before - loop.time())
            try:
                await self._settle()  # what the server took before the outbox failed
                entries = await asyncio.to_thread(
                    self._outbox.peek, self.name, self._cfg.batch_size, self._max_bytes
                )
                self._local_ok()
                if not entries:
                    self.depth = 0
                    return
                await self._deliver(entries)
                if self._tick_done(entries, final):
                    return
                continue
            except WriteFailed as e:
                delay = self._failed(e)
            except Exception as exc:  # the outbox or the quarantine file failing
                delay = self._local_failed(exc)
            everything = True  # after an outage, send the backlog without waiting
            if final:
                if loop.time() + delay >= self._deadline:
                    return
                await asyncio.sleep(delay)
            else:
                with contextlib.suppress(TimeoutError):
                    await within(self._stop.wait(), delay)

    def _tick_done(self, entries: list[Entry], final: bool) -> bool:
        """A batch short of `batch_size` was all that waited when it was peeked: what
        comes in after it waits for the next interval or a full batch (as Telegraf's
        flush does). Going on would write each commit that lands meanwhile on its own:
        on a loaded box, one request per event. A stop, or a byte limit learnt from a
        413 (which shortens batches), goes on."""
        return not final and self._max_bytes is None and len(entries) < self._cfg.batch_size

    async def _deliver(self, entries: list[Entry]) -> None:
        """Write `entries` and ack them; split on 413/400. WriteFailed (RETRY) leaves
        what is not acked yet in the outbox."""
        assert self.writer is not None
        body = b"\n".join(e.data for e in entries) + b"\n"
        try:
            await self.writer.write(body)
        except WriteFailed as e:
            if e.verdict is Verdict.RETRY:
                raise
            self._answered()
            if e.verdict is Verdict.TOO_LARGE:
                self._limit(len(body))
            if len(entries) == 1:
                await self._reject(entries[0], e)
                return
            self.stats.split += 1
            half = len(entries) // 2
            await self._deliver(entries[:half])
            await self._deliver(entries[half:])
            return
        self._answered()
        self._to_ack += [e.id for e in entries]
        self.stats.written += len(entries)
        self.stats.batches += 1
        await self._settle()

    async def _settle(self) -> None:
        """Remove from the outbox what was written or quarantined. If that fails the ids
        are kept, so the next round retries the removal, not the write."""
        if self._to_ack:
            acked = await asyncio.to_thread(self._outbox.ack, self.name, self._to_ack)
            self._to_ack = []
            self.depth = max(0, self.depth - acked)

    def _local_failed(self, exc: Exception) -> float:
        self.stats.outbox_errors += 1
        delay = self._local_backoff.next()
        self._local.down(f"{type(exc).__name__}: {exc}; retrying in {delay:.1f} s")
        return delay

    def _local_ok(self) -> None:
        self._local.up()
        self._local_backoff.reset()

    async def _reject(self, entry: Entry, error: WriteFailed) -> None:
        """Move one refused line from the outbox to the quarantine file (on disk first)."""
        line = entry.data.decode("utf-8", errors="replace")
        status = error.status or 0
        rejected = Rejected(line, status, error.message, entry.ts_ms)
        await asyncio.to_thread(self.quarantine.add, [rejected])
        self._to_ack.append(entry.id)  # quarantined once, even if the removal must wait
        self.stats.quarantined += 1
        await self._settle()
        log.warning(
            "InfluxDB refused a line (HTTP %d: %s); moved to %s: %s",
            status,
            error.message,
            self.quarantine.path,
            line[:300],
        )

    def _limit(self, refused_bytes: int) -> None:
        limit = max(1, refused_bytes // 2)
        if self._max_bytes is None or limit < self._max_bytes:
            self._max_bytes = limit
            log.warning(
                "InfluxDB at %s: a request of %d bytes is too large (413); "
                "splitting it and sending at most %d bytes from now on",
                self._cfg.url,
                refused_bytes,
                limit,
            )

    def _failed(self, e: WriteFailed) -> float:
        """Count and log a failed attempt; the delay before the next one."""
        if e.status is None:
            self.stats.errors += 1
        else:
            self.stats.retried += 1
        if e.retry_after_s is not None:
            delay = min(e.retry_after_s, self._retry_after_max_s)
            self._not_before = asyncio.get_running_loop().time() + delay
        else:
            delay = self._backoff.next()
        self.connected = False
        self._outage.down(
            f"write failed ({e}); {self.depth} lines wait in the outbox, "
            f"next attempt in {delay:.1f} s"
        )
        return delay

    def _answered(self) -> None:
        """The server answered (a success, or a verdict on the data)."""
        self._outage.up()
        self._backoff.reset()
        self.connected = True
