"""The direct lane for raw tags (`connectors.mqtt.direct`, issue 17), against real
Mosquitto processes: tags go to the broker at once while nothing waits in the outbox, and
through the outbox (in order, nothing lost) while the broker is down or older tags wait.
Each batch carries its number as the value of tag `n`, so the subscriber's order, gaps
and copies are counted exactly."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from connectors.mqtt.broker import free_port
from connectors.mqtt.payloads import MachineTopics
from core.types import Quality, Sample, SampleBatch
from edge.outbox import Outbox
from tests.connectors.mqtt.support import T0, make_sink, ref, unique_site, wait_until
from tests.fixtures.mosquitto import MosquittoBroker, MqttCollector

Factory = Callable[..., MosquittoBroker]
# A persistent subscriber gets QoS 0 messages published while it is away, so it can read
# after the fact what the sink sent during and after an outage, in the broker's order.
QUEUE_QOS0 = "queue_qos0_messages true\n"


def batch(n: int) -> SampleBatch:
    ts = T0 + timedelta(seconds=n)
    return SampleBatch("m1", ts, (Sample("n", n, Quality.GOOD, ts),))


def numbers(reader: MqttCollector, topic: str) -> list[int]:
    return [json.loads(m.payload)["tags"]["n"]["value"] for m in reader.on(topic)]


def depth(box: Outbox) -> int:
    return box.depth("mqtt").records


async def hand_in(sink: object, first: int, n: int) -> None:
    for i in range(first, first + n):  # one emit per poll, as the gateway does
        await sink.handle([batch(i)])  # type: ignore[attr-defined]


async def test_tags_go_straight_to_a_connected_broker_and_arrive_in_order(
    mosquitto: MosquittoBroker, outbox: Outbox
) -> None:
    site = unique_site()
    t = MachineTopics("oee", ref(site))
    with MqttCollector(mosquitto.host, mosquitto.port, [t.tags]) as reader:
        sink = make_sink(mosquitto.port, site, publish_tags={"m1"}, outbox=outbox,
                         tags_direct=True)  # fmt: skip
        async with sink:
            await wait_until(lambda: sink.tags_direct)
            await hand_in(sink, 0, 200)
            assert depth(outbox) == 0  # not one went through the outbox
            await wait_until(lambda: len(reader.on(t.tags)) >= 200)
            await asyncio.sleep(0.1)
            assert numbers(reader, t.tags) == list(range(200))
        assert (sink.stats.direct, sink.stats.acked, sink.stats.errors) == (200, 0, 0)
        assert sink.stats.published == 1 + 200 + 1  # online, the tags, offline


async def test_tags_of_an_outage_go_first_then_the_lane_opens(
    mosquitto_factory: Factory, tmp_path: Path, outbox: Outbox
) -> None:
    """Broker down: 100 tags wait in the outbox, the lane is shut. Back: those 100 go out
    first; only then do the next 100 go direct. The subscriber gets 0..199 once each."""
    site, port = unique_site(), free_port()
    t = MachineTopics("oee", ref(site))
    broker = mosquitto_factory(port=port, persistence_dir=tmp_path / "store", extra_conf=QUEUE_QOS0)
    MqttCollector(broker.host, port, [t.tags], client_id="tags-r", clean_session=False
                  ).start().stop()  # fmt: skip
    broker.stop()  # the reader's session waits on disk
    sink = make_sink(port, site, publish_tags={"m1"}, outbox=outbox, tags_direct=True)
    async with sink:
        await hand_in(sink, 0, 100)
        assert (depth(outbox), sink.stats.direct, sink.tags_direct) == (100, 0, False)
        broker.start()
        await wait_until(lambda: depth(outbox) == 0, within=10)
        await wait_until(lambda: sink.tags_direct)
        await hand_in(sink, 100, 100)
        assert depth(outbox) == 0
    with MqttCollector(broker.host, port, [t.tags], client_id="tags-r", clean_session=False
                       ) as reader:  # fmt: skip
        await wait_until(lambda: len(reader.on(t.tags)) >= 200, within=10)
        await asyncio.sleep(0.2)  # room for a copy, if one were coming
        assert numbers(reader, t.tags) == list(range(200))
    assert (sink.stats.acked, sink.stats.direct, sink.stats.republished) == (100, 100, 0)


async def test_tags_a_previous_run_left_in_the_outbox_go_before_any_direct_one(
    mosquitto_factory: Factory, tmp_path: Path
) -> None:
    """At start the lane is shut until the delivery has read the outbox to its end."""
    site, port, path = unique_site(), free_port(), tmp_path / "outbox.sqlite"
    t = MachineTopics("oee", ref(site))
    with Outbox(path, 64 << 20) as box:
        async with make_sink(port, site, publish_tags={"m1"}, outbox=box, tags_direct=True,
                             shutdown_timeout_s=0.1) as sink:  # fmt: skip
            await hand_in(sink, 0, 50)  # no broker: into the outbox, left there at stop
        assert depth(box) == 50
    broker = mosquitto_factory(port=port)
    with MqttCollector(broker.host, port, [t.tags]) as reader, Outbox(path, 64 << 20) as box:
        sink = make_sink(port, site, publish_tags={"m1"}, outbox=box, tags_direct=True)
        async with sink:
            assert not sink.tags_direct  # not even connected yet
            await hand_in(sink, 50, 1)  # staged behind the 50: the lane stays shut
            await wait_until(lambda: sink.tags_direct, within=10)
            await hand_in(sink, 51, 49)
            await wait_until(lambda: len(reader.on(t.tags)) >= 100, within=10)
            await asyncio.sleep(0.1)
            assert numbers(reader, t.tags) == list(range(100))
        assert (sink.stats.acked, sink.stats.direct) == (51, 49)


async def test_with_tags_direct_off_every_tag_goes_through_the_outbox(
    mosquitto: MosquittoBroker, outbox: Outbox
) -> None:
    site = unique_site()
    sink = make_sink(mosquitto.port, site, publish_tags={"m1"}, outbox=outbox)
    async with sink:
        await wait_until(lambda: sink.connected)
        await asyncio.sleep(0.1)
        assert not sink.tags_direct
        await hand_in(sink, 0, 20)
        await wait_until(lambda: sink.stats.acked == 20)
    assert sink.stats.direct == 0
