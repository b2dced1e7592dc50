"""The data types of the durable outbox (`edge.outbox`), shared with the sinks.

A sink encodes events into `Record`s (one MQTT message, one line of line protocol) and
reads back `Entry`s to deliver; `core.interfaces.RecordQueue` is what it sees of the
outbox.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum

__all__ = ["Entry", "Priority", "Record", "SinkDepth", "Transaction", "per_priority"]


class Priority(IntEnum):
    """What is given up first when the disk limit is reached (lowest first)."""

    TAGS = 0
    OEE = 1
    EVENTS = 2


def per_priority() -> dict[str, int]:
    """A zero count per priority name (`tags`, `oee`, `events`), for stats."""
    return {p.name.lower(): 0 for p in Priority}


@dataclass(frozen=True, slots=True)
class Record:
    """One encoded message for one sink."""

    sink: str
    priority: Priority
    data: bytes


@dataclass(frozen=True, slots=True)
class Entry:
    """A stored record: `id` orders a sink's records and is what `ack` takes."""

    id: int
    data: bytes
    ts_ms: int


@dataclass(frozen=True, slots=True)
class SinkDepth:
    """What waits for one sink: records, their bytes, and the oldest one's age."""

    records: int
    bytes: int
    oldest_age_s: float | None


@dataclass
class Transaction:
    """What one emit commits: records, meta values, and what to do once committed."""

    records: list[Record] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    callbacks: list[Callable[[], None]] = field(default_factory=list)

    def add(self, records: Iterable[Record]) -> None:
        self.records.extend(records)

    def set_meta(self, values: Mapping[str, str]) -> None:
        self.meta.update(values)

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Call `fn` once the records are durable (in the event loop)."""
        self.callbacks.append(fn)

    @property
    def size(self) -> int:
        return sum(len(r.data) for r in self.records)
