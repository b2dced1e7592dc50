"""MqttSink and the SPC events against a real Mosquitto: the retained chart state
`…/spc/{chart}` (once per emit and chart, again after a change of limits, with who froze
them and from which baseline, across a restart of the sink) and `…/spc/{chart}/violation`
(QoS 1, not retained, with its event id), in order through the durable outbox."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from connectors.common.spcdoc import SpcChartInfo, SpecLimits
from connectors.mqtt.payloads import MachineTopics
from edge.outbox import Outbox
from tests.connectors.mqtt.support import make_sink, ref, unique_site, wait_until
from tests.fixtures.mosquitto import MosquittoBroker, Received
from tests.fixtures.spc_events import CHART, FROZEN, POINT, TRIAL, VIOLATION, point

INFO = {
    CHART: SpcChartInfo(
        CHART, "m1", "Filler 1 fill weight", "xbar_r", "g", "fill_weight",
        SpecLimits(495.0, 505.0, 500.0), {"P100": SpecLimits(497.5, 503.5, 500.5)},
    )
}  # fmt: skip
# The limits as published: to 6 significant digits (500.0123456 -> 500.012).
LIMITS_DOC = {
    "center": 500.012, "ucl": 501.743, "lcl": 498.282, "sigma": 1.28988, "n": 5,
    "spread_center": 3.00043, "spread_ucl": 6.3444, "spread_lcl": 0.0, "source": "computed",
    "subgroups": 25, "baseline_from": "2026-12-07T08:00:00.000Z",
    "baseline_to": "2026-12-07T08:24:00.000Z",
}  # fmt: skip
TRIAL_DOC = {**LIMITS_DOC, "frozen_by": None, "frozen_at": None, "excluded": []}
FROZEN_DOC = {
    **LIMITS_DOC, "frozen_by": "ana", "frozen_at": "2026-12-07T09:00:00.000Z",
    "excluded": [7, 12],
}  # fmt: skip


def state(seq: int, limits: dict[str, Any] | None, **kw: Any) -> dict[str, Any]:
    """The expected `…/spc/{chart}` payload of point `seq` of `point()`."""
    return {
        "v": 2, "machine": "m1", "path": kw.pop("path"), "chart": CHART,
        "name": "Filler 1 fill weight", "kind": "xbar_r", "unit": "g", "tag": "fill_weight",
        "ts": f"2026-12-07T08:{seq:02d}:00.000Z", "seq": seq, "value": 500.25, "spread": 2.5,
        "n": 5, "center": 500.012, "ucl": 501.743, "lcl": 498.282, "zone": "C+",
        "violations": [], "phase": "II", "limits": limits,
        "spec": {"lsl": 497.5, "usl": 503.5, "target": 500.5},  # P100's own spec
        "product": "P100", "held": 0, **kw,
    }  # fmt: skip


async def test_chart_state_and_violations(mosquitto: MosquittoBroker, outbox: Outbox) -> None:
    site = unique_site()
    t = MachineTopics("oee", ref(site))
    topic, vtopic = t.spc(CHART)
    assert topic == f"oee/{site}/area1/line1/m1/spc/{CHART}" and vtopic == f"{topic}/violation"
    path = f"{site}/area1/line1/m1"
    with mosquitto.collector(f"oee/{site}/area1/+/+/spc/#") as live:
        async with make_sink(mosquitto.port, site, outbox=outbox, spc_charts=INFO) as sink:
            await wait_until(lambda: sink.connected)
            # One emit: trial limits and two points make one retained state, the last.
            await sink.handle([TRIAL, point(26), point(27)])
            await sink.handle([FROZEN])  # the state again, with the frozen limits
            await sink.handle([POINT, VIOLATION])
            got = await asyncio.to_thread(live.wait_count, 4)
    assert [(m.topic, m.retain, m.qos) for m in got] == [
        (topic, False, 1), (topic, False, 1), (vtopic, False, 1), (topic, False, 1),
    ]  # fmt: skip
    docs = [json.loads(m.payload) for m in got]
    assert docs[0] == state(27, TRIAL_DOC, path=path)
    assert docs[1] == state(27, FROZEN_DOC, path=path)  # phase II now: frozen
    assert docs[2] == {
        "v": 2, "machine": "m1", "path": path, "chart": CHART,
        "ts": "2026-12-07T09:01:00.000Z", "seq": 61, "rule": "WE1",
        "name": "1 point beyond 3σ", "points": [61], "side": "+", "value": 503.457,
        "phase": "II", "event_id": f"{outbox.stream}:m1:{CHART}:v61:WE1",
    }  # fmt: skip
    assert docs[3] == state(
        61, FROZEN_DOC, path=path, ts="2026-12-07T09:01:00.000Z", value=503.457, spread=0.8,
        zone="beyond+", violations=["WE1"], held=1,
    )  # fmt: skip
    # A late subscriber gets the last state, retained; the violation is not retained.
    with mosquitto.collector(f"oee/{site}/area1/+/+/spc/#") as late:
        assert late.wait_count(1) == [Received(topic, got[3].payload, True, 1)]


async def test_the_limits_survive_a_restart(mosquitto: MosquittoBroker, outbox: Outbox) -> None:
    site = unique_site()
    path = f"{site}/area1/line1/m1"
    async with make_sink(mosquitto.port, site, outbox=outbox, spc_charts=INFO) as sink:
        await wait_until(lambda: sink.connected)
        await sink.handle([FROZEN])  # committed with the meta value mqtt.spc.{chart}
        await wait_until(lambda: sink.stats.acked == 1)
    with mosquitto.collector(f"oee/{site}/area1/+/+/spc/{CHART}") as live:
        # A new sink on the same outbox (a restarted gateway): its first point still
        # says who froze the limits and from which baseline.
        async with make_sink(mosquitto.port, site, outbox=outbox, spc_charts=INFO) as sink:
            await wait_until(lambda: sink.connected)
            await sink.handle([point(62, minutes=62)])
            got = await asyncio.to_thread(live.wait_for, lambda ms: any(not m.retain for m in ms))
    (fresh,) = [json.loads(m.payload) for m in got if not m.retain]
    assert fresh == state(62, FROZEN_DOC, path=path, ts="2026-12-07T09:02:00.000Z")
