"""`Journal`: the async side of the durable outbox, one committer for every emit.

Everything one emit produces for the durable sinks (MQTT messages, InfluxDB lines) and
the normalisers' checkpoints go into one `Transaction`. A single committer task writes
the transactions in the order they were closed, all those waiting in one outbox
transaction (a group commit: 500 machines polled together cost one fsync, not 500). A
crash leaves each transaction either whole or absent, so a restarted gateway resumes
its counters and sequence numbers exactly where the delivered records end.

A closed transaction is committed even if the task waiting for it is cancelled (a
gateway stopping mid-poll): its events already carry sequence numbers, and a lost one
would leave a gap.

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
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from connectors.common.backoff import Backoff
from connectors.common.outage import OutageLog
from core.interfaces import RecordQueue
from core.records import Entry, Priority, Transaction, per_priority

__all__ = ["Journal", "JournalStats", "Transaction"]

# The name it had before the move: operators filter on it.
log = logging.getLogger("edge.journal")


@dataclass
class JournalStats:
    """Counters for /metrics."""

    commits: int = 0  # outbox transactions written (each may hold many emits)
    commit_errors: int = 0  # commits that failed (their records were held in memory)
    held: int = 0  # records waiting in memory for the outbox now
    dropped: dict[str, int] = field(default_factory=per_priority)


class Journal:
    """Commits the transactions of every durable sink into `outbox` (see the module
    docstring): `async with journal.transaction() as tx:` ... `tx.add(records)`."""

    def __init__(self, outbox: RecordQueue, *, hold_max_bytes: int = 64 << 20) -> None:
        self.outbox = outbox
        self.hold_max_bytes = hold_max_bytes
        self.stats = JournalStats()
        self._queue: list[tuple[Transaction, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._committer: asyncio.Task[None] | None = None
        self._held: list[Transaction] = []
        self._outage = OutageLog(log, "outbox")
        self._refusing = False
        self._dropped_logged = 0  # drops already logged (ERROR for the first)
        self._listeners: dict[str, Callable[[list[Entry]], None]] = {}

    @property
    def stream(self) -> str:
        """The outbox's random id of its history, which event ids carry (once it is open)."""
        return self.outbox.stream

    def on_committed(self, sink: str, fn: Callable[[list[Entry]], None]) -> None:
        """After every commit, `fn` gets the records just stored for `sink` (id order),
        in the event loop: the MQTT delivery takes them from memory, not the disk."""
        self._listeners[sink] = fn

    async def load(self) -> dict[str, str]:
        """The outbox's meta values: its `stream` id and the normalisers' checkpoints."""
        return await asyncio.to_thread(self.outbox.read_meta)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A transaction committed (or held, if the outbox cannot be written) when the
        block exits without an error; the exit waits for that."""
        tx = Transaction()
        yield tx
        await asyncio.shield(self._submit(tx))

    def submit(self, tx: Transaction) -> asyncio.Future[None]:
        """Queue the closed `tx` for the next commit; the future is done once it is
        committed (or held). Committed even if nobody awaits the future."""
        return self._submit(tx)

    async def flush(self) -> bool:
        """Commit everything closed so far, and try once more what is held in memory;
        True when nothing is held."""
        await asyncio.shield(self._submit(Transaction()))
        return not self._held

    async def aclose(self) -> None:
        """Commit what is queued, then stop; what is still held in memory is lost, and
        said so."""
        if self._committer is not None:
            await self.flush()
            self._committer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._committer
            self._committer = None
        if self._held:
            n = sum(len(t.records) for t in self._held)
            log.error("outbox still unwritable at stop: %d records held in memory are lost", n)

    def _submit(self, tx: Transaction) -> asyncio.Future[None]:
        done = asyncio.get_running_loop().create_future()
        self._queue.append((tx, done))
        self._wake.set()
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_loop(), name="outbox-commit")
        return done

    async def _commit_loop(self) -> None:
        """Commit what is queued, all at once; with only held records, retry them after
        a backoff (idle machines bring no new transaction)."""
        backoff = Backoff(0.5, 30.0)
        while True:
            if not self._queue:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(backoff.next() if self._held else None):
                        await self._wake.wait()
            batch, self._queue = self._queue, []
            if await self._commit([tx for tx, _ in batch]):
                backoff.reset()
            for _, done in batch:
                if not done.done():
                    done.set_result(None)

    async def _commit(self, batch: list[Transaction]) -> bool:
        """Write the held transactions and `batch` in one outbox transaction; False
        (and `batch` held) if the outbox cannot be written."""
        batch = [*self._held, *batch]
        records = [r for t in batch for r in t.records]
        meta = {k: v for t in batch for k, v in t.meta.items()}
        if not records and not meta:
            self._run_callbacks(batch)
            return True
        try:
            entries = await asyncio.to_thread(self.outbox.append_entries, records, None, meta)
        except Exception as exc:  # sqlite3.Error, OSError: disk full, file gone...
            self.stats.commit_errors += 1
            self._held = []
            for tx in batch:
                self._hold(tx)
            self._outage.down(f"cannot be written ({exc}); holding {self.stats.held} records")
            self._say_dropped()
            return False
        self.stats.commits += 1
        self._held = []
        self.stats.held = 0
        self._outage.up()
        self._note_refused(len(records) - len(entries), len(records))
        self._hand_over(entries)
        self._run_callbacks(batch)
        return True

    def _hand_over(self, entries: list[tuple[str, Entry]]) -> None:
        """The stored records to the sinks that listen for them."""
        if not self._listeners:
            return
        per: dict[str, list[Entry]] = {}
        for sink, entry in entries:
            per.setdefault(sink, []).append(entry)
        for sink, mine in per.items():
            fn = self._listeners.get(sink)
            if fn is not None:
                try:
                    fn(mine)
                except Exception:  # a listener only saves a read: the records are stored
                    log.exception("outbox listener of %s failed", sink)

    @staticmethod
    def _run_callbacks(batch: list[Transaction]) -> None:
        for t in batch:
            for fn in t.callbacks:
                fn()

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
