"""Core data types that flow through the pipeline.

connector -> SampleBatch -> normaliser -> StateChange / CountDelta -> engines -> sinks
(docs/ARCHITECTURE.md). Every part of the gateway shares them; they import nothing of
ours but `oee`. Every timestamp is timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal, NamedTuple

from core.alarms import AlarmChange
from core.operator import AuditEntry, ProductChanged, ScrapBooked, ShiftNote, StopPlanned
from core.orders import ChangeoverDone, OrderCommand, OrderEdited, OrderProgress
from core.output import LineOutputUpdate, OutputUpdate, ShiftRef
from core.report import ShiftReportDone
from core.spc import SpcLimitsChange, SpcPoint, SpcViolation
from oee.calendar import PlantDay, ShiftInstance
from oee.losses import LossReport, ReasonLoss
from oee.states import MachineState
from oee.targets import Output

__all__ = [
    "AuditEntry",
    "AlarmChange",
    "ChangeoverDone",
    "OrderCommand",
    "OrderEdited",
    "OrderProgress",
    "CountDecision",
    "CountDelta",
    "Event",
    "LineOeeUpdate",
    "LineOutputUpdate",
    "MachineRatios",
    "MachineRef",
    "MachineState",
    "OeeUpdate",
    "Output",
    "OutputUpdate",
    "ProductChanged",
    "ShiftRef",
    "PlantDay",
    "Quality",
    "ReasonAssigned",
    "Sample",
    "SampleBatch",
    "ScrapBooked",
    "ShiftNote",
    "ShiftReportDone",
    "SpcLimitsChange",
    "SpcPoint",
    "SpcViolation",
    "StopPlanned",
    "ShiftInstance",
    "StateChange",
    "StateRecord",
    "SuspectCount",
    "TagValue",
    "loss_details",
    "utc_now",
    "whole_ms",
]

TagValue = bool | int | float | str | None


def whole_ms(ts: datetime) -> datetime:
    """`ts` cut to the millisecond: the precision of every contract (MQTT, the stores, the
    API), so an event's time reads back equal from wherever it was stored."""
    return ts.replace(microsecond=ts.microsecond // 1000 * 1000)


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
        return _QUALITY_CODES[self]


# Looked up per sample on the hot path: a plain dict, not the enum's `.value`.
_QUALITY_CODES = {Quality.GOOD: 192, Quality.UNCERTAIN: 64, Quality.BAD: 0}


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


class Sample(NamedTuple):
    """One raw tag value as read from a PLC.

    A NamedTuple, not a frozen dataclass as the other records are: 15,000 of them a
    second at 500 machines, and a tuple is built in half the time (issue 17: ~0.3 µs
    less per value). Immutable and typed all the same; compare and replace it as a record
    (`_replace`), never by position.
    """

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
    """A machine entered `state` at `ts`; `previous` lasted `duration_s`. `seq` numbers a
    machine's state changes from 1, without gaps, across restarts."""

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
    """Parts counted since the last delta: `total` (never negative), `good` + `reject` of
    them. One of `good` and `reject` is negative when parts move between them: a part
    counted good and found reject a read later comes as total 0, good -1, reject 1, so
    the deltas add up to the PLC's counters whatever order they move in. `seq` numbers a
    machine's deltas from 1, without gaps, across restarts (0: not numbered)."""

    machine: str
    ts: datetime
    total: int
    good: int
    reject: int
    product: str | None = None
    seq: int = 0


@dataclass(frozen=True, slots=True)
class SuspectCount:
    """A counter movement no machine could have made, held out of every figure until
    someone accepts or discards it: `counter` moved by more than `allowed` parts in
    `elapsed_s` (its fastest ideal cycle, `counters.suspect_factor` and `suspect_floor`).
    `total`/`good`/`reject` are what it would count. `seq` numbers a machine's suspect
    counts from 1, across restarts."""

    machine: str
    ts: datetime
    total: int
    good: int
    reject: int
    product: str | None
    seq: int
    counter: str
    allowed: int
    elapsed_s: float


@dataclass(frozen=True, slots=True)
class CountDecision:
    """Someone changed a machine's counts by hand: accepted or discarded a held
    `SuspectCount` (`suspect_seq`), or corrected the counts (`action` "correct"). The parts
    it adds come with it as the `CountDelta` numbered `count_seq` (None: nothing counted,
    a discard). `ts` is when it was decided, `by` the name of the API key that did it.
    `seq` numbers a machine's decisions from 1, across restarts (set by the gateway)."""

    machine: str
    ts: datetime
    action: Literal["accept", "discard", "correct"]
    by: str
    total: int
    good: int
    reject: int
    count_seq: int | None = None
    suspect_seq: int | None = None
    note: str | None = None
    seq: int = 0


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
    start: datetime | None = None  # where the window begins (ts - window_s when sliding)
    report: LossReport | None = None  # the whole time model, losses and reliability
    pareto: tuple[ReasonLoss, ...] = ()  # unplanned downtime by reason, biggest first
    shift: ShiftInstance | None = None  # the shift occurrence (a `shift` window or range)
    day: PlantDay | None = None  # the plant day (a `day` window or range)

    @classmethod
    def of(
        cls,
        machine: str,
        window: str,
        start: datetime,
        end: datetime,
        report: LossReport,
        pareto: tuple[ReasonLoss, ...] = (),
        shift: ShiftInstance | None = None,
        day: PlantDay | None = None,
    ) -> OeeUpdate:
        """The update of `report`, the figures of [start, end) (of `shift` or `day`)."""
        r = report
        return cls(
            machine=machine, window=window, ts=end, availability=r.availability,
            performance=r.performance, quality=r.quality, oee=r.oee, run_s=r.run_s,
            planned_s=r.planned_s, unknown_s=r.unknown_s, window_s=r.window_s,
            total=r.counts.total, good=r.counts.good, reject=r.counts.reject,
            state_s=_state_seconds(r), start=start, report=r, pareto=pareto, shift=shift,
            day=day,
        )  # fmt: skip

    def details(self) -> dict[str, float | int | bool | None]:
        """The time model beyond the headline figures, flat and JSON-ready (numbers, bools,
        None); empty without a report. Sinks and the API publish these under these names."""
        return {} if self.report is None else loss_details(self.report)


Details = dict[str, float | int | bool | None]


def loss_details(r: LossReport) -> Details:
    """The time model of a report beyond the headline figures (`OeeUpdate.details`)."""
    rel = r.reliability
    return {
        "coverage": r.coverage,
        "planned_stop_s": r.planned_stop_s,
        "breakdown_s": r.breakdown_s,
        "setup_s": r.setup_s,
        "idle_s": r.idle_s,
        "small_stop_s": r.small_stop_s,
        "speed_loss_s": r.speed_loss_s,
        "ideal_s": r.ideal_s,
        "fully_productive_s": r.fully_productive_s,
        "startup_reject": r.counts.startup_reject,
        "performance_flagged": r.performance_flagged,
        "failures": rel.failures,
        "mtbf_s": rel.mtbf_s,
        "mttr_s": rel.mttr_s,
        "off_plan_run_s": r.off_plan_run_s,
        "off_plan_total": r.off_plan_total,
    }


def _state_seconds(r: LossReport) -> dict[str, float]:
    """Seconds per canonical state (small stops count as running, as in run time)."""
    return {
        MachineState.RUNNING.value: r.run_s,
        MachineState.IDLE.value: r.idle_s,
        MachineState.SETUP.value: r.setup_s,
        MachineState.FAULT.value: r.breakdown_s,
        MachineState.PLANNED_STOP.value: r.planned_stop_s,
        MachineState.OFFLINE.value: r.unknown_s,
    }


@dataclass(frozen=True, slots=True)
class ReasonAssigned:
    """A reason was given to the stop of `machine` that began at `stop_ts` (in `state`).

    `source` is "operator" (through the API) or "plc" (from a reason tag); `ts` is when.
    Sinks persist it on the stored state change and re-publish it.
    """

    machine: str
    stop_ts: datetime
    state: MachineState
    reason_code: int | None
    reason: str | None
    ts: datetime
    source: str = "operator"
    category: str | None = None
    previous_reason_code: int | None = None
    previous_reason: str | None = None
    seq: int = 0  # numbers a machine's assignments from 1 (set by the gateway)


class MachineRatios(NamedTuple):
    """One machine's ratios inside a line update (None when not computable)."""

    machine: str
    availability: float | None
    performance: float | None
    quality: float | None
    oee: float | None


@dataclass(frozen=True, slots=True)
class LineOeeUpdate:
    """OEE of one line over one named window, ending at `ts`, rolled up from its machines'
    updates of the same tick (`edge.engines.lines.line_update`).

    `report` is the sum of the machines' reports (times, counts, losses); the ratios are
    its own in "sum" mode, and the bottleneck's A and P with the line's rolled quality in
    "bottleneck" mode (None while the bottleneck has no figures). `machines` holds each
    rolled-up machine's ratios; `missing` the line's machines without figures yet.
    """

    line: str
    area: str
    window: str
    ts: datetime
    start: datetime
    mode: Literal["sum", "bottleneck"]
    bottleneck: str | None
    availability: float | None
    performance: float | None
    quality: float | None
    oee: float | None
    performance_flagged: bool
    report: LossReport
    machines: tuple[MachineRatios, ...] = ()
    missing: tuple[str, ...] = ()
    shift: ShiftInstance | None = None  # the shift occurrence its machines' figures are of
    day: PlantDay | None = None  # the plant day its machines' figures are of

    # The summed times and counts, under the names of an OeeUpdate's fields.
    @property
    def run_s(self) -> float:
        return self.report.run_s

    @property
    def planned_s(self) -> float:
        return self.report.planned_s

    @property
    def unknown_s(self) -> float:
        return self.report.unknown_s

    @property
    def window_s(self) -> float:
        return self.report.window_s

    @property
    def total(self) -> int:
        return self.report.counts.total

    @property
    def good(self) -> int:
        return self.report.counts.good

    @property
    def reject(self) -> int:
        return self.report.counts.reject

    def details(self) -> Details:
        """`OeeUpdate.details()` of the summed report, with the line's own
        `performance_flagged` (in bottleneck mode it is the bottleneck's P that counts)."""
        return {**loss_details(self.report), "performance_flagged": self.performance_flagged}


Event = (
    StateChange
    | CountDelta
    | SuspectCount
    | CountDecision
    | OeeUpdate
    | LineOeeUpdate
    | SampleBatch
    | ReasonAssigned
    | OutputUpdate
    | LineOutputUpdate
    | ScrapBooked
    | StopPlanned
    | ShiftNote
    | ProductChanged
    | AlarmChange
    | ShiftReportDone
    | SpcPoint
    | SpcViolation
    | SpcLimitsChange
    | OrderCommand
    | OrderEdited
    | OrderProgress
    | ChangeoverDone
)


@dataclass(frozen=True, slots=True)
class StateRecord:
    """One stored state change, as history readers return it."""

    machine: str
    state: MachineState
    ts: datetime
    reason: str | None = None
    reason_code: int | None = None
    planned_kind: str | None = None  # a stop turned into planned time (StopPlanned)
    planned_reason: str | None = None
