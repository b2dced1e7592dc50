"""The small interfaces between pipeline stages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self, runtime_checkable

from edge.records import Entry, Record, SinkDepth, Transaction
from edge.types import CountDelta, Event, Sample, SampleBatch, StateRecord

if TYPE_CHECKING:
    from edge.config import Config


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
    checkpoints) are committed in one transaction (`edge.journal`)."""

    def stage(self, events: Sequence[Event], tx: Transaction) -> None:
        """Encode `events` into `tx` (no I/O); what must wait for the commit goes into
        `tx.after_commit`."""
        ...


class HistoryReader(Protocol):
    """Reads stored history back for the API."""

    async def state_history(
        self, machine: str, start: datetime, end: datetime
    ) -> list[StateRecord]:
        """State records with start <= ts < end, preceded by the last one before `start`
        (the state in force when the range opens), oldest first."""
        ...

    async def count_history(self, machine: str, start: datetime, end: datetime) -> list[CountDelta]:
        """Count deltas with start <= ts < end, oldest first."""
        ...

    async def tag_history(
        self, machine: str, tag: str, start: datetime, end: datetime
    ) -> list[Sample]:
        """The stored raw values of one tag (machines with `publish_tags`) with
        start <= ts < end, oldest first (`GET /api/v1/machines/{id}/tags/{tag}`)."""
        ...


class GatewayControl(Protocol):
    """What the API may ask of the running gateway (it never writes to a PLC)."""

    async def emit(self, events: Sequence[Event]) -> None:
        """Hand events to the OEE engine, the live view and every sink."""
        ...

    def set_product(self, machine: str, product: str | None) -> None:
        """The product `machine` makes from now on (None: the machine's default).
        ValueError if the machine reads its product from a tag."""
        ...


class ConfigReloader(Protocol):
    """Re-reads the gateway's config file and restarts the pipeline with it, while the
    API keeps serving (`POST /api/v1/config/reload`, SIGHUP)."""

    async def reload(self) -> Config:
        """Validate the file and, when it is valid, stop the running gateway as on SIGTERM
        (its outbox flushed) and start one with the new config; returns that config.
        Raises `edge.loading.ConfigError` (every problem) or `edge.reload.RestartNeeded`
        (the `api` section changed), having changed nothing."""
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
