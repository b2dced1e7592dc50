"""A running gateway whose broker takes the messages and acknowledges none (issue 15):
`/ready` says so (503, the reason in `sink_problems` and `not_ready`), `/metrics` counts
it, the sink reconnects until the broker acknowledges; then everything queued meanwhile
arrives, in order. Before: 100 messages in flight for ever, no log line, `/ready` 200.

The stuck broker is `tests.fixtures.silent_broker.SilentBroker` (real TCP, CONNACK and
PINGRESP, PUBLISH swallowed); the recovery a real Mosquitto on the same port; the PLC
the real Modbus simulator."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from connectors.mqtt.sink import MqttSink
from edge.pipeline.gateway import Gateway
from tests.fixtures.mosquitto import MqttCollector
from tests.fixtures.silent_broker import SilentBroker
from tests.integration.gateway import SCENARIO, free_port, gateway_config, running, wait_until

TOPIC = "oee/plant/area1/stuck/m1/event"


def _samples(text: str) -> dict[str, str]:
    """The exposition's samples: name with labels -> value."""
    return dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))


def _seq(gw: Gateway) -> int:
    state = gw.live.machines["m1"].state
    return 0 if state is None else state.seq


def _reader(port: int) -> MqttCollector:
    return MqttCollector("127.0.0.1", port, [TOPIC], client_id="stuck-reader", clean_session=False)


async def test_a_stuck_broker_makes_the_gateway_unready_until_it_acknowledges(
    simulator_factory, mosquitto_factory, tmp_path: Path
) -> None:
    sim = simulator_factory(SCENARIO)
    port = free_port()
    broker = mosquitto_factory(port=port, persistence_dir=tmp_path / "broker")
    _reader(port).start().stop()  # a persistent session: Mosquitto queues for it
    broker.stop()
    extra = f"mqtt: {{port: {port}, ack_timeout_s: 0.5}}\n"
    config = gateway_config(tmp_path, sim.port, extra, line="stuck")
    api = f"http://127.0.0.1:{config.api.port}"
    stuck = await SilentBroker(port).start()
    problem = f"broker 127.0.0.1:{port} is stuck: no PUBACK within 0.5 s"
    try:
        async with running(config) as gw, httpx.AsyncClient(base_url=api) as http:
            mqtt = gw.sinks[0]
            assert isinstance(mqtt, MqttSink)
            await wait_until(lambda: mqtt.stats.ack_timeouts >= 2, 15, "two timeouts")
            ready = await http.get("/ready")
            metrics = _samples((await http.get("/metrics")).text)
            timeouts = mqtt.stats.ack_timeouts
            await stuck.stop()
            await asyncio.to_thread(broker.start)
            with _reader(port) as reader:
                await wait_until(lambda: mqtt.problem is None, 15, "the broker to acknowledge")
                await wait_until(lambda: _seq(gw) >= 2, 10, "m1 running")
                got = await asyncio.to_thread(reader.wait_count, _seq(gw), TOPIC, 10.0)
                seq = _seq(gw)
                after = await http.get("/ready")
                metrics_after = _samples((await http.get("/metrics")).text)
    finally:
        await stuck.stop()
    assert ready.status_code == 503
    body = ready.json()
    assert body["sink_problems"] == {"mqtt": problem}
    assert f"sink mqtt: {problem}" in body["not_ready"]
    assert metrics["oee_edge_ready"] == "0"
    assert metrics['oee_edge_sink_stuck{sink="mqtt"}'] == "1"
    assert 2 <= int(metrics['oee_edge_sink_ack_timeouts_total{sink="mqtt"}']) <= timeouts
    assert after.status_code == 200 and after.json()["sink_problems"] == {}
    assert metrics_after['oee_edge_sink_stuck{sink="mqtt"}'] == "0"
    assert metrics_after["oee_edge_ready"] == "1"
    # Nothing was lost while the broker swallowed it: every state change, from seq 1, once.
    assert [json.loads(m.payload)["seq"] for m in got][:seq] == list(range(1, seq + 1))
