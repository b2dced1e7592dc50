"""The SPC payloads on MQTT (README "MQTT", docs/asyncapi.yaml; documents of
`connectors.common.spcdoc`): the retained chart state `…/spc/{chart}` (QoS 1) and each
run-rule violation on `…/spc/{chart}/violation` (QoS 1, not retained).

`SpcLane` is the MQTT encoder's part for them: within one emit only the last state of a
chart goes out (a point and the limits it brought, or a burst of points, give one
retained message: the store and the other sinks have every point), every violation goes
out in order, and a change of limits leaves a meta value (`mqtt.spc.{chart}`) committed
with its records, so the chart state after a restart still carries who froze the limits
and from which baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from connectors.common.spcdoc import SpcChartInfo, SpcCharts, violation_document
from connectors.mqtt.payloads import MachineTopics
from core.spc import SpcLimitsChange, SpcPoint, SpcViolation

__all__ = ["META_PREFIX", "SpcLane", "spc_state_payload", "spc_violation_payload"]

META_PREFIX = "mqtt.spc."


def spc_state_payload(t: MachineTopics, charts: SpcCharts, chart: str) -> bytes:
    """Retained `…/spc/{chart}`: the chart state (`SpcCharts.document`)."""
    return t.payload(charts.document(chart))


def spc_violation_payload(t: MachineTopics, ev: SpcViolation, stream: str = "") -> bytes:
    """`…/spc/{chart}/violation`: one violation, with its `event_id`."""
    return t.payload(violation_document(ev, stream))


Emit = Callable[[str, bytes, bool], None]  # (topic, payload, retained)


class SpcLane:
    """The SPC events of one emit as messages, and the meta values to commit with them."""

    def __init__(self, infos: Mapping[str, SpcChartInfo] | None = None) -> None:
        self.charts = SpcCharts(infos)
        self._dirty: dict[str, MachineTopics] = {}
        self.meta: dict[str, str] = {}  # taken by the sink after each encode

    def take(self, t: MachineTopics, ev: SpcPoint | SpcViolation | SpcLimitsChange) -> bool:
        """Note `ev` of `t`'s machine; False for a chart id that cannot be a topic level."""
        try:
            t.spc(ev.chart)
        except ValueError:
            return False
        if isinstance(ev, SpcViolation):
            return True
        self.charts.take(ev)
        self._dirty[ev.chart] = t
        if isinstance(ev, SpcLimitsChange):
            self.meta[META_PREFIX + ev.chart] = self.charts.checkpoint(ev.chart)
        return True

    def flush(self, emit: Emit) -> None:
        """The retained state of each chart the emit touched, once."""
        for chart, t in self._dirty.items():
            emit(t.spc(chart)[0], spc_state_payload(t, self.charts, chart), True)
        self._dirty.clear()

    def states(self, topics: Mapping[str, MachineTopics]) -> Iterable[tuple[str, bytes]]:
        """Every known chart's retained state again (after a reconnect)."""
        known = set(self.charts.points) | {c for c, lim in self.charts.limits.items() if lim}
        for chart in sorted(known):
            p = self.charts.points.get(chart)
            info = self.charts.infos.get(chart)
            machine = p.machine if p is not None else info.machine if info else None
            t = topics.get(machine) if machine is not None else None
            if t is not None:
                yield t.spc(chart)[0], spc_state_payload(t, self.charts, chart)

    def restore(self, meta: Mapping[str, str]) -> int:
        """The charts' limits from the outbox meta (at start); how many."""
        return self.charts.restore(meta, META_PREFIX)
