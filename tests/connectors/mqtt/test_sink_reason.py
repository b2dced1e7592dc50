"""MqttSink and the full OEE model against a real Mosquitto: `…/reason`, the retained
`…/state` re-published when the current stop gets a reason, and the detailed OEE."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

from connectors.mqtt.payloads import (
    MachineTopics,
    event_payload,
    oee_payload,
    reason_payload,
    state_payload,
)
from core.types import MachineState, ReasonAssigned, StateChange
from edge.outbox import Outbox
from tests.connectors.mqtt.support import T0, make_sink, ref, unique_site, wait_until
from tests.connectors.oee_report import worked_update
from tests.fixtures.mosquitto import MosquittoBroker, Received

T1 = T0 + timedelta(minutes=1)
T1_MS = T1  # events carry whole milliseconds (core.types.whole_ms), as the stores keep them


def stop(ts: datetime = T1, seq: int = 2, state: MachineState = MachineState.FAULT) -> StateChange:
    return StateChange("m1", state, MachineState.RUNNING, ts, T0, 60.0, seq, 17, "Jam")


def assign(
    stop_ts: datetime = T1_MS, code: int | None = 20, text: str | None = "Motor overload"
) -> ReasonAssigned:
    return ReasonAssigned(
        "m1", stop_ts, MachineState.FAULT, code, text, T1 + timedelta(minutes=5),
        previous_reason_code=17, previous_reason="Jam",
    )  # fmt: skip


async def test_a_reason_for_the_current_stop_updates_the_retained_state(
    mosquitto: MosquittoBroker, outbox: Outbox
) -> None:
    site = unique_site()
    t = MachineTopics("oee", ref(site))
    sc, ra = stop(), assign()
    now = replace(sc, reason_code=20, reason="Motor overload")
    with mosquitto.collector(f"oee/{site}/area1/#") as live:
        async with make_sink(mosquitto.port, site, outbox=outbox) as sink:
            await wait_until(lambda: sink.connected)
            await sink.handle([sc])
            await sink.handle([ra])
            got = await asyncio.to_thread(live.wait_count, 4)
            assert sink.stats.published == 5  # online, state, event, reason, state
    assert got == [
        Received(t.state, state_payload(t, sc), False, 1),
        Received(t.event, event_payload(t, sc, outbox.stream), False, 1),
        Received(t.reason, reason_payload(t, ra, outbox.stream), False, 1),
        Received(t.state, state_payload(t, now), False, 1),
    ]
    assert state_payload(t, now).endswith(
        b'"state":"fault","since":"2026-11-25T10:01:00.250Z","reason":"Motor overload",'
        b'"reason_code":20,"ts":"2026-11-25T10:01:00.250Z"}'
    )
    with mosquitto.collector(f"oee/{site}/area1/#") as late:  # the reason is not retained
        assert late.wait_count(1) == [Received(t.state, state_payload(t, now), True, 1)]


async def test_a_reason_for_an_earlier_stop_leaves_the_state_alone(
    mosquitto: MosquittoBroker, outbox: Outbox
) -> None:
    site = unique_site()
    t = MachineTopics("oee", ref(site))
    first, current = stop(), stop(T1 + timedelta(minutes=2), 3, MachineState.IDLE)
    early = assign()  # for `first`, which is over
    cleared = assign(current.ts, None, None)  # for the current stop: cleared
    with mosquitto.collector(f"oee/{site}/area1/+/+/reason", f"oee/{site}/area1/+/+/state") as live:
        async with make_sink(mosquitto.port, site, outbox=outbox) as sink:
            await wait_until(lambda: sink.connected)
            await sink.handle([early])  # before any state change: nothing to re-publish
            await sink.handle([first, current, early, cleared])
            got = await asyncio.to_thread(live.wait_count, 6)
    bare = replace(current, reason_code=None, reason=None)
    assert got == [
        Received(t.reason, reason_payload(t, early, outbox.stream), False, 1),
        Received(t.state, state_payload(t, first), False, 1),
        Received(t.state, state_payload(t, current), False, 1),
        Received(t.reason, reason_payload(t, early, outbox.stream), False, 1),
        Received(t.reason, reason_payload(t, cleared, outbox.stream), False, 1),
        Received(t.state, state_payload(t, bare), False, 1),
    ]
    assert b'"reason":null,"reason_code":null' in state_payload(t, bare)


async def test_reasons_of_unknown_machines_are_counted(
    mosquitto: MosquittoBroker, outbox: Outbox
) -> None:
    async with make_sink(mosquitto.port, unique_site(), outbox=outbox) as sink:
        await wait_until(lambda: sink.connected)
        await sink.handle([replace(assign(), machine="nope")])
        assert (sink.stats.unknown_machine, sink.stats.published) == (1, 1)


async def test_oee_with_a_report_is_retained_in_full(
    mosquitto: MosquittoBroker, outbox: Outbox
) -> None:
    site = unique_site()
    t = MachineTopics("oee", ref(site))
    update = worked_update()
    with mosquitto.collector(t.oee("1h")) as live:
        async with make_sink(mosquitto.port, site, outbox=outbox) as sink:
            await wait_until(lambda: sink.connected)
            await sink.handle([update])
            await asyncio.to_thread(live.wait_count, 1)
    with mosquitto.collector(t.oee("1h")) as late:
        assert late.wait_count(1) == [Received(t.oee("1h"), oee_payload(t, update), True, 1)]
