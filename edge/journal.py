"""`Journal`: the async side of the durable outbox, one transaction at a time.

Everything one emit produces for the durable sinks (MQTT messages, InfluxDB lines) and
the normalisers' checkpoints go into one `Transaction`, committed as one outbox
transaction: a crash leaves either all of it or none of it, so a restarted gateway
resumes its counters and sequence numbers exactly where the delivered records end.

When the outbox cannot be written (the disk is full, the file is gone) nothing is
dropped at once: the transaction is held in memory, in order, and committed with the
next one that succeeds. The memory it may take is bounded (`hold_max_bytes`); past the
bound the lowest priorities go first, oldest first, as in the outbox, and every record
given up is counted and logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from connectors.backoff import Backoff
from connectors.outage import OutageLog
from edge.interfaces import RecordQueue
from edge.records import Priority, Transaction, per_priority

__all__ = ["Journal", "JournalStats", "Transaction"]

log = logging.getLogger(__name__)


@dataclass
class JournalStats:
    """Counters for /metrics."""

    commit_errors: int = 0  # commits that failed (their records were held in memory)
    held: int = 0  # records waiting in memory for the outbox now
    dropped: dict[str, int] = field(default_factory=per_priority)


class Journal:
    """Serialises the commits of every durable sink into `outbox` (see the module
    docstring): `async with journal.transaction() as tx:` ... `tx.add(records)`."""

    def __init__(self, outbox: RecordQueue, *, hold_max_bytes: int = 64 << 20) -> None:
        self.outbox = outbox
        self.hold_max_bytes = hold_max_bytes
        self.stats = JournalStats()
        self._lock = asyncio.Lock()
        self._held: list[Transaction] = []
        self._outage = OutageLog(log, "outbox")
        self._refusing = False
        self._dropped_logged = 0  # drops already logged (ERROR for the first)
        self._retry: asyncio.Task[None] | None = None

    @property
    def stream(self) -> str:
        """The outbox's random id of its history, which event ids carry (once it is open)."""
        return self.outbox.stream

    async def load(self) -> dict[str, str]:
        """The outbox's meta values: its `stream` id and the normalisers' checkpoints."""
        return await asyncio.to_thread(self.outbox.read_meta)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A transaction committed when the block exits without an error."""
        async with self._lock:
            tx = Transaction()
            yield tx
            await self._commit(tx)

    async def flush(self) -> bool:
        """Try once more to commit what is held in memory; True when nothing is held."""
        async with self._lock:
            await self._commit(Transaction())
        return not self._held

    async def _commit(self, tx: Transaction) -> None:
        batch = [*self._held, tx] if self._held else [tx]
        records = [r for t in batch for r in t.records]
        meta = {k: v for t in batch for k, v in t.meta.items()}
        if not records and not meta:
            return
        try:
            stored = await asyncio.to_thread(self.outbox.append, records, None, meta)
        except Exception as exc:  # sqlite3.Error, OSError: disk full, file gone...
            self.stats.commit_errors += 1
            self._hold(tx)
            self._outage.down(f"cannot be written ({exc}); holding {self.stats.held} records")
            self._say_dropped()
            if self._retry is None or self._retry.done():
                self._retry = asyncio.create_task(self._retry_held(), name="outbox-retry")
            return
        self._held = []
        self.stats.held = 0
        self._outage.up()
        self._note_refused(len(records) - stored, len(records))
        for t in batch:
            for fn in t.callbacks:
                fn()

    async def _retry_held(self) -> None:
        """Commit what is held even if no new transaction comes (idle machines)."""
        backoff = Backoff(0.5, 30.0)
        while self._held:
            await asyncio.sleep(backoff.next())
            await self.flush()

    async def aclose(self) -> None:
        """Stop retrying; what is still held in memory is lost, and said so."""
        if self._retry is not None:
            self._retry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retry
        if self._held:
            n = sum(len(t.records) for t in self._held)
            log.error("outbox still unwritable at stop: %d records held in memory are lost", n)

    def _hold(self, tx: Transaction) -> None:
        """Keep `tx` in memory, giving up the lowest priorities first past the bound."""
        self._held.append(tx)
        size = sum(t.size for t in self._held)
        for low in Priority:
            if size <= self.hold_max_bytes:
                break
            for t in self._held:
                keep = []
                for r in t.records:
                    if r.priority is low and size > self.hold_max_bytes:
                        size -= len(r.data)
                        self.stats.dropped[low.name.lower()] += 1
                    else:
                        keep.append(r)
                t.records[:] = keep
        self.stats.held = sum(len(t.records) for t in self._held)

    def _say_dropped(self) -> None:
        dropped = sum(self.stats.dropped.values())
        if dropped > self._dropped_logged:
            level = logging.DEBUG if self._dropped_logged else logging.ERROR
            log.log(
                level,
                "outbox unwritable and %d MiB held in memory: %d records given up so far %s",
                self.hold_max_bytes >> 20, dropped, dict(self.stats.dropped),
            )  # fmt: skip
            self._dropped_logged = dropped

    def _note_refused(self, refused: int, offered: int) -> None:
        """The disk limit refused records: ERROR once, INFO when it takes them again."""
        if refused:
            level = logging.DEBUG if self._refusing else logging.ERROR
            log.log(level, "outbox full: %d of %d records refused", refused, offered)
            self._refusing = True
        elif self._refusing and offered:
            log.info("the outbox takes records again")
            self._refusing = False
