"""Encoding the MQTT sink's events into outbox records: one MQTT message (topic, payload,
QoS, retain; `connectors.mqtt.message`) per record, with the priority the outbox's disk
limit goes by (raw tags first, then OEE updates; events are kept longest)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

from connectors.common.spcdoc import SpcChartInfo
from connectors.mqtt.alarms import active_alarms_payload, alarm_payload
from connectors.mqtt.config import MqttConfig
from connectors.mqtt.message import Message, pack
from connectors.mqtt.operator import (
    notes_payload,
    planned_payload,
    product_payload,
    scrap_payload,
)
from connectors.mqtt.orders import changeover_payload, order_payload
from connectors.mqtt.payloads import (
    LineTopics,
    MachineTopics,
    count_payload,
    event_payload,
    line_oee_payload,
    oee_payload,
    output_payload,
    reason_payload,
    state_payload,
    tags_payload,
)
from connectors.mqtt.report import report_payload, report_topic
from connectors.mqtt.spc import SpcLane, spc_violation_payload
from connectors.mqtt.stats import MqttStats
from connectors.mqtt.suspects import decision_payload, suspect_payload
from core.alarms import AlarmChange
from core.orders import ChangeoverDone, OrderProgress
from core.records import Priority, Record
from core.spc import SpcLimitsChange, SpcPoint, SpcViolation
from core.types import (
    CountDecision,
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
    ScrapBooked,
    ShiftNote,
    ShiftReportDone,
    StateChange,
    StopPlanned,
    SuspectCount,
)

__all__ = ["Encoder"]


class Encoder:
    """The topics of the sink's machines and lines, and how each event becomes records
    of the outbox queue `sink`."""

    def __init__(
        self,
        sink: str,
        config: MqttConfig,
        machines: Mapping[str, MachineRef],
        publish_tags: Collection[str],
        stats: MqttStats,
        spc_charts: Mapping[str, SpcChartInfo] | None = None,
    ) -> None:
        self.sink = sink
        self.qos = config.qos
        self.topics = {mid: MachineTopics(config.prefix, ref) for mid, ref in machines.items()}
        self.lines: dict[tuple[str, str], LineTopics] = {
            (ref.area, ref.line): LineTopics(config.prefix, ref.site, ref.area, ref.line)
            for ref in machines.values()
        }
        self.publish_tags = frozenset(publish_tags)
        self.stats = stats
        self.spc = SpcLane(spc_charts)

    def encode(
        self,
        events: Sequence[Event],
        known: Mapping[str, StateChange],
        current: dict[str, StateChange],
        stream: str,
        direct: Callable[[Message], bool] | None = None,
    ) -> list[Record]:
        """The records of `events`. `known`: each machine's last staged state change;
        `current` receives the state changes these events make.
        `stream` goes into the events' ids. `direct` may publish a tags message at once
        (`connectors.mqtt.direct`); what it does not take becomes a record."""
        out: list[Record] = []
        topics, qos = self.topics, self.qos

        def rec(priority: Priority, topic: str, payload: bytes, q: int, retain: bool) -> None:
            out.append(Record(self.sink, priority, pack(Message(topic, payload, q, retain))))

        for ev in events:
            if isinstance(ev, LineOeeUpdate | ShiftNote):
                t = self.lines.get((ev.area, ev.line))
                if t is None:
                    self.stats.unknown_line += 1
                elif isinstance(ev, ShiftNote):
                    rec(Priority.EVENTS, t.notes, notes_payload(t, ev), qos, True)
                else:
                    rec(Priority.OEE, t.oee(ev.window), line_oee_payload(t, ev), qos, True)
                continue
            if isinstance(ev, LineOutputUpdate | ShiftReportDone):
                t = self.lines.get((ev.area, ev.line))
                if t is None:
                    self.stats.unknown_line += 1
                elif isinstance(ev, ShiftReportDone):
                    rec(Priority.EVENTS, report_topic(t), report_payload(t, ev), qos, True)
                else:
                    rec(Priority.OEE, t.output, output_payload(t, ev), qos, True)
                continue
            mt = topics.get(ev.machine)
            if mt is None:
                self.stats.unknown_machine += 1
                continue
            if isinstance(ev, StateChange):
                current[ev.machine] = ev
                rec(Priority.EVENTS, mt.state, state_payload(mt, ev), qos, True)
                rec(Priority.EVENTS, mt.event, event_payload(mt, ev, stream), qos, False)
            elif isinstance(ev, CountDelta):
                rec(Priority.EVENTS, mt.count, count_payload(mt, ev, stream), qos, False)
            elif isinstance(ev, SuspectCount):
                rec(Priority.EVENTS, mt.suspect, suspect_payload(mt, ev, stream), qos, False)
            elif isinstance(ev, CountDecision):
                rec(Priority.EVENTS, mt.decision, decision_payload(mt, ev, stream), qos, False)
            elif isinstance(ev, ScrapBooked):
                rec(Priority.EVENTS, mt.scrap, scrap_payload(mt, ev, stream), qos, False)
            elif isinstance(ev, StopPlanned):
                rec(Priority.EVENTS, mt.planned, planned_payload(mt, ev, stream), qos, False)
            elif isinstance(ev, ProductChanged):
                rec(Priority.EVENTS, mt.product, product_payload(mt, ev), qos, True)
            elif isinstance(ev, OeeUpdate):
                rec(Priority.OEE, mt.oee(ev.window), oee_payload(mt, ev), qos, True)
            elif isinstance(ev, OutputUpdate):
                rec(Priority.OEE, mt.output, output_payload(mt, ev), qos, True)
            elif isinstance(ev, ReasonAssigned):
                # `…/reason`, then the retained `…/state` again if the stop is the current state.
                rec(Priority.EVENTS, mt.reason, reason_payload(mt, ev, stream), qos, False)
                now = current.get(ev.machine) or known.get(ev.machine)
                if now is not None and now.ts == ev.stop_ts:
                    now = dataclasses.replace(now, reason_code=ev.reason_code, reason=ev.reason)
                    current[ev.machine] = now
                    rec(Priority.EVENTS, mt.state, state_payload(mt, now), qos, True)
            elif isinstance(ev, AlarmChange):  # QoS 1 whatever `mqtt.qos` says: never lost
                rec(Priority.EVENTS, mt.alarm, alarm_payload(mt, ev, stream), 1, False)
                rec(Priority.EVENTS, mt.alarms, active_alarms_payload(mt, ev), 1, True)
            elif isinstance(ev, OrderProgress):  # QoS 1: the order on the floor, retained
                rec(Priority.OEE, mt.order, order_payload(mt, ev), 1, True)
            elif isinstance(ev, ChangeoverDone):
                rec(Priority.EVENTS, mt.changeover, changeover_payload(mt, ev, stream), 1, False)
            elif isinstance(ev, SampleBatch) and ev.machine in self.publish_tags:
                msg = Message(mt.tags, tags_payload(mt, ev), 0, False)
                if direct is None or not direct(msg):
                    out.append(Record(self.sink, Priority.TAGS, pack(msg)))
            elif isinstance(ev, SpcPoint | SpcViolation | SpcLimitsChange):
                # QoS 1 whatever `mqtt.qos` says; the retained states after the loop.
                if not self.spc.take(mt, ev):
                    self.stats.unknown_chart += 1
                elif isinstance(ev, SpcViolation):
                    topic = mt.spc(ev.chart)[1]
                    rec(Priority.EVENTS, topic, spc_violation_payload(mt, ev, stream), 1, False)
        # A retained state is superseded by the next: the disk limit may drop it first.
        self.spc.flush(lambda topic, payload, retain: rec(Priority.OEE, topic, payload, 1, retain))
        return out

    def states(self, changes: Iterable[StateChange]) -> list[Record]:
        """The retained `…/state` of each of `changes` and every chart's `…/spc/{chart}`
        (re-stated after a reconnect)."""
        return [
            Record(
                self.sink,
                Priority.EVENTS,
                pack(Message(t.state, state_payload(t, ev), self.qos, True)),
            )
            for ev in changes
            if (t := self.topics.get(ev.machine)) is not None
        ] + [
            Record(self.sink, Priority.OEE, pack(Message(topic, payload, 1, True)))
            for topic, payload in self.spc.states(self.topics)
        ]
