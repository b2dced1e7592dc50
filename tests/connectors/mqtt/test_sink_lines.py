"""MqttSink and line OEE against a real Mosquitto: the retained `…/_line/oee/{window}` at
the configured QoS, next to (never on) the machines' topics."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from connectors.mqtt.payloads import LineTopics, MachineTopics, line_oee_payload, oee_payload
from edge.outbox import Outbox
from tests.connectors.line_report import line
from tests.connectors.mqtt.support import make_sink, oee, ref, unique_site, wait_until
from tests.fixtures.mosquitto import MosquittoBroker, Received

MACHINES = ("m1", "m2")  # area1/line1, as the update below


@pytest.mark.parametrize("qos", [1, 2])
async def test_publishes_the_retained_line_topic(
    mosquitto: MosquittoBroker, qos: int, outbox: Outbox
) -> None:
    site = unique_site()
    lt = LineTopics("oee", site, "area1", "line1")
    mt = MachineTopics("oee", ref(site, "m1"))
    update = replace(line(), area="area1", line="line1", window="1h")
    stray = replace(update, line="line9")  # no machine of the sink is on it
    topic = f"oee/{site}/area1/line1/_line/oee/1h"
    assert lt.oee("1h") == topic
    with mosquitto.collector(f"oee/{site}/+/+/+/oee/#", qos=2) as live:
        async with make_sink(mosquitto.port, site, MACHINES, outbox=outbox, qos=qos) as s:
            await wait_until(lambda: s.connected)
            await s.handle([oee("m1", "1h"), update, stray])
            got = await asyncio.to_thread(live.wait_count, 2)
            assert (s.stats.unknown_line, s.stats.unknown_machine) == (1, 0)
    payload = line_oee_payload(lt, update)
    assert got == [
        Received(mt.oee("1h"), oee_payload(mt, oee("m1", "1h")), False, qos),
        Received(topic, payload, False, qos),
    ]
    # A late subscriber gets the line's figures, retained, at the configured QoS.
    with mosquitto.collector(f"oee/{site}/+/+/_line/#", qos=2) as late:
        assert late.wait_count(1) == [Received(topic, payload, True, qos)]
    # The machines' wildcard `…/{machine}/oee/#` matches `_line` too, by design of the
    # namespace: a consumer tells them apart by the `_` no machine id starts with.
    assert payload.startswith(b'{"v":2,"line":"line1","path":"' + site.encode() + b"/area1/line1")
