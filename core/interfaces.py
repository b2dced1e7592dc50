"""The small interfaces between pipeline stages: a source, a sink (and a durable one), an
engine, the history reader, and what a sink sees of the durable outbox and its journal.

Structural (`typing.Protocol`): a connector implements one by its shape, without
importing anything of `edge/`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from core.alarms import Alarm
from core.orders import ChangeoverDone, OrderTrack
from core.records import Entry, Record, SinkDepth, Transaction
from core.spc import SpcLimitsChange, SpcPoint, SpcViolation
from core.types import (
    AuditEntry,
    CountDelta,
    Event,
    ReasonAssigned,
    Sample,
    SampleBatch,
    ScrapBooked,
    ShiftNote,
    StateChange,
    StateRecord,
    StopPlanned,
)

__all__ = [
    "AlarmReader",
    "ChangeoverHistory",
    "Checkpointed",
    "DurableSink",
    "Engine",
    "HistoryReader",
    "IssueLog",
    "MachineEvent",
    "OperatorHistory",
    "Observer",
    "RecordQueue",
    "ReportStore",
    "SampleObserver",
    "Sink",
    "Source",
    "SpcHistory",
    "TransactionJournal",
]

# What the normalisers (and the operator, through the API) make of a machine, in order.
MachineEvent = StateChange | CountDelta | ReasonAssigned | StopPlanned


class Source(Protocol):
    """A southbound connector for one machine: an async context manager that yields batches.

    `stream()` runs until cancelled. It never raises on device errors: a failed read
    yields a batch with `error` set and bad-quality samples, then it reconnects with
    jittered backoff by itself.
    """

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def stream(self) -> AsyncIterator[SampleBatch]: ...


class Sink(Protocol):
    """A northbound output. `handle` must not block on an outage: it buffers and returns."""

    name: str

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def handle(self, events: Sequence[Event]) -> None: ...

    @property
    def connected(self) -> bool: ...


@runtime_checkable
class DurableSink(Sink, Protocol):
    """A sink that delivers through the durable outbox. The gateway calls `stage` instead
    of `handle`, so that every durable sink's records of one emit (and the normalisers'
    checkpoints) are committed in one transaction (`edge.outbox.Journal`)."""

    def stage(self, events: Sequence[Event], tx: Transaction) -> None:
        """Encode `events` into `tx` (no I/O); what must wait for the commit goes into
        `tx.after_commit`."""
        ...


class HistoryReader(Protocol):
    """Reads stored history back for the API and the engines' replay.

    `limit` bounds what one read may bring into memory (the API's pages and row caps):
    at most that many rows of the range, oldest first; None reads them all. The rows
    are decoded off the event loop (a quarter of history is millions of them).
    """

    async def state_history(
        self, machine: str, start: datetime, end: datetime, limit: int | None = None
    ) -> list[StateRecord]:
        """State records with start <= ts < end (at most `limit`), preceded by the last
        one before `start` (the state in force when the range opens), oldest first."""
        ...

    async def count_history(
        self, machine: str, start: datetime, end: datetime, limit: int | None = None
    ) -> list[CountDelta]:
        """Count deltas with start <= ts < end (at most `limit`), oldest first."""
        ...

    async def tag_history(
        self, machine: str, tag: str, start: datetime, end: datetime, limit: int | None = None
    ) -> list[Sample]:
        """The stored raw values of one tag (machines with `publish_tags`) with
        start <= ts < end (at most `limit`), oldest first
        (`GET /api/v1/machines/{id}/tags/{tag}`)."""
        ...

    async def history_rows(self, machine: str, start: datetime, end: datetime) -> int:
        """How many state changes and counts of `machine` are stored with start <= ts <
        end: what reading its history for a range would cost, known before reading it."""
        ...


@runtime_checkable
class OperatorHistory(Protocol):
    """The operator's input a store keeps (the SQLite store; `GET /api/v1/audit`, shift
    notes, the shift report's scrap by reason)."""

    async def audit(
        self, start: datetime, end: datetime, machine: str | None, limit: int
    ) -> list[AuditEntry]:
        """The operator's changes with start <= ts < end, oldest first, at most `limit`."""
        ...

    async def note(self, area: str, line: str, shift: str) -> ShiftNote | None:
        """The current hand-over text of shift instance `shift` of `line`."""
        ...

    async def scrap(
        self, machine: str, start: datetime, end: datetime, limit: int | None = None
    ) -> list[ScrapBooked]:
        """The scrap booked by hand on `machine` with start <= ts < end, oldest first."""
        ...


@runtime_checkable
class OrderHistory(Protocol):
    """The orders' history a store keeps (the SQLite store's `order_progress` and
    `changeover`): the shift report's orders, changeovers and plan read it."""

    async def order_tracks(self, machine: str, start: datetime, end: datetime) -> list[OrderTrack]:
        """Each order published on `machine` with start <= ts < end, by its first
        publication there."""
        ...

    async def changeover_docs(
        self, machine: str, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        """The `…/changeover` documents of `machine` whose changeover started with
        start <= t < end, by start."""
        ...


@runtime_checkable
class ReportStore(Protocol):
    """A store that keeps the shift reports and the held suspect counts (the SQLite store):
    the shift report reads them through this."""

    async def kept_report(self, line: str, shift: str) -> tuple[datetime, str] | None:
        """(when it was built, its JSON) of the latest report kept of `shift` of `line`."""
        ...

    async def suspects(self, machine: str, start: datetime, end: datetime) -> int:
        """How many counter movements of `machine` were held as suspect in [start, end)."""
        ...


class RecordQueue(Protocol):
    """What a sink sees of the durable outbox (`edge.outbox.Outbox`): blocking calls,
    to be run in a worker thread (`asyncio.to_thread`), and `stream`, the random id of
    the outbox file's history (set when it is opened)."""

    stream: str

    def append(
        self,
        records: Sequence[Record],
        now_ms: int | None = None,
        meta: Mapping[str, str] | None = None,
    ) -> int:
        """Commit `records` and `meta` in one transaction; how many records were stored
        (the disk limit may refuse some)."""
        ...

    def append_entries(
        self,
        records: Sequence[Record],
        now_ms: int | None = None,
        meta: Mapping[str, str] | None = None,
    ) -> list[tuple[str, Entry]]:
        """`append`, returning the stored records as (sink, entry with its id)."""
        ...

    def read_meta(self) -> dict[str, str]:
        """The meta values committed so far."""
        ...

    def peek(
        self, sink: str, limit: int, max_bytes: int | None = None, after: int = 0
    ) -> list[Entry]:
        """The oldest records of `sink` with an id above `after`."""
        ...

    def ack(self, sink: str, ids: Iterable[int]) -> int:
        """Remove delivered records of `sink`."""
        ...

    def depth(self, sink: str, now_ms: int | None = None) -> SinkDepth:
        """What waits for `sink`."""
        ...


class TransactionJournal(Protocol):
    """What a durable sink sees of the gateway's journal (`edge.outbox.Journal`): the
    outbox its records wait in, the outbox's `stream` id, and transactions that commit
    records (of every durable sink, and the normalisers' checkpoints) together."""

    @property
    def outbox(self) -> RecordQueue: ...

    @property
    def stream(self) -> str: ...

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """A transaction, committed (or held in memory while the outbox cannot be
        written) when the block exits without an error."""
        ...

    def on_committed(self, sink: str, fn: Callable[[list[Entry]], None]) -> None:
        """After every commit, `fn` gets the records just stored for `sink`, in id order
        (in the event loop), so its delivery need not read them back."""
        ...


class Engine(Protocol):
    """A stage after the normalisers that turns the machines' events into figures (the
    OEE engine, `edge.engines.oee`). The gateway builds every engine of its registry
    (`edge.pipeline.components.ENGINES`), feeds each one every `MachineEvent` in order
    per machine, and publishes what `publications` yields every `oee.publish_interval_s`.
    No I/O but `preload`; the figures themselves are pure functions in `oee/`. A failed
    `preload` is logged and the engine starts without history; `apply` and
    `publications` run on the pipeline's path and must not raise."""

    name: str  # in logs: "OEE"
    lookback: timedelta  # how far back `preload` reads the history

    def apply(self, event: MachineEvent) -> None:
        """Take one event (in time order per machine); unknown machines are ignored."""
        ...

    async def preload(
        self, history: HistoryReader, now: datetime, last_alive: datetime | None
    ) -> int:
        """Replay the stored history of the last `lookback` before `now`; how many events
        it replayed. `last_alive`: when the gateway last ran (the states after it are
        unknown). The gateway feeds no live event before this returns."""
        ...

    def publications(self, now: datetime) -> Iterator[Sequence[Event]]:
        """The figures at `now`, a batch at a time: the gateway emits each batch before it
        asks for the next, so the polls run in between."""
        ...


@runtime_checkable
class Observer(Protocol):
    """An engine that also sees every emitted event (OEE figures, held counts, decisions),
    in emit order, after the live view: the alarm engine judges the OEE engine's figures."""

    def observe(self, events: Sequence[Event]) -> None:
        """Take the events of one emit; must not raise."""
        ...


class IssueLog(Protocol):
    """What is wrong with one machine's input now (`edge.pipeline.issues.Issues`): an
    engine that judges raw readings reports implausible ones here."""

    def raise_(
        self, key: str, kind: str, detail: str, at: datetime, exc: BaseException | None = None
    ) -> None: ...

    def clear(self, key: str) -> None: ...


@runtime_checkable
class SampleObserver(Protocol):
    """An engine that needs raw `SampleBatch`es (SPC on process tags): the gateway hands
    it the batches of the machines it names (`sampled`) only, in order with the machine's
    events (after the events the batch made), and tells it where to report implausible
    readings (`bind_issues`). `take_samples` must not raise."""

    def sampled(self) -> frozenset[str]:
        """The machines whose batches it takes."""
        ...

    def bind_issues(self, issues: Mapping[str, IssueLog]) -> None:
        """Each machine's open issues (called once, before any batch)."""
        ...

    def take_samples(self, batch: SampleBatch) -> None:
        """One batch of one of its machines."""
        ...


@runtime_checkable
class Checkpointed(Protocol):
    """An engine whose own state survives a restart in the outbox's meta, committed in the
    same transaction as the events it made (`edge.outbox.Journal`)."""

    def checkpoint(self, events: Sequence[Event]) -> dict[str, str]:
        """The meta values to commit with `events` (empty: nothing of this engine's)."""
        ...

    def restore(self, meta: Mapping[str, str]) -> None:
        """Take back what `checkpoint` saved (at start, before any event)."""
        ...


@runtime_checkable
class AlarmReader(Protocol):
    """A store that keeps the alarms (the embedded SQLite store): the API's alarm
    history and the shift report read them through this."""

    async def alarms(
        self, start: datetime, end: datetime, machine: str | None = None, limit: int = 10_000
    ) -> list[Alarm]:
        """The alarms active at some time of start <= t < end, as they stand now."""
        ...


@runtime_checkable
class ChangeoverHistory(Protocol):
    """A store that keeps the completed changeovers (the SQLite store): the API's
    changeover list and matrix over a range (issue 19)."""

    async def changeovers(
        self, start: datetime, end: datetime, machine: str | None = None, limit: int = 10_000
    ) -> list[ChangeoverDone]:
        """The changeovers (of `machine`, or all) that started in [start, end), by start;
        at most `limit`."""
        ...


@runtime_checkable
class SpcHistory(Protocol):
    """A store that keeps the SPC charts' points, violations and limits changes (the SQLite
    store; `InfluxHistory` reads points and violations too): the API's chart ranges, a
    baseline older than the engine holds, capability over a past range."""

    async def spc_points(
        self, chart: str, start: datetime, end: datetime, limit: int | None = None
    ) -> list[SpcPoint]:
        """The points of `chart` with start <= ts < end, oldest first; the latest `limit`
        of them when there are more."""
        ...

    async def spc_violations(
        self, chart: str, start: datetime, end: datetime, limit: int | None = None
    ) -> list[SpcViolation]:
        """The run-rule violations of `chart` with start <= ts < end, oldest first."""
        ...

    async def spc_limits_history(self, chart: str) -> list[SpcLimitsChange]:
        """Every change of `chart`'s limits, oldest first."""
        ...
