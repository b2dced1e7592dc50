"""The data types of the durable outbox (`edge.outbox`), shared with the sinks.

A sink encodes events into `Record`s (one MQTT message, one line of line protocol) and
reads back `Entry`s to deliver; `edge.interfaces.RecordQueue` is what it sees of the
outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

__all__ = ["Entry", "Priority", "Record", "SinkDepth"]


class Priority(IntEnum):
    """What is given up first when the disk limit is reached (lowest first)."""

    TAGS = 0
    OEE = 1
    EVENTS = 2


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
