"""The live view: the latest state, counts and OEE of every machine, read by the API."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from connectors.common.spcdoc import SpcChartInfo, SpecLimits
from core.alarms import Alarm, AlarmChange
from core.spc import SpcLimitsChange, SpcPoint
from core.types import (
    CountDelta,
    Event,
    LineOeeUpdate,
    LineOutputUpdate,
    MachineRef,
    OeeUpdate,
    OutputUpdate,
    ProductChanged,
    ReasonAssigned,
    SampleBatch,
    ShiftNote,
    ShiftReportDone,
    StateChange,
    SuspectCount,
)
from edge.config import Config
from edge.config.spc import SpecConfig
from edge.pipeline.issues import Issues


def machine_refs(config: Config) -> dict[str, MachineRef]:
    """Each machine's place in the hierarchy; a machine may override the area and line."""
    return {
        m.id: MachineRef(config.site, m.area or config.area, m.line or config.line, m.id)
        for m in config.machines
    }


def spc_chart_infos(config: Config) -> dict[str, SpcChartInfo]:
    """What the sinks publish of each configured SPC chart (`spc.charts`), by id."""
    return {
        c.id: SpcChartInfo(
            c.id,
            c.machine,
            c.name or c.id,
            c.kind,
            c.unit,
            c.tag,
            _spec(c.spec),
            {code: s for code, spec in c.products.items() if (s := _spec(spec)) is not None},
        )  # fmt: skip
        for c in config.spc.charts
    }


def _spec(spec: SpecConfig | None) -> SpecLimits | None:
    return None if spec is None else SpecLimits(spec.lsl, spec.usl, spec.target)


@dataclass
class MachineLive:
    """What is known now about one machine."""

    ref: MachineRef
    name: str
    state: StateChange | None = None
    total: int = 0
    good: int = 0
    reject: int = 0
    product: str | None = None
    last_seen: datetime | None = None
    oee: dict[str, OeeUpdate] = field(default_factory=dict)
    output: OutputUpdate | None = None  # in the shift in progress, or the last one's final
    product_names: dict[str, str] = field(default_factory=dict)  # configured, by code
    # Parts moved between good and reject since the start (good and reject above count
    # them, so they may step back; /metrics adds these back for counters that only grow).
    moved_to_reject: int = 0
    moved_to_good: int = 0
    # The normaliser's, shared (the running gateway sets them): its held suspect counts
    # by seq, and the open issues of its input.
    suspects: dict[int, SuspectCount] = field(default_factory=dict)
    issues: Issues | None = None
    alarms: tuple[Alarm, ...] = ()  # the active alarms, after the last change


class LiveView:
    """Kept up to date by the pipeline; the API only reads it.

    `listeners` are called with every event (the API's server-sent events use this).
    `lines` holds the latest line update per (line, window); `spc_limits` the last limits
    change of each SPC chart (the server-sent events' chart states start from it), and
    `spc_points` each chart's latest point.
    """

    def __init__(self, machines: dict[str, MachineLive], windows: list[str]) -> None:
        self.machines = machines
        self.windows = windows
        self.lines: dict[tuple[str, str], LineOeeUpdate] = {}
        self.line_outputs: dict[str, LineOutputUpdate] = {}
        self.spc_limits: dict[str, SpcLimitsChange] = {}
        self.spc_points: dict[str, SpcPoint] = {}
        self.started = False
        self.sinks_connected: Callable[[], dict[str, bool]] = dict
        # Why a sink does not deliver although it may be connected (a stuck broker), by
        # sink name; sinks without a problem are left out.
        self.sink_problems: Callable[[], dict[str, str]] = dict
        self.listeners: list[Callable[[Event], None]] = []
        # Error and traffic counters of sources and sinks, for /metrics:
        # (metric name, labels, value), filled in by the pipeline.
        self.counters: Callable[[], list[tuple[str, dict[str, str], int]]] = list
        # Levels (outbox depth and age), the same way.
        self.gauges: Callable[[], list[tuple[str, dict[str, str], float]]] = list

    def apply(self, event: Event) -> None:
        if isinstance(event, LineOeeUpdate | ShiftNote | ShiftReportDone):
            if isinstance(event, LineOeeUpdate):
                self.lines[event.line, event.window] = event
            self._notify(event)
            return
        if isinstance(event, LineOutputUpdate):
            self.line_outputs[event.line] = event
            self._notify(event)
            return
        m = self.machines.get(event.machine)
        if m is None:
            return
        if isinstance(event, StateChange):
            m.state = event
        elif isinstance(event, CountDelta):
            m.total += event.total
            m.good += event.good
            m.reject += event.reject
            m.moved_to_reject += max(-event.good, 0)
            m.moved_to_good += max(-event.reject, 0)
            m.product = event.product or m.product
        elif isinstance(event, OeeUpdate):
            m.oee[event.window] = event
        elif isinstance(event, OutputUpdate):
            m.output = event
        elif isinstance(event, AlarmChange):
            m.alarms = event.active
        elif isinstance(event, SpcPoint):
            self.spc_points[event.chart] = event
        elif isinstance(event, SpcLimitsChange):
            self.spc_limits[event.chart] = event
        elif isinstance(event, ProductChanged):
            m.product = event.product
        elif isinstance(event, SampleBatch):
            m.last_seen = event.ts if event.error is None else m.last_seen
        elif isinstance(event, ReasonAssigned) and m.state and m.state.ts == event.stop_ts:
            m.state = dataclasses.replace(
                m.state, reason_code=event.reason_code, reason=event.reason
            )
        self._notify(event)

    def _notify(self, event: Event) -> None:
        for listener in self.listeners:
            listener(event)

    @classmethod
    def from_config(cls, config: Config) -> LiveView:
        refs = machine_refs(config)
        machines = {
            m.id: MachineLive(
                refs[m.id],
                m.name or m.id,
                product_names={k: p.name for k, p in m.products.items() if p.name},
            )
            for m in config.machines
        }
        return cls(machines, list(config.oee.windows))

    def failing(self) -> list[str]:
        """The machines whose events fail inside the pipeline now, by id."""
        return sorted(
            mid for mid, m in self.machines.items() if m.issues and m.issues.has("pipeline_error")
        )

    @property
    def ready(self) -> bool:
        """Started, every machine has a state and none fails inside the pipeline, and
        every sink is connected and without a problem."""
        return (
            self.started
            and all(m.state is not None for m in self.machines.values())
            and not self.failing()
            and all(self.sinks_connected().values())
            and not self.sink_problems()
        )
