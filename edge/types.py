"""Core data types that flow through the pipeline.

connector -> SampleBatch -> normaliser -> StateChange / CountDelta -> OEE engine -> sinks.
Every timestamp is timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from oee.states import MachineState

__all__ = [
    "CountDelta",
    "Event",
    "MachineRef",
    "MachineState",
    "OeeUpdate",
    "Quality",
    "Sample",
    "SampleBatch",
    "StateChange",
    "StateRecord",
    "TagValue",
    "utc_now",
]

TagValue = bool | int | float | str | None


def utc_now() -> datetime:
    """The current time, timezone-aware UTC (the only clock read the daemon needs)."""
    return datetime.now(UTC)


class Quality(StrEnum):
    """Quality of one raw value. The int code follows OPC DA (good 192, uncertain 64, bad 0)."""

    GOOD = "good"
    UNCERTAIN = "uncertain"
    BAD = "bad"

    @property
    def code(self) -> int:
        return {"good": 192, "uncertain": 64, "bad": 0}[self.value]


@dataclass(frozen=True, slots=True)
class MachineRef:
    """Where a machine sits in the ISA-95 hierarchy; `path` is `site/area/line/machine`."""

    site: str
    area: str
    line: str
    machine: str

    @property
    def path(self) -> str:
        return f"{self.site}/{self.area}/{self.line}/{self.machine}"


@dataclass(frozen=True, slots=True)
class Sample:
    """One raw tag value as read from a PLC."""

    tag: str
    value: TagValue
    quality: Quality
    ts: datetime


@dataclass(frozen=True, slots=True)
class SampleBatch:
    """The values of one poll (or notification batch) of one machine.

    `error` is set when the read failed; the samples then carry bad quality.
    """

    machine: str
    ts: datetime
    samples: tuple[Sample, ...]
    error: str | None = None

    def values(self) -> dict[str, Sample]:
        return {s.tag: s for s in self.samples}


@dataclass(frozen=True, slots=True)
class StateChange:
    """A machine entered `state` at `ts`; `previous` lasted `duration_s`."""

    machine: str
    state: MachineState
    previous: MachineState | None
    ts: datetime
    since_previous: datetime | None
    duration_s: float | None
    seq: int
    reason_code: int | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class CountDelta:
    """Parts produced since the last delta (never negative)."""

    machine: str
    ts: datetime
    total: int
    good: int
    reject: int
    product: str | None = None


@dataclass(frozen=True, slots=True)
class OeeUpdate:
    """OEE figures of one machine over one named window, ending at `ts`."""

    machine: str
    window: str
    ts: datetime
    availability: float | None
    performance: float | None
    quality: float | None
    oee: float | None
    run_s: float
    planned_s: float
    unknown_s: float
    window_s: float
    total: int
    good: int
    reject: int
    state_s: dict[str, float] = field(default_factory=dict)


Event = StateChange | CountDelta | OeeUpdate | SampleBatch


@dataclass(frozen=True, slots=True)
class StateRecord:
    """One stored state change, as history readers return it."""

    machine: str
    state: MachineState
    ts: datetime
    reason: str | None = None
