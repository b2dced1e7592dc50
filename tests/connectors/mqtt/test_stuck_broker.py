"""A broker that takes the connection and the messages but never acknowledges them (issue
15): without a PUBACK within `ack_timeout_s` the sink drops the connection and connects
again, logs the outage once at ERROR, says so in `problem` (for /ready) and counts it;
the first acknowledgement ends it ("recovered", INFO) and everything is delivered.

The stuck broker is `tests.fixtures.silent_broker.SilentBroker` (real TCP, CONNACK and
PINGRESP, every PUBLISH swallowed); the recovery is a real Mosquitto on the same port."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from core.types import Quality, Sample, SampleBatch
from edge.outbox import Outbox
from tests.connectors.mqtt.support import (
    T0,
    make_sink,
    numbered,
    totals,
    unique_site,
    wait_until,
)
from tests.fixtures.mosquitto import MqttCollector
from tests.fixtures.ports import free_port
from tests.fixtures.silent_broker import SilentBroker


def _reader(port: int, topic: str) -> MqttCollector:
    return MqttCollector("127.0.0.1", port, [topic], client_id="reader", clean_session=False)


def _lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == level and r.name.startswith("connectors.mqtt")
    ]


async def test_a_broker_that_never_acks_is_left_logged_once_and_recovered(
    mosquitto_factory, tmp_path, caplog: pytest.LogCaptureFixture, outbox: Outbox
) -> None:
    site, port = unique_site(), free_port()
    topic = f"oee/{site}/area1/line1/m1/count"
    broker = mosquitto_factory(port=port, persistence_dir=tmp_path / "store")
    # A persistent session, so Mosquitto queues for the reader what comes before it is back.
    _reader(port, topic).start().stop()
    broker.stop()
    caplog.set_level(logging.DEBUG, logger="connectors.mqtt")
    stuck = await SilentBroker(port).start()  # listening before the sink connects
    sink = make_sink(port, site, outbox=outbox, inflight=5, ack_timeout_s=0.5)
    try:
        async with sink:
            await sink.handle(numbered(20))
            # Each connection: CONNACK, 5 records published, 0.5 s without a PUBACK, dropped.
            await wait_until(lambda: stuck.connections >= 3, 10)
            assert sink.stats.ack_timeouts == 2
            await wait_until(lambda: stuck.dropped >= 2, 5)  # the peer saw the sink drop them
            assert sink.problem == f"broker 127.0.0.1:{port} is stuck: no PUBACK within 0.5 s"
            assert sink.stats.acked == 0 and outbox.depth("mqtt").records == 20
            assert _lines(caplog, logging.ERROR) == [
                f"MQTT broker 127.0.0.1:{port} is stuck: no PUBACK within 0.5 s "
                "(5 messages in flight); reconnecting until it acknowledges again"
            ]
            assert _lines(caplog, logging.INFO) == [f"MQTT connected to 127.0.0.1:{port}"]
            await stuck.stop()
            broker.start()
            with _reader(port, topic) as reader:
                got = await asyncio.to_thread(reader.wait_count, 20, topic, 10.0)
                await wait_until(lambda: outbox.depth("mqtt").records == 0)
    finally:
        await stuck.stop()
    assert totals(m.payload for m in got) == list(range(20))  # none lost, in order
    assert sink.problem is None
    assert sink.stats.acked == 20
    assert len(_lines(caplog, logging.ERROR)) == 1  # the stuck broker, then its absence: one outage
    info = _lines(caplog, logging.INFO)
    assert info[0] == f"MQTT connected to 127.0.0.1:{port}"
    assert len(info) == 2 and re.fullmatch(
        rf"MQTT broker 127\.0\.0\.1:{port} acknowledges again after \d+\.\d s: recovered", info[1]
    ), info


async def test_what_needs_no_acknowledgement_does_not_end_a_stuck_outage(
    caplog: pytest.LogCaptureFixture, outbox: Outbox
) -> None:
    """Raw tags go out at QoS 0: paho reports them "published" once written to the
    socket, which a stuck broker takes as well. That is no acknowledgement."""
    site = unique_site()
    caplog.set_level(logging.INFO, logger="connectors.mqtt")
    tags = [
        SampleBatch("m1", T0, (Sample("speed", float(i), Quality.GOOD, T0),)) for i in range(30)
    ]
    stuck = SilentBroker(free_port())
    sink = make_sink(
        stuck.port, site, outbox=outbox, inflight=40, ack_timeout_s=0.3, publish_tags={"m1"}
    )
    async with stuck, sink:
        await sink.handle(numbered(3))
        await wait_until(lambda: sink.stats.ack_timeouts == 1, 10)
        await sink.handle(tags)  # written to the stuck broker's next connections
        await wait_until(lambda: stuck.connections >= 3, 10)
        assert sink.problem is not None
    assert _lines(caplog, logging.ERROR) == [
        f"MQTT broker 127.0.0.1:{stuck.port} is stuck: no PUBACK within 0.3 s "
        "(3 messages in flight); reconnecting until it acknowledges again"
    ]
    assert _lines(caplog, logging.INFO) == [f"MQTT connected to 127.0.0.1:{stuck.port}"]


async def test_a_broker_that_acks_in_time_is_not_called_stuck(
    mosquitto, caplog: pytest.LogCaptureFixture, outbox: Outbox
) -> None:
    site = unique_site()
    caplog.set_level(logging.INFO, logger="connectors.mqtt")
    async with make_sink(mosquitto.port, site, outbox=outbox, ack_timeout_s=0.5) as sink:
        for _ in range(10):  # 1.5 s of traffic: longer than the timeout, acked all along
            await sink.handle(numbered(50))
            await asyncio.sleep(0.15)
        await wait_until(lambda: outbox.depth("mqtt").records == 0)
        assert (sink.stats.ack_timeouts, sink.stats.disconnects, sink.problem) == (0, 0, None)
    assert _lines(caplog, logging.ERROR) == []


async def test_nothing_in_flight_is_nothing_to_wait_for(outbox: Outbox) -> None:
    """A stuck broker with nothing to deliver is not an outage yet: no PUBACK is due."""
    site = unique_site()
    stuck = SilentBroker(free_port())
    sink = make_sink(stuck.port, site, outbox=outbox, ack_timeout_s=0.2)
    async with stuck, sink:
        await wait_until(lambda: sink.connected)
        await asyncio.sleep(0.6)
        assert (sink.stats.ack_timeouts, sink.problem, stuck.connections) == (0, None, 1)
