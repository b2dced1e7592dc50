"""`Encoder`: a live event as the event stream sends it, `(event name, JSON)`, the JSON
being the payload of the MQTT message of the same event (`connectors.mqtt.payloads`).
Each event is encoded once, however many streams send it (`api.events`)."""

from __future__ import annotations

from collections.abc import Mapping

from connectors.common.spcdoc import SpcCharts, violation_document
from connectors.mqtt import payloads as p
from connectors.mqtt.alarms import alarm_payload
from connectors.mqtt.operator import (
    notes_payload,
    planned_payload,
    product_payload,
    scrap_payload,
)
from connectors.mqtt.report import report_payload
from connectors.mqtt.suspects import decision_payload, suspect_payload
from core.alarms import AlarmChange
from core.spc import SpcLimitsChange, SpcPoint, SpcViolation
from core.types import (
    CountDecision,
    CountDelta,
    Event,
    LineOeeUpdate,
    LineOutputUpdate,
    OeeUpdate,
    OutputUpdate,
    ProductChanged,
    ReasonAssigned,
    ScrapBooked,
    ShiftNote,
    ShiftReportDone,
    StateChange,
    StopPlanned,
    SuspectCount,
)
from edge.config import Config
from edge.pipeline.live import machine_refs, spc_chart_infos

__all__ = ["Encoder"]

_Encoded = tuple[str, bytes] | None
#: Events whose encoding is remembered: every stream's queue holds at most 1000, and the
#: streams take each event within moments of each other.
_REMEMBERED = 2048


class Encoder:
    """Event -> (event name, JSON) with the MQTT payload builders of one config's machines
    and lines; the `stream` id goes into the payloads' `id`, as on MQTT. Each event is
    encoded once, however many streams send it.

    SPC: `spc` is the chart state after a point or a change of limits (the MQTT
    `…/spc/{chart}` payload), `spc_violation` the `…/spc/{chart}/violation` one. The
    charts' limits start from `spc_limits` (the live view's, so a stream opened after a
    freeze says who froze them); the events are encoded in the order they came, once."""

    def __init__(
        self, config: Config, stream: str, spc_limits: Mapping[str, SpcLimitsChange] | None = None
    ) -> None:
        self.config = config
        self.stream = stream
        self._spc = SpcCharts(spc_chart_infos(config))
        for change in (spc_limits or {}).values():
            self._spc.take(change)
        # id(event) -> (the event, its encoding): the event is kept, so its id is not
        # reused while it is here, and `is` confirms the match.
        self._done: dict[int, tuple[Event, _Encoded]] = {}
        prefix = config.mqtt.prefix if config.mqtt is not None else "oee"
        refs = machine_refs(config)
        self._machines = {mid: p.MachineTopics(prefix, ref) for mid, ref in refs.items()}
        self._lines = {
            (r.area, r.line): p.LineTopics(prefix, r.site, r.area, r.line) for r in refs.values()
        }

    def encode(self, ev: Event) -> _Encoded:
        """None for what the stream does not carry (raw tags, unknown machines)."""
        done = self._done.get(id(ev))
        if done is not None and done[0] is ev:
            return done[1]
        encoded = self._encode(ev)
        if len(self._done) >= _REMEMBERED:
            del self._done[next(iter(self._done))]  # the oldest
        self._done[id(ev)] = (ev, encoded)
        return encoded

    def _encode(self, ev: Event) -> _Encoded:
        if isinstance(ev, LineOeeUpdate):
            lt = self._lines.get((ev.area, ev.line))
            return None if lt is None else ("line_oee", p.line_oee_payload(lt, ev))
        if isinstance(ev, LineOutputUpdate):
            lt = self._lines.get((ev.area, ev.line))
            return None if lt is None else ("line_output", p.output_payload(lt, ev))
        if isinstance(ev, ShiftNote | ShiftReportDone):
            lt = self._lines.get((ev.area, ev.line))
            if lt is None:
                return None
            if isinstance(ev, ShiftReportDone):
                return "report", report_payload(lt, ev)
            return "notes", notes_payload(lt, ev)
        t = self._machines.get(ev.machine)
        if t is None:
            return None
        if isinstance(ev, StateChange):
            return "state", p.event_payload(t, ev, self.stream)
        if isinstance(ev, CountDelta):
            return "count", p.count_payload(t, ev, self.stream)
        if isinstance(ev, OeeUpdate):
            return "oee", p.oee_payload(t, ev)
        if isinstance(ev, OutputUpdate):
            return "output", p.output_payload(t, ev)
        if isinstance(ev, ReasonAssigned):
            return "reason", p.reason_payload(t, ev, self.stream)
        if isinstance(ev, SuspectCount):
            return "suspect", suspect_payload(t, ev, self.stream)
        if isinstance(ev, CountDecision):
            return "decision", decision_payload(t, ev, self.stream)
        if isinstance(ev, ScrapBooked):
            return "scrap", scrap_payload(t, ev, self.stream)
        if isinstance(ev, StopPlanned):
            return "planned", planned_payload(t, ev, self.stream)
        if isinstance(ev, ProductChanged):
            return "product", product_payload(t, ev)
        if isinstance(ev, AlarmChange):  # the MQTT `…/alarm` payload
            return "alarm", alarm_payload(t, ev, self.stream)
        if isinstance(ev, SpcViolation):
            return "spc_violation", t.payload(violation_document(ev, self.stream))
        if isinstance(ev, SpcPoint | SpcLimitsChange):
            self._spc.take(ev)
            return "spc", t.payload(self._spc.document(ev.chart))
        return None
